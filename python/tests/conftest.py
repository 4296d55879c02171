"""Shared paths and helpers of the Python package's tests.

They run in .venv-keras (Keras 3 on JAX, no TensorFlow, the ringboard wheel installed), with the
Swift toolchain off PATH (Scripts/test-python.sh). Event files are compared with the TF 2.0
reference model through the project's conformance scripts, in .venv (TensorBoard's loader).
"""

import os
import re
import signal
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
CONFORMANCE = os.path.join(REPO, "Tests", "Conformance")
TENSORBOARD_PYTHON = os.path.join(REPO, ".venv", "bin", "python")
RINGBOARD = os.path.join(os.path.dirname(sys.executable), "ringboard")


def require_torch(python):
    """Skips the calling test, saying why, when `python`'s environment has no torch (Scripts/setup.sh
    installs torch's CPU build where pip finds it, python/requirements-torch.txt)."""
    found = subprocess.run([python, "-c", "import torch"], capture_output=True, text=True)
    if found.returncode != 0:
        pytest.skip(f"torch is not installed in {os.path.dirname(os.path.dirname(python))} (see python/requirements-torch.txt): "
                    f"{found.stderr.strip().splitlines()[-1] if found.stderr.strip() else 'import failed'}")


def stop_aggregator(rings):
    """Stops the aggregator a trainer started for ring directory `rings`, if one serves it: it
    would otherwise exit only a minute after its last ring. aggregator.info's fields are
    NUL-separated: pid=<aggregator> started_by=<trainer> log_file=<path>."""
    info = os.path.join(rings, "aggregator.info")
    if not os.path.exists(info):
        return
    with open(info) as handle:
        found = re.search(r"(?:^|\0)pid=(\d+)", handle.read())
    if found:
        try:
            os.kill(int(found.group(1)), signal.SIGTERM)
        except ProcessLookupError:
            pass


def run(arguments, cwd=None, env=None, timeout=300):
    """Runs a command to its end; returns (status, stdout, stderr)."""
    environment = dict(os.environ)
    environment.update(env or {})
    completed = subprocess.run(arguments, cwd=cwd, env=environment, capture_output=True, text=True, timeout=timeout)
    return completed.returncode, completed.stdout, completed.stderr


def training_command(work, trace, update_freq="epoch", rank_policy=None, epochs=2, nan_at=None, ring_dir=None, fits=1,
                     evaluate=False, semantics="tf2.0"):
    """The command line of training.py, run in `work` (log_dir "logs/run", relative as users give it)."""
    arguments = [sys.executable, os.path.join(HERE, "training.py"), "--log-dir", "logs/run",
                 "--ring-dir", ring_dir or os.path.join(work, "rings"), "--trace", trace,
                 "--update-freq", str(update_freq), "--epochs", str(epochs)]
    if rank_policy:
        arguments += ["--rank-policy", rank_policy]
    if nan_at is not None:
        arguments += ["--nan-at", str(nan_at)]
    if fits != 1:
        arguments += ["--fits", str(fits)]
    if evaluate:
        arguments.append("--evaluate")
    return arguments + ["--semantics", semantics]


def train(work, env=None, **options):
    """training.py in its own process, in `work`; returns the trace it recorded."""
    trace = os.path.join(work, "trace.jsonl")
    status, out, err = run(training_command(work, trace, **options), cwd=work, env=env)
    assert status == 0 and out.strip().endswith("done"), f"training failed ({status}):\n{out}\n{err}"
    return trace


def reference(trace, out, procs=None):
    """What TF 2.0's callback writes for `trace` (Tests/Conformance/keras_reference.py)."""
    arguments = [TENSORBOARD_PYTHON, os.path.join(CONFORMANCE, "keras_reference.py"), trace, "--out", out]
    if procs:
        arguments += ["--procs", str(procs)]
    status, _, err = run(arguments)
    assert status == 0, err
    return out


def compare(logdir, expected):
    """compare_replay.py: the event files under `logdir` against `expected`; returns its summary."""
    status, out, err = run([TENSORBOARD_PYTHON, os.path.join(CONFORMANCE, "compare_replay.py"), "--logdir", logdir,
                            "--expected", expected])
    assert status == 0, f"{out}\n{err}"
    return out.strip()


def same_events(expected_run, run_directory, served=False):
    """compare_keras3.py: the run's event files against another run's, tag by tag; returns its summary."""
    arguments = [TENSORBOARD_PYTHON, os.path.join(CONFORMANCE, "compare_keras3.py"), expected_run, run_directory]
    status, out, err = run(arguments + (["--served"] if served else []), env={"TF_CPP_MIN_LOG_LEVEL": "3"}, timeout=180)
    assert status == 0, f"{out}\n{err}"
    return out.strip()


def served(logdir, expected):
    """served_check.py: what `tensorboard --load_fast=true` serves for `logdir`; returns its summary."""
    status, out, err = run([TENSORBOARD_PYTHON, os.path.join(HERE, "served_check.py"), logdir, expected], timeout=180)
    assert status == 0, f"{out}\n{err}"
    return out.strip()


@pytest.fixture(scope="session", autouse=True)
def tensorboard_venv():
    if not os.access(TENSORBOARD_PYTHON, os.X_OK):
        pytest.fail(f"{TENSORBOARD_PYTHON} is missing: run Scripts/setup.sh")
