"""A small Keras 3 training run with ringboard.keras.TensorBoard and a hook recorder side by side.

    python training.py --log-dir DIR --ring-dir DIR --trace TRACE.jsonl [--update-freq batch|epoch|N]
                       [--rank-policy chief|mean|per_rank] [--epochs N] [--nan-at BATCH] [--fits N] [--evaluate]
                       [--semantics tf2.0|keras3]

Run in a process of its own (as a trainer is): the recorder writes the hooks Keras called as a
replay trace (DESIGN §5), the TensorBoard callback sends them through the ring. Rank and world
size come from RANK/WORLD_SIZE when set. Prints "done" once fit returned.
"""

import argparse
import os

os.environ.setdefault("KERAS_BACKEND", "jax")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from recorder import Recorder  # noqa: E402
from ringboard.keras import TensorBoard  # noqa: E402


class NaNLoss(keras.callbacks.Callback):
    """Makes one batch's loss NaN in the logs every later callback sees."""

    def __init__(self, batch):
        super().__init__()
        self.batch = batch

    def on_train_batch_end(self, batch, logs=None):
        if batch == self.batch and logs is not None:
            logs["loss"] = float("nan")


def model_and_data(seed=0):
    keras.utils.set_random_seed(seed)
    rng = np.random.default_rng(seed)
    tokens = rng.integers(0, 20, size=(96, 6)).astype("int32")
    labels = (tokens.sum(axis=1) % 2).astype("float32")
    inputs = keras.Input((6,), dtype="int32", name="tokens")
    embedded = keras.layers.Embedding(20, 4, name="embedding")(inputs)
    flat = keras.layers.Flatten(name="flatten")(embedded)
    hidden = keras.layers.Dense(3, activation="relu", name="dense")(flat)
    output = keras.layers.Dense(1, activation="sigmoid", name="dense_1")(hidden)
    model = keras.Model(inputs, output, name="model")
    model.compile(optimizer=keras.optimizers.SGD(0.05), loss="binary_crossentropy", metrics=["accuracy"])
    return model, tokens, labels


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--log-dir", required=True)
    parser.add_argument("--ring-dir", required=True)
    parser.add_argument("--trace", required=True)
    parser.add_argument("--update-freq", default="epoch")
    parser.add_argument("--rank-policy", default=None)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--nan-at", type=int, default=None)
    parser.add_argument("--fits", type=int, default=1, help="fit this many times with the same callbacks")
    parser.add_argument("--evaluate", action="store_true", help="then evaluate and predict with them too")
    parser.add_argument("--semantics", default="tf2.0", choices=("tf2.0", "keras3"))
    args = parser.parse_args()
    update_freq = args.update_freq if args.update_freq in ("batch", "epoch") else int(args.update_freq)

    model, tokens, labels = model_and_data()
    arguments = dict(log_dir=args.log_dir, histogram_freq=1, write_images=True, update_freq=update_freq,
                     embeddings_freq=1, profile_batch=2)
    callback = TensorBoard(**arguments, rank_policy=args.rank_policy, ring_dir=args.ring_dir, semantics=args.semantics)
    header = {"tensorboard": arguments, "rank": callback.rank, "world_size": callback.world_size,
              "rank_policy": callback.rank_policy, "semantics": args.semantics}
    callbacks = ([NaNLoss(args.nan_at)] if args.nan_at is not None else []) + [Recorder(args.trace, header), callback]
    for _ in range(args.fits):
        model.fit(tokens, labels, batch_size=16, epochs=args.epochs, validation_split=0.25, callbacks=callbacks, verbose=0)
    if args.evaluate:
        model.evaluate(tokens, labels, batch_size=32, callbacks=callbacks, verbose=0)
        model.predict(tokens, batch_size=32, callbacks=callbacks, verbose=0)
    callbacks[-2].close()
    print("done")


if __name__ == "__main__":
    main()
