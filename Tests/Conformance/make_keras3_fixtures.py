#!/usr/bin/env python3
"""Record what Keras 3's own `keras.callbacks.TensorBoard` writes, with the hooks it was given.

    KERAS_BACKEND=tensorflow python make_keras3_fixtures.py --out Tests/Conformance/Fixtures/keras3

Needs Keras 3.15.1 on the TensorFlow backend (tensorflow-cpu 2.21, as Scripts/bench-python.sh
installs into .venv). For each scenario it trains a small model with Keras's callback and, side
by side, the recorder of python/tests (semantics "keras3"), and keeps:

  OUT/<scenario>/trace.jsonl   the hooks, as ringboard.keras.TensorBoard(semantics="keras3")
                               hands them to the library (a replay trace, DESIGN §5);
  OUT/<scenario>/keras/        Keras's event files, by run subdirectory (train/, validation/).

Keras opens a new pair of files at every set_model (every fit, evaluate and predict), named
`events.out.tfevents.<time>.<host>.<pid>.<n>.v2` with a process-wide counter n. TensorBoard reads a
directory's files in name order, so `.11.v2` is read before `.9.v2`, and its readers then drop the
earlier file's later steps as out of order. The copies here have n zero-padded, so that
TensorBoard reads them in the order Keras wrote them; their contents are as Keras wrote them.

compare_keras3.py compares them with what `ringboard replay` writes for the trace.

With --with-ringboard (the ringboard wheel installed beside TensorFlow, as Scripts/bench-python.sh
installs it), ringboard.keras.TensorBoard(semantics="keras3") trains side by side too, into a
log_dir of its own, and its run is compared with Keras's at once (compare_keras3.py, the served
view included): the live Python path, where the suite replays the trace.
"""

import argparse
import json
import os
import shutil
import sys
import tempfile

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

import keras  # noqa: E402
import numpy as np  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "python", "tests"))
sys.path.insert(0, HERE)
from recorder import Recorder  # noqa: E402


def dense_model():
    """A Sequential model: Dense kernels (2-D), biases (1-D), sparse categorical labels."""
    keras.utils.set_random_seed(3)
    rng = np.random.default_rng(3)
    x = rng.normal(size=(40, 4)).astype("float32")
    y = (x[:, 0] + x[:, 1] > 0).astype("int32")
    vx = rng.normal(size=(16, 4)).astype("float32")
    vy = (vx[:, 0] > 0).astype("int32")
    model = keras.Sequential([
        keras.Input((4,)),
        keras.layers.Dense(6, activation="relu", name="hidden"),
        keras.layers.Dense(2, activation="softmax", name="out"),
    ], name="sequential")
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model, (x, y), (vx, vy)


def conv_model():
    """A Functional model with weights of every image form: an Embedding table (2-D), a Conv1D
    kernel (3-D), a Conv2D kernel of 3 filters (4-D, squeezed to 3-D), Dense and biases."""
    keras.utils.set_random_seed(5)
    rng = np.random.default_rng(5)
    tokens = rng.integers(0, 12, size=(32, 6)).astype("int32")
    pixels = rng.normal(size=(32, 5, 5, 1)).astype("float32")
    y = ((tokens.sum(axis=1) + (pixels.sum(axis=(1, 2, 3)) > 0)) % 2).astype("float32")
    token_input = keras.Input((6,), dtype="int32", name="tokens")
    pixel_input = keras.Input((5, 5, 1), name="pixels")
    embedded = keras.layers.Embedding(12, 3, name="embedding")(token_input)
    convolved = keras.layers.Conv1D(4, 2, name="conv1d")(embedded)
    image = keras.layers.Conv2D(3, 2, name="conv2d")(pixel_input)
    joined = keras.layers.Concatenate(name="concat")([
        keras.layers.Flatten(name="flat_tokens")(convolved), keras.layers.Flatten(name="flat_pixels")(image)])
    output = keras.layers.Dense(1, activation="sigmoid", name="dense")(joined)
    model = keras.Model([token_input, pixel_input], output, name="functional")
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="binary_crossentropy", metrics=["accuracy", "mae"])
    return model, ([tokens[:24], pixels[:24]], y[:24]), ([tokens[24:], pixels[24:]], y[24:])


class Subclassed(keras.Model):
    """A subclassed model: Keras writes no model JSON for it."""

    def __init__(self):
        super().__init__(name="subclassed")
        self.hidden = keras.layers.Dense(3, activation="tanh", name="hidden")
        self.out = keras.layers.Dense(1, name="out")

    def call(self, inputs):
        return self.out(self.hidden(inputs))


def subclassed_model():
    keras.utils.set_random_seed(7)
    rng = np.random.default_rng(7)
    x = rng.normal(size=(30, 2)).astype("float32")
    y = (x[:, :1] * 2 - x[:, 1:]).astype("float32")
    model = Subclassed()
    model.compile(optimizer=keras.optimizers.SGD(0.05), loss="mse")
    return model, (x, y), (x[:10], y[:10])


# Each scenario: the model, the callback's arguments, and what is done with it.
SCENARIOS = {
    # update_freq "epoch": no batch scalars, no recording condition; histograms and images every
    # epoch; then evaluate (evaluation_<name>_vs_iterations) and predict.
    "epoch": (dense_model, {"histogram_freq": 1, "write_images": True},
              [("fit", {"epochs": 3, "batch_size": 8}), ("evaluate", {"batch_size": 8}), ("predict", {"batch_size": 8})]),
    # update_freq 3 with 5 batches an epoch: batch scalars at batches 3, 6, 9, 12, 15, and the epoch
    # summaries only where the last batch's count is a multiple of 3; the validation batches'
    # own condition for the evaluation summaries; a second fit counts from 1 again.
    "every3": (dense_model, {"histogram_freq": 1, "write_images": True, "update_freq": 3},
               [("fit", {"epochs": 3, "batch_size": 8}), ("evaluate", {"batch_size": 4}), ("fit", {"epochs": 2, "batch_size": 8})]),
    # update_freq "batch" on a Functional model; histograms every 2 epochs with images of
    # every form.
    "batch": (conv_model, {"histogram_freq": 2, "write_images": True, "update_freq": "batch"},
              [("fit", {"epochs": 3, "batch_size": 8})]),
    # A subclassed model: no model JSON; update_freq 2; no histograms.
    "subclassed": (subclassed_model, {"update_freq": 2},
                   [("fit", {"epochs": 2, "batch_size": 10}), ("evaluate", {"batch_size": 10})]),
}


def run_scenario(name, out, work, with_ringboard=False):
    make, arguments, actions = SCENARIOS[name]
    model, (x, y), validation = make()
    log_dir = os.path.join(work, name)
    callback = keras.callbacks.TensorBoard(log_dir=log_dir, **arguments)
    header = {"tensorboard": dict(arguments, log_dir="run"), "semantics": "keras3"}
    trace = os.path.join(out, name, "trace.jsonl")
    os.makedirs(os.path.dirname(trace), exist_ok=True)
    recorder = Recorder(trace, header)
    callbacks = [callback, recorder]
    if with_ringboard:
        from ringboard.keras import TensorBoard

        ours = TensorBoard(log_dir=os.path.join(work, name + "-ringboard"), semantics="keras3", **arguments)
        callbacks.append(ours)
    for action, options in actions:
        if action == "fit":
            model.fit(x, y, validation_data=validation, callbacks=callbacks, verbose=0, shuffle=False, **options)
        elif action == "evaluate":
            model.evaluate(*validation, callbacks=callbacks, verbose=0, **options)
        else:
            model.predict(validation[0], callbacks=callbacks, verbose=0, **options)
    recorder.close()
    if with_ringboard and not ours._run.wait_written(30):
        sys.exit(f"{name}: ringboard's event files were not complete within 30 s")
    for writer in callback._writers.values():
        writer.close()
    keras_dir = os.path.join(out, name, "keras")
    shutil.rmtree(keras_dir, ignore_errors=True)
    for subdirectory in ("train", "validation"):
        source = os.path.join(log_dir, subdirectory)
        if not os.path.isdir(source):
            continue
        os.makedirs(os.path.join(keras_dir, subdirectory))
        for file_name in sorted(os.listdir(source)):
            if file_name.startswith("events.out.tfevents."):
                parts = file_name.split(".")  # events out tfevents <time> <host> <pid> <n> v2
                parts[-2] = parts[-2].zfill(4)
                shutil.copy(os.path.join(source, file_name), os.path.join(keras_dir, subdirectory, ".".join(parts)))
    files = sorted(os.path.relpath(os.path.join(d, f), out) for d, _, fs in os.walk(os.path.join(out, name)) for f in fs)
    if not with_ringboard:
        return files, None
    import compare_keras3

    problems = []
    compare_keras3.compare_files(keras_dir, os.path.join(work, name + "-ringboard"), problems)
    compare_keras3.compare_served(keras_dir, os.path.join(work, name + "-ringboard"), problems)
    return files, problems


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--scenario", action="append", choices=sorted(SCENARIOS))
    parser.add_argument("--with-ringboard", action="store_true", help="train ringboard.keras.TensorBoard side by side and compare")
    options = parser.parse_args()
    if keras.backend.backend() != "tensorflow":
        sys.exit("make_keras3_fixtures.py: Keras's own callback needs the TensorFlow backend (KERAS_BACKEND=tensorflow)")
    failed = False
    with tempfile.TemporaryDirectory() as work:
        for name in options.scenario or sorted(SCENARIOS):
            files, problems = run_scenario(name, options.out, work, options.with_ringboard)
            line = {"scenario": name, "keras": keras.__version__, "files": files}
            if problems is not None:
                line["ringboard"] = problems or "same"
                failed = failed or bool(problems)
            print(json.dumps(line))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
