"""ringboard.keras.TensorBoard with semantics "keras3" (the default) under Keras 3 (JAX, CPU).

What Keras 3's own callback writes for a trace of hooks is checked against the callback's real
output on TensorFlow (Tests/RingboardCLITests/Keras3ConformanceTests.swift). Here real `fit` runs
on JAX, where Keras's callback cannot write at all, must write what `ringboard replay` writes for
the hooks they made: the Python side (learning rate, iterations, weight paths, the model JSON)
adds nothing and loses nothing.
"""

import json
import re
import sys

import pytest

from conftest import RINGBOARD, run, same_events, train


def replay(trace, tmp_path):
    replayed = tmp_path / "replay"
    replayed.mkdir()
    status, out, err = run([RINGBOARD, "replay", trace, "--ring-dir", str(tmp_path / "replay-rings")], cwd=str(replayed))
    assert status == 0, f"{out}\n{err}"
    return replayed / "logs" / "run"


def events_compared(summary):
    match = re.match(r"same: (\d+) tags, (\d+) events", summary)
    assert match, summary
    return int(match.group(1)), int(match.group(2))


@pytest.mark.parametrize("update_freq", ["batch", "epoch", 3])
def test_fit_writes_what_replay_of_its_hooks_writes(tmp_path, update_freq):
    work = tmp_path / "train"
    work.mkdir()
    # 3 epochs of 5 batches: with update_freq 3 the last ends on batch 15, and its summaries are recorded.
    trace = train(str(work), update_freq=update_freq, semantics="keras3", evaluate=True, epochs=3)
    header = json.loads(open(trace).readline())
    assert header["semantics"] == "keras3"
    summary = same_events(str(replay(trace, tmp_path)), str(work / "logs" / "run"), served=update_freq == 3)
    tags, events = events_compared(summary)
    # epoch_{loss,accuracy,learning_rate} in train/, epoch and evaluation scalars in validation/,
    # 6 weights' histograms and 5 images, the model JSON.
    assert tags >= 18 and events > tags, summary


def test_keras3_tags_and_steps(tmp_path):
    """update_freq=3 counts batches from 1 (5 an epoch, 2 epochs): batch scalars at 3, 6, 9; the
    epoch summaries only for epochs ending on a multiple of 3 (neither does: 5, 10); the
    optimizer's iterations sent with each test end."""
    trace = train(str(tmp_path), update_freq=3, semantics="keras3")
    status, report, err = run([RINGBOARD, "inspect", str(tmp_path / "logs" / "run")])
    assert status == 0, err
    lines = report.splitlines()

    def row(tag):
        found = [line for line in lines if re.search(rf"\s{re.escape(tag)}\s", line)]
        assert found, f"{tag} not in\n{report}"
        return found[0]

    assert re.search(r"\s3…9\s+3\b", row("batch_loss")), row("batch_loss")
    assert not any("epoch_loss" in line for line in lines), report
    assert not any("/histogram" in line for line in lines), report
    hooks = [json.loads(line) for line in open(trace)]
    iterations = [hook["iterations"] for hook in hooks if hook.get("hook") == "on_test_end"]
    assert iterations == [5, 10]
    # Validation batches (2 an epoch) counted on from the first: 2 and 4 are not multiples of 3.
    assert not any("evaluation_loss_vs_iterations" in line for line in lines), report


def test_steps_per_second_and_learning_rate(tmp_path):
    from conftest import HERE
    code = (
        "import os\n"
        "os.environ['KERAS_BACKEND'] = 'jax'\n"
        f"import sys; sys.path.insert(0, {HERE!r})\n"
        "from training import model_and_data\n"
        "from ringboard.keras import TensorBoard\n"
        "model, x, y = model_and_data()\n"
        f"callback = TensorBoard(log_dir='logs/run', update_freq='batch', write_steps_per_second=True, ring_dir={str(tmp_path / 'rings')!r})\n"
        "model.fit(x, y, batch_size=16, epochs=2, validation_split=0.25, callbacks=[callback], verbose=0)\n"
    )
    status, out, err = run([sys.executable, "-c", code], cwd=str(tmp_path), timeout=180)
    assert status == 0, err
    status, report, err = run([RINGBOARD, "inspect", str(tmp_path / "logs" / "run")])
    assert status == 0, err
    for tag, steps in (("batch_steps_per_second", r"1…10\s+10\b"), ("epoch_steps_per_second", r"0…1\s+2\b"),
                       ("epoch_learning_rate", r"0…1\s+2\b"), ("batch_loss", r"1…10\s+10\b")):
        found = [line for line in report.splitlines() if re.search(rf"\s{tag}\s", line)]
        assert found and re.search(steps, found[0]), f"{tag}: {found}\n{report}"
