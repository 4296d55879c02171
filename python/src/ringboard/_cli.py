"""`ringboard` on PATH: runs the executable bundled with the package."""

import os
import sys

from ._paths import aggregator_executable


def main():
    executable = aggregator_executable() or os.path.join(os.path.dirname(os.path.abspath(__file__)), "_lib", "ringboard")
    if not os.access(executable, os.X_OK):
        sys.stderr.write(f"ringboard: the bundled executable {executable} is missing; reinstall the package\n")
        return 127
    os.execv(executable, [executable] + sys.argv[1:])
