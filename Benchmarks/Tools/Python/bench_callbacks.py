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

    python bench_callbacks.py paired KIND,KIND[,...] [--batches N] [--rounds N] [--ring-dir DIR] [--log-dir DIR]

paired: the same fit for several kinds in one process, taking turns: each round runs the kinds
forward and then backward (A B B A), so a machine that slows down or speeds up over a round
weighs on every kind alike. Each round gives each kind's ratio to the first kind (the sum of its
two fits over the first kind's two); prints every kind's median fit time, and the median of its
per-round ratios with a distribution-free 95% confidence interval of that median. Fits that a
noisy machine stretches by a second then move single rounds, not the result.

Every line printed is `result <mode> <kind> <value> <unit>`; paired mode also prints
`ratio <kind> <median> <low> <high> <rounds>`.
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
        times.append(fit_once(keras, model, callbacks, x, y, vx, vy))
    print(f"result fit {args.kind} {statistics.median(times):.4f} s")


def fit_once(keras, model, callbacks, x, y, vx, vy):
    # One untimed batch compiles the step functions.
    model.fit(x[:32], y[:32], batch_size=32, epochs=1, verbose=0)
    start = time.perf_counter()
    model.fit(x, y, batch_size=32, epochs=1, validation_data=(vx, vy), callbacks=callbacks, verbose=0)
    return time.perf_counter() - start


def median_interval(values):
    """The median and a distribution-free 95% confidence interval: the order statistics whose
    ranks the binomial(n, 1/2) distribution puts 2.5% outside on either side. Fewer than 6
    values have no such interval: its ends are then NaN."""
    from math import comb
    ordered = sorted(values)
    n = len(ordered)
    low, cumulative = 0, 0.0
    while low < n // 2:
        cumulative += comb(n, low) / 2 ** n
        if cumulative > 0.025:
            break
        low += 1
    if low == 0:
        return statistics.median(ordered), float("nan"), float("nan")
    return statistics.median(ordered), ordered[low - 1], ordered[n - low]


def bench_paired(args):
    import gc
    import keras
    import numpy as np
    kinds = args.kind.split(",")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(args.batches * 32, 8)).astype("float32")
    y = x.sum(axis=1, keepdims=True).astype("float32")
    vx, vy = x[:256], y[:256]
    base_log_dir = args.log_dir
    times = {kind: [] for kind in kinds}
    ratios = {kind: [] for kind in kinds[1:]}
    runs = 0

    def fit(kind):
        nonlocal runs
        runs += 1
        args.log_dir = os.path.join(base_log_dir, f"fit_{runs}")
        keras.backend.clear_session()
        gc.collect()
        model = small_model(keras)
        callback = make_callback(kind, keras, args)
        # A pause lets the aggregator finish the fit before (its checkpoint, its event files'
        # close) outside the next one's timing.
        time.sleep(0.3)
        return fit_once(keras, model, [callback] if callback is not None else [], x, y, vx, vy)

    for kind in kinds:  # A first, untimed round: the aggregator starts, and so does TensorFlow.
        fit(kind)
    for round_ in range(args.rounds):
        this_round = {kind: 0.0 for kind in kinds}
        for kind in kinds + kinds[::-1]:
            elapsed = fit(kind)
            times[kind].append(elapsed)
            this_round[kind] += elapsed
        for kind in kinds[1:]:
            ratios[kind].append(this_round[kind] / this_round[kinds[0]])
        print(f"round {round_ + 1} of {args.rounds}: " + ", ".join(f"{kind} {this_round[kind] / 2:.3f} s" for kind in kinds),
              file=sys.stderr, flush=True)
    for kind in kinds:
        print(f"result paired {kind} {statistics.median(times[kind]):.4f} s")
    for kind in kinds[1:]:
        middle, low, high = median_interval(ratios[kind])
        print(f"ratio {kind} {middle:.4f} {low:.4f} {high:.4f} {len(ratios[kind])}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["call", "fit", "paired"])
    parser.add_argument("kind")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--batches", type=int, default=2000)
    parser.add_argument("--ring-dir", default=None)
    parser.add_argument("--log-dir", default=None)
    args = parser.parse_args()
    args.histogram_freq = 0 if args.mode == "call" else 1
    if args.log_dir is None:
        args.log_dir = tempfile.mkdtemp(prefix="bench-callbacks-")
    if args.mode == "call":
        bench_call(args)
    elif args.mode == "fit":
        bench_fit(args)
    else:
        bench_paired(args)


if __name__ == "__main__":
    sys.exit(main())
