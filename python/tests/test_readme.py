"""The README's Python quick starts, run as they stand: each ```python <file> block is taken from
the README (Tests/Conformance/readme_quickstart.py) and run in a directory of its own with this
environment's Python and the installed wheel, which starts its bundled aggregator; TensorBoard's
loader then checks that the logs hold what the quick start writes."""

import os
import subprocess
import sys

import pytest

from conftest import CONFORMANCE, REPO, TENSORBOARD_PYTHON, run, stop_aggregator

QUICKSTART = os.path.join(CONFORMANCE, "readme_quickstart.py")


@pytest.fixture(scope="module")
def quickstarts(tmp_path_factory):
    out = str(tmp_path_factory.mktemp("readme"))
    status, listed, err = run([TENSORBOARD_PYTHON, QUICKSTART, "extract", os.path.join(REPO, "README.md"), "python", out])
    assert status == 0, err
    assert set(listed.split()) == {"keras_quickstart.py", "writer_quickstart.py"}, listed
    return out


@pytest.mark.parametrize("name, kind, logdir", [("keras_quickstart.py", "keras", "logs/keras"),
                                                ("writer_quickstart.py", "writer", "logs/writer")])
def test_quickstart_runs_as_written(quickstarts, tmp_path, name, kind, logdir):
    work = tmp_path / "work"
    work.mkdir()
    os.replace(os.path.join(quickstarts, name), work / name)
    rings = tmp_path / "rings"
    try:
        # As a reader runs it: none of the suite's settings (KERAS_BACKEND among them).
        environment = {key: value for key, value in os.environ.items() if not key.startswith(("KERAS", "RINGBOARD"))}
        environment["RINGBOARD_RING_DIR"] = str(rings)
        completed = subprocess.run([sys.executable, name], cwd=work, env=environment, capture_output=True, text=True,
                                   timeout=300)
        status, out, err = completed.returncode, completed.stdout, completed.stderr
        assert status == 0, f"{name} failed ({status}):\n{out}\n{err}"
        status, out, err = run([TENSORBOARD_PYTHON, QUICKSTART, "check", kind, str(work / logdir)])
        assert status == 0, f"{out}\n{err}"
    finally:
        stop_aggregator(str(rings))
