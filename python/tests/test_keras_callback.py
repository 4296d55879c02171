"""ringboard.keras.TensorBoard under Keras 3 (JAX, CPU): real `fit` runs, their event files read
with TensorBoard's loader and compared with the TF 2.0 callback's for the same hooks, and with
`ringboard replay` of those hooks."""

import json
import os
import re
import sys

import pytest

from conftest import HERE, RINGBOARD, compare, reference, run, served, train


def series_count(summary):
    match = re.match(r"compare_replay: (\d+) series match", summary)
    assert match, summary
    return int(match.group(1))


@pytest.mark.parametrize("update_freq", ["batch", "epoch", 3])
def test_fit_writes_what_tf20_writes_and_what_replay_writes(tmp_path, update_freq):
    work = tmp_path / "train"
    work.mkdir()
    trace = train(str(work), update_freq=update_freq)
    expected = reference(trace, str(tmp_path / "expected.json"))
    # Scalars of train and validation, 6 histograms and their images, the embeddings, the graph.
    assert series_count(compare(str(work / "logs" / "run"), expected)) >= 12
    if update_freq == "batch":
        # TensorBoard's Rust data server reads the runs too.
        assert served(str(work / "logs" / "run"), expected).startswith("served: ")

    # The same hooks through `ringboard replay` (the Python path adds nothing and loses nothing).
    replayed = tmp_path / "replay"
    replayed.mkdir()
    status, out, err = run([RINGBOARD, "replay", trace, "--ring-dir", str(tmp_path / "replay-rings")], cwd=str(replayed))
    assert status == 0, f"{out}\n{err}"
    assert compare(str(replayed / "logs" / "run"), expected) == compare(str(work / "logs" / "run"), expected)


def test_fit_twice_then_evaluate_and_predict(tmp_path):
    """The same callback through two fits (TF 2.0's counters go on; its writers are closed at each
    train end and open new files), then evaluate and predict (which write nothing)."""
    trace = train(str(tmp_path), update_freq="batch", fits=2, evaluate=True)
    hooks = [json.loads(line).get("hook") for line in open(trace)]
    assert hooks.count("on_train_begin") == 2 and "on_predict_batch_end" in hooks and hooks[-1] == "on_predict_end"
    expected = reference(trace, str(tmp_path / "expected.json"))
    steps = [step for step, _ in json.load(open(expected))["runs"]["train"]["scalars"]["batch_loss"]]
    assert steps == list(range(20))
    assert series_count(compare(str(tmp_path / "logs" / "run"), expected)) >= 12


def test_batch_scalars_follow_update_freq(tmp_path):
    """update_freq=3 counts samples as TF 2.0 does; Keras 3's logs have no `size`, so each batch counts 1."""
    trace = train(str(tmp_path), update_freq=3)
    expected = json.load(open(reference(trace, str(tmp_path / "expected.json"))))
    steps = [step for step, _ in expected["runs"]["train"]["scalars"]["batch_loss"]]
    assert steps == [2, 5, 8]  # every third batch of 10, at total_batches_seen


def test_a_nan_metric_is_written_as_nan(tmp_path):
    trace = train(str(tmp_path), update_freq="batch", nan_at=1)
    expected = reference(trace, str(tmp_path / "expected.json"))
    compare(str(tmp_path / "logs" / "run"), expected)
    values = dict(json.load(open(expected))["runs"]["train"]["scalars"]["batch_loss"])
    assert values[1] == "NaN"


def test_no_aggregator_never_blocks_fit(tmp_path):
    """With no aggregator, hooks wait in the ring; on_train_end gives up after flush_timeout."""
    code = (
        "import os, warnings\n"
        "os.environ['KERAS_BACKEND'] = 'jax'\n"
        "import sys; sys.path.insert(0, %r)\n"
        "from training import model_and_data\n"
        "from ringboard.keras import TensorBoard\n"
        "model, x, y = model_and_data()\n"
        "callback = TensorBoard(log_dir='logs/run', update_freq='batch', ring_dir=%r, start_aggregator=False,\n"
        "                       flush_timeout=0.5)\n"
        "with warnings.catch_warnings(record=True) as caught:\n"
        "    warnings.simplefilter('always')\n"
        "    model.fit(x, y, batch_size=16, epochs=1, callbacks=[callback], verbose=0)\n"
        "print([str(w.message) for w in caught if 'ringboard' in str(w.message)])\n"
    ) % (os.path.dirname(os.path.abspath(__file__)), str(tmp_path / "rings"))
    status, out, err = run([sys.executable, "-c", code], cwd=str(tmp_path), env={"RINGBOARD_AGGREGATE": "off"}, timeout=120)
    assert status == 0, err
    assert "were not complete within 0.5 s" in out
    assert not (tmp_path / "logs").exists()
    # The records are in the ring, for an aggregator that comes later.
    assert any(name.endswith(".ring") for name in os.listdir(tmp_path / "rings"))


def fit_in_process(tmp_path, body):
    """Runs `body` (Python source) after making `model, x, y` of training.py, in a new process."""
    code = (
        "import os, warnings\n"
        "os.environ['KERAS_BACKEND'] = 'jax'\n"
        f"import sys; sys.path.insert(0, {HERE!r})\n"
        "import keras, numpy as np\n"
        "from training import model_and_data\n"
        "from ringboard.keras import TensorBoard\n"
        "model, x, y = model_and_data()\n"
    ) + body
    status, out, err = run([sys.executable, "-c", code], cwd=str(tmp_path), timeout=180)
    assert status == 0, err
    return out


def test_unsupported_weight_dtypes_are_logged_as_float32_with_a_warning(tmp_path):
    """float16 weights: TF 2.0's histograms take them as numbers; here they become float32, said once."""
    out = fit_in_process(tmp_path, (
        "keras.config.set_dtype_policy('float16')\n"
        "model, x, y = model_and_data()\n"
        f"callback = TensorBoard(log_dir='logs/run', histogram_freq=1, ring_dir={str(tmp_path / 'rings')!r})\n"
        "with warnings.catch_warnings(record=True) as caught:\n"
        "    warnings.simplefilter('always')\n"
        "    model.fit(x, y, batch_size=16, epochs=2, validation_split=0.25, callbacks=[callback], verbose=0)\n"
        "print(sum('logged as float32' in str(w.message) for w in caught))\n"))
    assert out.strip().splitlines()[-1] == "1"
    status, report, err = run([RINGBOARD, "inspect", str(tmp_path / "logs" / "run")])
    assert status == 0, err
    assert re.search(r"histogram +dense/kernel/histogram +0…1 +2", report), report


def test_a_model_without_weights_is_logged_without_histograms(tmp_path):
    fit_in_process(tmp_path, (
        "model = keras.Sequential([keras.Input((1,)), keras.layers.Activation('sigmoid', name='act')])\n"
        "model.compile(loss='mse')\n"
        f"callback = TensorBoard(log_dir='logs/run', histogram_freq=1, ring_dir={str(tmp_path / 'rings')!r})\n"
        "model.fit(x[:, :1].astype('float32'), y.reshape(-1, 1), batch_size=16, epochs=2, validation_split=0.25,\n"
        "          callbacks=[callback], verbose=0)\n"))
    status, report, err = run([RINGBOARD, "inspect", str(tmp_path / "logs" / "run")])
    assert status == 0, err
    assert "epoch_loss" in report and "histogram" not in report, report
