"""Where the package's native parts are."""

import os

_HERE = os.path.dirname(os.path.abspath(__file__))


def aggregator_executable():
    """The `ringboard` executable bundled with the package, or None to let the library look
    ($RINGBOARD_AGGREGATE_BIN, beside the program, PATH)."""
    if os.environ.get("RINGBOARD_AGGREGATE_BIN"):
        return None
    bundled = os.path.join(_HERE, "_lib", "ringboard")
    return bundled if os.access(bundled, os.X_OK) else None
