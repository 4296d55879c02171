#!/usr/bin/env python3
"""The trainer-side cost of TensorBoard logging from Python, one measurement per process.

    python bench_callbacks.py call KIND [--rounds N] [--ring-dir DIR] [--log-dir DIR]
    python bench_callbacks.py fit KIND [--batches N] [--rounds N] [--ring-dir DIR] [--log-dir DIR]

call: `on_train_batch_end(batch, logs)` with 4 float metrics, called directly, timed over at
least 0.3 s a round; prints the median over rounds, in ns a call. KIND:
    noop         a keras.callbacks.Callback whose on_train_batch_end does nothing
    ringboard    ringboard.keras.TensorBoard(update_freq="batch")
    keras        keras.callbacks.TensorBoard(update_freq="batch") (needs TensorFlow)
    tensorboardx 4 tensorboardX SummaryWriter.add_scalar calls (not a callback)
fit: `model.fit` of a small model (8 → 16 → 1 Dense), N batches of 32 in one epoch, validation
data, update_freq="batch", histogram_freq=1; prints the median wall time in seconds. KIND: none,
noop, ringboard, keras. The backend is KERAS_BACKEND's.

Every line printed is `result <mode> <kind> <value> <unit>`.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def logs_for(batch):
    return {"loss": 0.5 / (batch + 1), "accuracy": 0.9, "mae": 0.1, "mse": 0.2}


def small_model(keras):
    model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(16, activation="relu"), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    return model


def make_callback(kind, keras, args):
    if kind == "noop":
        class NoOp(keras.callbacks.Callback):
            def on_train_batch_end(self, batch, logs=None):
                pass
        return NoOp()
    if kind == "ringboard":
        from ringboard.keras import TensorBoard
        return TensorBoard(log_dir=args.log_dir, update_freq="batch", histogram_freq=args.histogram_freq,
                           profile_batch=0, ring_dir=args.ring_dir)
    if kind == "keras":
        return keras.callbacks.TensorBoard(log_dir=args.log_dir, update_freq="batch", histogram_freq=args.histogram_freq,
                                           profile_batch=0)
    if kind == "none":
        return None
    raise SystemExit(f"unknown kind {kind}")


def bench_call(args):
    rounds = []
    if args.kind == "tensorboardx":
        from tensorboardX import SummaryWriter
        writer = SummaryWriter(args.log_dir)
        names = ("loss", "accuracy", "mae", "mse")

        def call(batch, logs):
            for name in names:
                writer.add_scalar("batch_" + name, logs[name], batch)
    else:
        import keras
        callback = make_callback(args.kind, keras, args)
        model = small_model(keras)
        callback.set_model(model)
        callback.set_params({"epochs": 1, "steps": None, "verbose": 0})
        callback.on_train_begin()
        callback.on_epoch_begin(0)
        call = callback.on_train_batch_end
    logs = logs_for(0)
    batch = 0
    for _ in range(args.rounds):
        calls = 0
        start = time.perf_counter_ns()
        deadline = start + 300_000_000
        now = start
        while now < deadline:
            for _ in range(100):
                logs["loss"] = 0.5 / (batch + 1)
                call(batch, logs)
                batch += 1
            calls += 100
            now = time.perf_counter_ns()
        rounds.append((now - start) / calls)
    print(f"result call {args.kind} {statistics.median(rounds):.1f} ns")
    if args.kind == "tensorboardx":
        writer.close()
    elif args.kind in ("ringboard", "keras"):
        callback.on_train_end()


def bench_fit(args):
    import keras
    import numpy as np
    rng = np.random.default_rng(0)
    samples = args.batches * 32
    x = rng.normal(size=(samples, 8)).astype("float32")
    y = x.sum(axis=1, keepdims=True).astype("float32")
    vx, vy = x[:256], y[:256]
    times = []
    for round_ in range(args.rounds):
        model = small_model(keras)
        callback = make_callback(args.kind, keras, args)
        callbacks = [callback] if callback is not None else []
        # One untimed batch compiles the step functions.
        model.fit(x[:32], y[:32], batch_size=32, epochs=1, verbose=0)
        start = time.perf_counter()
        model.fit(x, y, batch_size=32, epochs=1, validation_data=(vx, vy), callbacks=callbacks, verbose=0)
        times.append(time.perf_counter() - start)
    print(f"result fit {args.kind} {statistics.median(times):.4f} s")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["call", "fit"])
    parser.add_argument("kind")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--batches", type=int, default=2000)
    parser.add_argument("--ring-dir", default=None)
    parser.add_argument("--log-dir", default=None)
    args = parser.parse_args()
    args.histogram_freq = 1 if args.mode == "fit" else 0
    if args.log_dir is None:
        args.log_dir = tempfile.mkdtemp(prefix="bench-callbacks-")
    if args.mode == "call":
        bench_call(args)
    else:
        bench_fit(args)


if __name__ == "__main__":
    sys.exit(main())
