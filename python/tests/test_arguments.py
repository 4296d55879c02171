"""The callback's arguments: Keras's errors in Keras's words, from the constructor, and rank and
world size from the launcher's environment."""

import os

import pytest

os.environ.setdefault("KERAS_BACKEND", "jax")

from ringboard._environment import distribution, from_environment  # noqa: E402
from ringboard.keras import TensorBoard  # noqa: E402


@pytest.fixture
def ring(tmp_path):
    return str(tmp_path / "rings")


@pytest.mark.parametrize(
    "arguments, error, words",
    [
        ({"update_freq": "sometimes"}, ValueError, "`update_freq` must be 'batch', 'epoch' or a positive integer"),
        ({"update_freq": 0}, ValueError, "Received: update_freq=0"),
        ({"histogram_freq": -1}, ValueError, "`histogram_freq` must be a non-negative integer"),
        ({"histogram_freq": 1.5}, TypeError, "`histogram_freq` must be an integer"),
        ({"profile_batch": -1}, ValueError, "profile_batch must be a non-negative integer or 2-tuple of positive integers"),
        ({"profile_batch": "a,b"}, ValueError, "profile_batch must be a non-negative integer"),
        ({"embeddings_metadata": 3}, TypeError, "`embeddings_metadata` must be a string, a dict or None"),
        ({"rank_policy": "everyone"}, ValueError, "`rank_policy` must be one of"),
        ({"semantics": "tf1"}, ValueError, "`semantics` must be one of"),
        ({"rank": 2, "world_size": 2}, ValueError, "`rank` must be in [0, 2)"),
        ({"flush_timeout": -1}, ValueError, "`flush_timeout` must be a number of seconds"),
    ],
)
def test_bad_arguments_are_refused_by_the_constructor(ring, arguments, error, words):
    with pytest.raises(error) as raised:
        TensorBoard(ring_dir=ring, start_aggregator=False, **arguments)
    assert words in str(raised.value)


def test_a_bad_log_dir_is_refused_by_the_library(ring):
    with pytest.raises(ValueError) as raised:
        TensorBoard(log_dir="a\0b", ring_dir=ring, start_aggregator=False)
    assert "log_dir" in str(raised.value)


def test_defaults_are_keras3s_and_tf20s_under_tf20(ring):
    callback = TensorBoard(ring_dir=ring, start_aggregator=False)
    assert (callback.semantics, callback.log_dir, callback.histogram_freq, callback.write_graph, callback.update_freq,
            callback.profile_batch, callback.rank, callback.world_size, callback.rank_policy) == (
        "keras3", "logs", 0, True, "epoch", 0, 0, 1, "chief")
    callback = TensorBoard(ring_dir=ring, start_aggregator=False, semantics="tf2.0")
    assert (callback.semantics, callback.profile_batch) == ("tf2.0", 2)


def test_rank_from_the_environment():
    assert from_environment({}) is None
    assert from_environment({"RANK": "3", "WORLD_SIZE": "4"}) == (3, 4)
    cluster = '{"cluster": {"chief": ["a:1"], "worker": ["b:1", "c:1"]}, "task": {"type": "worker", "index": 1}}'
    assert from_environment({"TF_CONFIG": cluster}) == (2, 3)
    chief = '{"cluster": {"chief": ["a:1"], "worker": ["b:1"]}, "task": {"type": "chief", "index": 0}}'
    assert from_environment({"TF_CONFIG": chief}) == (0, 2)
    workers = '{"cluster": {"worker": ["b:1", "c:1"]}, "task": {"type": "worker", "index": 1}}'
    assert from_environment({"TF_CONFIG": workers}) == (1, 2)
    # An explicit argument wins over the environment.
    assert distribution(rank=0, environ={"RANK": "1", "WORLD_SIZE": "2"}) == (0, 2)
    assert distribution(environ={"RANK": "1", "WORLD_SIZE": "2"}) == (1, 2)
    with pytest.raises(ValueError, match="RANK='x' is not an integer"):
        from_environment({"RANK": "x", "WORLD_SIZE": "2"})
    with pytest.raises(ValueError, match="TF_CONFIG"):
        from_environment({"TF_CONFIG": "{not json"})


SPAN_SCRIPT = r"""
import os, sys, time
os.environ.setdefault("KERAS_BACKEND", "jax")
import keras, numpy as np
from ringboard.keras import TensorBoard

board = TensorBoard(log_dir="logs/run", profile_batch=2, ring_dir=sys.argv[1])

class Timed(keras.callbacks.Callback):  # before the board: its batch end comes before the board's
    def on_train_batch_end(self, batch, logs=None):
        with board.span(f"after batch {batch}"):
            time.sleep(0.002)

x = np.random.rand(64, 4).astype("float32")
model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
model.compile(optimizer="sgd", loss="mse")
model.fit(x, x[:, :1], batch_size=16, epochs=1, verbose=0, callbacks=[Timed(), board])
"""


def test_spans_time_work_within_the_profiled_batch(tmp_path):
    """`TensorBoard.span` (ringboard_span, ABI 5): only the traced batch's span is in its trace,
    between that batch's hooks, and in the .xplane.pb beside it, as XProf reads it."""
    import glob
    import gzip
    import json
    import subprocess
    import sys

    from conftest import CONFORMANCE, TENSORBOARD_PYTHON, stop_aggregator

    rings = tmp_path / "rings"
    try:
        completed = subprocess.run([sys.executable, "-c", SPAN_SCRIPT, str(rings)], cwd=tmp_path, capture_output=True, text=True,
                                   timeout=300)
        assert completed.returncode == 0, completed.stderr
    finally:
        stop_aggregator(str(rings))
    [trace] = glob.glob(str(tmp_path / "logs" / "run" / "train" / "plugins" / "profile" / "*" / "*.trace.json.gz"))
    with gzip.open(trace) as handle:
        events = [e for e in json.load(handle)["traceEvents"] if e["ph"] == "X"]
    names = [e["name"] for e in sorted(events, key=lambda e: e["ts"])]
    assert names == ["on_train_batch_begin", "after batch 1", "on_train_batch_end"], names
    span = next(e for e in events if e["name"] == "after batch 1")
    assert span["dur"] >= 2000 and span["tid"] > 0
    checked = subprocess.run([TENSORBOARD_PYTHON, os.path.join(CONFORMANCE, "xplane.py"), str(tmp_path / "logs")],
                             capture_output=True, text=True)
    assert checked.returncode == 0 and "3 spans in both files" in checked.stdout, checked.stdout
