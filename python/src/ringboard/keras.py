"""`ringboard.keras.TensorBoard`: the Keras TensorBoard callback, through Ringboard's ring.

A drop-in for `keras.callbacks.TensorBoard` on Keras 3, on any backend (JAX, torch,
TensorFlow), that never imports TensorFlow. Each hook is handed to libringboard.so, which
appends a compact record to this process's shared-memory ring; the aggregator (`ringboard
aggregate`, started on demand) applies the TensorBoard contract and writes the event files.

    from ringboard.keras import TensorBoard
    model.fit(x, y, validation_data=(vx, vy), callbacks=[TensorBoard(log_dir="logs/fit")])
"""

import contextlib
import json
import numbers
import time
import warnings

import keras
import numpy as np

from . import _keras3, _native
from ._environment import distribution, resolve_rank_policy
from ._paths import aggregator_executable

__all__ = ["TensorBoard"]

# ringboard.h's ringboard_hook_kind.
_TRAIN_BEGIN, _TRAIN_END, _EPOCH_BEGIN, _EPOCH_END = 0, 1, 2, 3
_TEST_BEGIN, _TEST_END, _PREDICT_BEGIN, _PREDICT_END = 4, 5, 6, 7
_TRAIN_BATCH_BEGIN, _TRAIN_BATCH_END = 8, 9
_TEST_BATCH_BEGIN, _TEST_BATCH_END = 10, 11
_PREDICT_BATCH_BEGIN, _PREDICT_BATCH_END = 12, 13

# ringboard.h's ringboard_semantics.
_SEMANTICS = {"keras3": 1, "tf2.0": 0}


def _non_negative_int(name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"`{name}` must be an integer. Received: {name}={value!r}")
    if value < 0:
        raise ValueError(f"`{name}` must be a non-negative integer. Received: {name}={value}")
    return int(value)


def _profile_batch(value):
    message = (
        "profile_batch must be a non-negative integer or 2-tuple of positive integers. A pair of "
        "positive integers signifies a range of batches to profile. Found: " + str(value)
    )
    if isinstance(value, str):
        try:
            value = [int(part) for part in value.split(",")]
        except ValueError:
            raise ValueError(message) from None
        if len(value) == 1:
            value = value[0]
    if isinstance(value, bool):
        raise ValueError(message)
    if isinstance(value, numbers.Integral):
        start = stop = int(value)
    elif isinstance(value, (tuple, list)) and len(value) == 2 and all(
        isinstance(part, numbers.Integral) and not isinstance(part, bool) for part in value
    ):
        start, stop = int(value[0]), int(value[1])
    else:
        raise ValueError(message)
    if start < 0 or stop < start:
        raise ValueError(message)
    if stop != start:
        # One batch is traced; a range is traced from its first batch.
        warnings.warn(f"profile_batch={value!r}: ringboard traces one batch; batch {start} is traced")
    return start


class TensorBoard(keras.callbacks.Callback):
    """Enable visualizations for TensorBoard, as `keras.callbacks.TensorBoard` does.

    Args:
        log_dir: The run's directory, absolute or relative to the working directory.
        histogram_freq: Weight histograms every this many epochs (0: none).
        write_graph: Write the model graph.
        write_images: Write the weights as images too.
        write_steps_per_second: Write the training speed (`batch_steps_per_second`,
            `epoch_steps_per_second`), as Keras 3 does; TF 2.0 does not write it.
        update_freq: `"batch"`, `"epoch"` or an integer: a number of batches (Keras 3), or of
            samples under `semantics="tf2.0"`.
        profile_batch: The batch whose hooks are traced (0: none; default 0, and 2 under
            `semantics="tf2.0"`, as each callback defaults).
        embeddings_freq: Embeddings every this many epochs (0: none).
        embeddings_metadata: A metadata file for every Embedding layer, or a dict by layer name.
        semantics: `"keras3"` (the default): what Keras 3's own callback writes, event for
            event. `"tf2.0"`: exactly what TF 2.0's callback writes for the same hooks.
        rank, world_size: This process among the processes that train together; by default
            from `RANK`/`WORLD_SIZE` (torchrun) or `TF_CONFIG`, else 0 of 1.
        rank_policy: `"chief"` (rank 0's hooks, as Keras writes), `"mean"` or `"per_rank"`.
        ring_dir: The aggregator's ring directory (default `$RINGBOARD_RING_DIR`, else `/dev/shm/ringboard-<uid>`).
        flush_timeout: Seconds `on_train_end` waits for the event files to be complete.
        start_aggregator: Start an aggregator when none serves the ring directory.
    """

    def __init__(
        self,
        log_dir="logs",
        histogram_freq=0,
        write_graph=True,
        write_images=False,
        write_steps_per_second=False,
        update_freq="epoch",
        profile_batch=None,
        embeddings_freq=0,
        embeddings_metadata=None,
        *,
        semantics="keras3",
        rank=None,
        world_size=None,
        rank_policy=None,
        ring_dir=None,
        flush_timeout=10.0,
        start_aggregator=True,
    ):
        super().__init__()
        if semantics not in _SEMANTICS:
            raise ValueError(f"`semantics` must be one of {sorted(_SEMANTICS)}. Received: semantics={semantics!r}")
        self.semantics = semantics
        keras3 = semantics == "keras3"
        self.log_dir = str(log_dir)
        self.histogram_freq = _non_negative_int("histogram_freq", histogram_freq)
        self.write_graph = bool(write_graph)
        self.write_images = bool(write_images)
        self.write_steps_per_second = bool(write_steps_per_second)
        self.embeddings_freq = _non_negative_int("embeddings_freq", embeddings_freq)
        if embeddings_metadata is not None and not isinstance(embeddings_metadata, (str, dict)):
            raise TypeError(
                "`embeddings_metadata` must be a string, a dict or None. "
                f"Received: embeddings_metadata={embeddings_metadata!r}"
            )
        self.embeddings_metadata = embeddings_metadata
        if update_freq == "batch":
            kind, samples = 1, 0
        elif update_freq == "epoch":
            kind, samples = 0, 0
        elif isinstance(update_freq, numbers.Integral) and not isinstance(update_freq, bool) and update_freq >= 1:
            kind, samples = 2, int(update_freq)
        else:
            raise ValueError(
                "`update_freq` must be 'batch', 'epoch' or a positive integer "
                f"(of {'batches' if keras3 else 'samples'}). Received: update_freq={update_freq!r}"
            )
        self.update_freq = 1 if update_freq == "batch" else update_freq
        if profile_batch is None:
            profile_batch = 0 if keras3 else 2
        self.profile_batch = _profile_batch(profile_batch)
        if isinstance(flush_timeout, bool) or not isinstance(flush_timeout, numbers.Real) or not flush_timeout >= 0:
            raise ValueError(f"`flush_timeout` must be a number of seconds ≥ 0. Received: flush_timeout={flush_timeout!r}")
        self.flush_timeout = float(flush_timeout)
        self.rank, self.world_size = distribution(rank, world_size)
        self.rank_policy = rank_policy if rank_policy is not None else "chief"
        policy = resolve_rank_policy(self.rank_policy)
        self._run = _native.Run(
            self.log_dir,
            histogram_freq=self.histogram_freq,
            write_graph=self.write_graph,
            write_images=self.write_images,
            update_freq=kind,
            update_freq_samples=samples,
            profile_batch=self.profile_batch,
            embeddings_freq=self.embeddings_freq,
            embeddings_metadata=embeddings_metadata,
            rank=self.rank,
            world_size=self.world_size,
            rank_policy=policy,
            ring_directory=None if ring_dir is None else str(ring_dir),
            aggregator_executable=aggregator_executable(),
            start_aggregator=bool(start_aggregator),
            semantics=_SEMANTICS[semantics],
        )
        for warning in filter(None, self._run.warnings.split("\n")):
            warnings.warn(warning)
        self._weights = []  # the variables, in set_model's order
        self._hook = self._run.hook
        self._warned_dtypes = set()
        self._keras3 = keras3
        # write_steps_per_second (Keras 3): when the batch and the epoch began, and the
        # optimizer's iterations then.
        self._batch_start_time = 0.0
        self._epoch_start_time = 0.0
        self._epoch_start_iterations = 0
        if keras3 and self.write_steps_per_second:
            # The batch hooks time the batch only when asked: otherwise they check nothing.
            self.on_train_batch_begin = self._timed_train_batch_begin
            self.on_train_batch_end = self._timed_train_batch_end

    # --- set_params, set_model ----------------------------------------------------------------

    def set_params(self, params):
        super().set_params(params)
        params = params or {}
        metrics = params.get("metrics") or []
        # Keras 3 does not say whether there is validation data (Keras 2 did, as do_validation).
        self._run.set_params(
            batch_size=params.get("batch_size"),
            epochs=params.get("epochs"),
            steps=params.get("steps"),
            samples=params.get("samples"),
            do_validation=bool(params.get("do_validation", True)),
            metrics=[str(name) for name in metrics],
        )

    def set_model(self, model):
        super().set_model(model)
        layers = []
        self._weights = []
        for layer in model.layers:
            weights = []
            for variable in layer.weights:
                name = _keras3.weight_name(layer, variable, self._keras3)
                weights.append((name, tuple(int(d) for d in variable.shape)))
                self._weights.append(variable)
            try:
                config = json.dumps(layer.get_config(), default=str)
            except Exception:  # a layer whose config does not serialize: its name only
                config = None
            layers.append((layer.name, type(layer).__name__, config, weights))
        model_json = None
        if not self._keras3 or _keras3.writes_model_summary(model):
            try:
                model_json = model.to_json()
            except Exception as error:
                warnings.warn(f"model.to_json() failed ({error}); the graph is made from the layers")
        self._run.set_model(model.name, model_json, layers)

    # --- profiling ----------------------------------------------------------------------------

    @contextlib.contextmanager
    def span(self, name):
        """Times the `with` block as a span named `name` of the profiled batch's trace
        (`profile_batch`), on this thread: TensorBoard's profile plugin shows it between the
        batch's hooks. Each block sends one record; the aggregator keeps those within the traced
        batch and drops the others, so a training loop may time every batch this way::

            with callback.span("load_batch"):
                batch = next(data)
        """
        start = time.time_ns()
        try:
            yield
        finally:
            self._run.span(str(name), start, time.time_ns() - start)

    # --- hooks --------------------------------------------------------------------------------

    def on_train_begin(self, logs=None):
        self._hook(_TRAIN_BEGIN, 0, logs)

    def on_train_end(self, logs=None):
        self._hook(_TRAIN_END, 0, logs)
        # Complete event files before fit returns, as a closed writer leaves them.
        if not self._run.wait_written(self.flush_timeout):
            warnings.warn(
                f"ringboard: the event files were not complete within {self.flush_timeout} s; "
                "the aggregator writes the rest when it catches up"
            )

    def on_epoch_begin(self, epoch, logs=None):
        if self._keras3 and self.write_steps_per_second:
            self._epoch_start_iterations = _keras3.iterations(self.model)
            self._epoch_start_time = time.time()
        self._hook(_EPOCH_BEGIN, epoch, logs)

    def on_epoch_end(self, epoch, logs=None):
        if self._weights and self._run.reads_weights(epoch):
            self._send_weights()
        if self._keras3 and logs:
            # What Keras 3 appends to the epoch's train logs before writing them.
            logs = _keras3.learning_rates(self.model, dict(logs))
            if self.write_steps_per_second:
                elapsed = time.time() - self._epoch_start_time
                logs["steps_per_second"] = (_keras3.iterations(self.model) - self._epoch_start_iterations) / elapsed
        self._hook(_EPOCH_END, epoch, logs)

    def on_train_batch_begin(self, batch, logs=None):
        self._hook(_TRAIN_BATCH_BEGIN, batch, logs)

    def on_train_batch_end(self, batch, logs=None):
        self._hook(_TRAIN_BATCH_END, batch, logs)

    # With write_steps_per_second (Keras 3), these take the place of the two above.
    def _timed_train_batch_begin(self, batch, logs=None):
        self._batch_start_time = time.time()
        self._hook(_TRAIN_BATCH_BEGIN, batch, logs)

    def _timed_train_batch_end(self, batch, logs=None):
        # Keras 3 writes batch_steps_per_second before the logs.
        logs = {"steps_per_second": 1.0 / (time.time() - self._batch_start_time), **(logs or {})}
        self._hook(_TRAIN_BATCH_END, batch, logs)

    def on_test_begin(self, logs=None):
        self._hook(_TEST_BEGIN, 0, logs)

    def on_test_end(self, logs=None):
        # Keras 3 writes evaluation_<name>_vs_iterations at the optimizer's iterations.
        self._hook(_TEST_END, _keras3.iterations(self.model) if self._keras3 else 0, logs)

    def on_test_batch_begin(self, batch, logs=None):
        self._hook(_TEST_BATCH_BEGIN, batch, logs)

    def on_test_batch_end(self, batch, logs=None):
        self._hook(_TEST_BATCH_END, batch, logs)

    # Predict hooks write nothing, and their logs hold the model's outputs (arrays): not sent.
    def on_predict_begin(self, logs=None):
        self._hook(_PREDICT_BEGIN, 0, None)

    def on_predict_end(self, logs=None):
        self._hook(_PREDICT_END, 0, None)

    def on_predict_batch_begin(self, batch, logs=None):
        self._hook(_PREDICT_BATCH_BEGIN, batch, None)

    def on_predict_batch_end(self, batch, logs=None):
        self._hook(_PREDICT_BATCH_END, batch, None)

    # The aliases of the train batch hooks, as in Keras.
    def on_batch_begin(self, batch, logs=None):
        self.on_train_batch_begin(batch, logs)

    def on_batch_end(self, batch, logs=None):
        self.on_train_batch_end(batch, logs)

    # --- weights ------------------------------------------------------------------------------

    def _send_weights(self):
        """Every weight's current values, read once and handed over by buffer."""
        # self.model syncs a JAX model's state into its variables first.
        _ = self.model
        buffers = []
        for variable in self._weights:
            values = keras.ops.convert_to_numpy(variable)
            if values.dtype not in (np.float32, np.float64):
                if values.dtype.kind not in "fiub":
                    raise TypeError(f"weight {variable.path}: dtype {values.dtype} is not a number")
                if values.dtype not in self._warned_dtypes:
                    self._warned_dtypes.add(values.dtype)
                    warnings.warn(f"ringboard: weights of dtype {values.dtype} are logged as float32, as TF 2.0's histograms take them")
                values = values.astype(np.float32)
            buffers.append(np.ascontiguousarray(values))
        self._run.send_weights(buffers)

    def __del__(self):
        run = getattr(self, "_run", None)
        if run is not None:
            run.close()
