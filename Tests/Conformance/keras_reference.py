#!/usr/bin/env python3
"""What TF 2.0's `tf.keras.callbacks.TensorBoard` writes for a replay trace, as a reference model.

    python keras_reference.py TRACE.jsonl [--procs K] [--out EXPECTED.json]

The model follows tensorflow/python/keras/callbacks.py at v2.0.0, class TensorBoard: the counters
`_samples_seen`, `_samples_seen_at_last_write`, `_total_batches_seen` and the tracing flag, and
`on_train_begin`, `on_batch_end` (which `on_train_batch_end` calls), `on_epoch_end`,
`_log_metrics`, `_log_weights`, `_log_weight_as_image`, `_configure_embeddings`,
`_log_embeddings`, `_log_trace`, `on_train_end`, `set_model`. The summary ops are modelled after
what they write: `summary_ops_v2.scalar` a `simple_value` (float32), `histogram` a HistogramProto
from histogram.cc (histogram_reference.py), `image` Summary.Image values made by the float to
uint8 rule of summary_image_op.cc, `keras_model` a DT_STRING tensor tagged `keras`.

TRACE.jsonl: the first line is {"tensorboard": {<Keras arguments>}, "rank"?, "world_size"?,
"rank_policy"?}; every other line is one hook, {"hook": "<Keras hook name>", ...}. Floats may also
be given as the strings "NaN", "Infinity", "-Infinity" and "-0.0" (strict JSON has no literal for
them; the bare literals NaN and Infinity are refused).

--procs K: the trace is replayed by K processes, as rank r of K each, with identical hooks.
Without it, one process replays it as the header's rank (default 0) of its world_size (default 1).
rank_policy "chief" (default) keeps rank 0's output only; "per_rank" gives each rank a log root
`rank_<r>/`; "mean" merges the ranks' hooks into one per step (size: the sum of the sizes, a
missing size counting 1 per rank; each metric the size-weighted mean, equal weights without
sizes; everything else, weights included, from rank 0).

EXPECTED.json (run names relative to log_dir):
    {"runs": {"train": {"scalars": {"tag": [[step, float32 value], ...]},
                        "histograms": {"tag": [{"step", "min", "max", "num", "sum", "sum_squares",
                                                "bucket_limit": [...], "bucket": [...]}, ...]},
                        "images": {"tag": [{"step", "height", "width", "colorspace",
                                            "pixels": [flat uint8, row-major h, w, channel]}]},
                        "tensors": {"keras": [{"step": 0, "dtype": "DT_STRING", "shape": [],
                                               "values": [<the model JSON, parsed>],
                                               "plugin": "graph_keras_model"}]},
                        "graph": bool,
                        "run_metadata": {"batch_N": [N]}},   trace_export's summary, see below
              "validation": {...}},
     "projector": null | {"<log root: '.' or 'rank_<r>'>": {
                          "config_path": "<root>/projector_config.pbtxt",
                          "embeddings": {"<tensor name without :0>": {
                              "tensor_name": "<layer>/embeddings:0", "metadata_path": str | null,
                              "shape": [rows, columns] | null, "values": [flat float32] | null,
                              "epochs": [epochs the values were written at]}}}},
     "profile_traces": ["train", ...],        one entry per exported trace, in order
     "profiles": [{"run": "train", "step": N, "tag": "batch_N", "batch": b | null}, ...],
                                               the same traces: the step and tag trace_export
                                               names, and the `batch` of the train batch hook
                                               whose end stopped the trace (null: on_train_end)
     "warnings": ["..."],                      skipped histograms, ignored TF 1 arguments, ...
     "error": null | {"line": N, "reason": "<kind>", "message": "..."}}
"run_metadata" lists the profiled batches: TF 2.0's `_log_trace` calls `trace_export(name=
'batch_<n>', step=n)` with the profiler on, which writes `summary_ops_v2.run_metadata`: a value
tagged batch_<n> of plugin "graph_run_metadata" (content b"1"), a scalar DT_STRING tensor of the
RunMetadata, whose `function_graphs` hold the graphs traced in the batch. Ringboard puts the
model's graph there (the write_graph graph), so it writes the value only once set_model has given a
model; without one only the profile trace is written (a tag without a graph is an error in
TensorBoard's Graphs dashboard). A run appears only once something is written to it. Each list is in the order of writing. Floats
that JSON cannot carry, and -0.0, are written as the strings "NaN", "Infinity", "-Infinity",
"-0.0"; everything else is a plain JSON number that converts back to the exact value.

A trace the callback refuses (malformed JSON, an unknown hook or field, a wrong type, an unknown
TensorBoard argument, histogram_freq > 0 without validation data, embeddings_metadata naming a
layer that is not an Embedding layer) gives "error" with the line it was found on, no runs, and
exit status 1: nothing is half-written.
"""

import argparse
import base64
import binascii
import json
import math
import os
import re
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import histogram_reference  # noqa: E402

# ---------------------------------------------------------------- the trace

KERAS_ARGUMENTS = ("log_dir", "histogram_freq", "write_graph", "write_images", "update_freq",
                   "profile_batch", "embeddings_freq", "embeddings_metadata")
# TF 1 arguments TensorBoard._validate_kwargs accepts with a warning and ignores.
V1_ARGUMENTS = ("write_grads", "batch_size", "embeddings_layer_names", "embeddings_data")
DEFAULTS = {"log_dir": "logs", "histogram_freq": 0, "write_graph": True, "write_images": False,
            "update_freq": "epoch", "profile_batch": 2, "embeddings_freq": 0,
            "embeddings_metadata": None}
V1_WARNINGS = {
    "write_grads": "`write_grads` will be ignored in TensorFlow 2.0 for the `TensorBoard` Callback.",
    "batch_size": "`batch_size` is no longer needed in the `TensorBoard` Callback and will be "
                  "ignored in TensorFlow 2.0.",
    "embeddings_layer_names": "`embeddings_layer_names` is not supported in TensorFlow 2.0. "
                              "Instead, all `Embedding` layers will be visualized.",
    "embeddings_data": "`embeddings_data` is not supported in TensorFlow 2.0. Instead, all "
                       "`Embedding` variables will be visualized.",
}
HEADER_KEYS = ("tensorboard", "rank", "world_size", "rank_policy", "semantics")
RANK_POLICIES = ("chief", "mean", "per_rank")

BATCH_HOOKS = {"on_train_batch_begin", "on_train_batch_end", "on_batch_begin", "on_batch_end",
               "on_test_batch_begin", "on_test_batch_end", "on_predict_batch_begin",
               "on_predict_batch_end"}
EPOCH_HOOKS = {"on_epoch_begin", "on_epoch_end"}
PLAIN_HOOKS = {"on_train_begin", "on_train_end", "on_test_begin", "on_test_end",
               "on_predict_begin", "on_predict_end"}
MODEL_HOOKS = {"set_params", "set_model", "set_weights"}
HOOKS = BATCH_HOOKS | EPOCH_HOOKS | PLAIN_HOOKS | MODEL_HOOKS
# on_train_batch_end calls on_batch_end in TF 2.0's Callback; TensorBoard overrides on_batch_end.
TRAIN_BATCH_END = {"on_train_batch_end", "on_batch_end"}

# Keys _log_metrics scrubs: "Don't output batch_size and batch number as TensorBoard summaries".
NOT_METRICS = ("batch", "size", "num_steps")

SPECIAL_FLOATS = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf, "-0.0": -0.0}


class TraceError(Exception):
    """A trace the callback refuses: the line it was found on, a kind and a message."""

    def __init__(self, line, reason, message):
        super().__init__(f"line {line}: {message}")
        self.line = line
        self.reason = reason
        self.message = message

    def as_json(self):
        return {"line": self.line, "reason": self.reason, "message": self.message}


def _refuse_constant(name):
    raise ValueError(f"{name} is not JSON (write it as the string \"{name}\")")


def is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value):
    return (isinstance(value, (int, float)) and not isinstance(value, bool)) or value in SPECIAL_FLOATS


def as_float(value):
    return SPECIAL_FLOATS[value] if isinstance(value, str) else float(value)


class Layer:
    def __init__(self, name, class_name, config, weights):
        self.name = name
        self.class_name = class_name
        self.config = config
        self.weights = weights  # list of (name, shape tuple, float32 ndarray of that shape)


def _wrong(line, message):
    return TraceError(line, "wrong_type", message)


def parse_weight(line, where, item):
    if not isinstance(item, dict):
        raise _wrong(line, f"{where}: a weight must be an object")
    unknown = set(item) - {"name", "shape", "values"}
    if unknown:
        raise TraceError(line, "unknown_field", f"{where}: unknown weight fields {sorted(unknown)}")
    name, shape, values = item.get("name"), item.get("shape"), item.get("values")
    if not isinstance(name, str) or not name:
        raise _wrong(line, f"{where}: weight name must be a non-empty string")
    if not isinstance(shape, list) or not all(is_int(n) and n >= 0 for n in shape):
        raise _wrong(line, f"{where}: {name}: shape must be a list of non-negative integers")
    if not isinstance(values, list) or not all(is_number(v) for v in values):
        raise _wrong(line, f"{where}: {name}: values must be a flat list of numbers")
    count = 1
    for n in shape:
        count *= n
    if len(values) != count:
        raise _wrong(line, f"{where}: {name}: {len(values)} values for shape {shape} ({count} expected)")
    with np.errstate(over="ignore"):
        array = np.array([as_float(v) for v in values], dtype=np.float64).astype(np.float32)
    return (name, tuple(shape), array.reshape(shape))


def parse_layer(line, where, item, need_class):
    if not isinstance(item, dict):
        raise _wrong(line, f"{where}: a layer must be an object")
    unknown = set(item) - {"name", "class_name", "config", "weights"}
    if unknown:
        raise TraceError(line, "unknown_field", f"{where}: unknown layer fields {sorted(unknown)}")
    name = item.get("name")
    if not isinstance(name, str) or not name:
        raise _wrong(line, f"{where}: layer name must be a non-empty string")
    class_name = item.get("class_name")
    if (need_class or "class_name" in item) and (not isinstance(class_name, str) or not class_name):
        raise _wrong(line, f"{where}: {name}: class_name must be a non-empty string")
    config = item.get("config")
    if config is not None and not isinstance(config, dict):
        raise _wrong(line, f"{where}: {name}: config must be an object")
    weights = item.get("weights", [])
    if not isinstance(weights, list):
        raise _wrong(line, f"{where}: {name}: weights must be a list")
    return Layer(name, class_name, config, [parse_weight(line, f"{where}: {name}", w) for w in weights])


def parse_logs(line, hook, logs):
    if logs is None:
        return {}
    if not isinstance(logs, dict):
        raise _wrong(line, f"{hook}: logs must be an object")
    parsed = {}
    for key, value in logs.items():
        if key == "size":
            if not is_int(value) or value < 0:
                raise _wrong(line, f"{hook}: logs.size must be a non-negative integer, not {value!r}")
            parsed[key] = value
        elif not is_number(value):
            raise _wrong(line, f"{hook}: logs.{key} must be a number, not {value!r}")
        else:
            parsed[key] = as_float(value) if key not in ("batch", "num_steps") else value
    return parsed


def parse_config(line, header):
    if not isinstance(header, dict) or not isinstance(header.get("tensorboard"), dict):
        raise TraceError(line, "bad_header", 'the first line must be {"tensorboard": {...}}')
    unknown = set(header) - set(HEADER_KEYS)
    if unknown:
        raise TraceError(line, "unknown_field", f"unknown header fields {sorted(unknown)}")
    if header.get("semantics", "tf2.0") != "tf2.0":
        raise TraceError(line, "bad_header", f"semantics {header['semantics']!r}: this reference models TF 2.0's callback only")
    arguments = header["tensorboard"]
    unrecognized = set(arguments) - set(KERAS_ARGUMENTS) - set(V1_ARGUMENTS)
    if unrecognized:
        # TensorBoard._validate_kwargs, word for word.
        raise TraceError(line, "unknown_argument",
                         "Unrecognized arguments in `TensorBoard` Callback: " + str(unrecognized))
    config = dict(DEFAULTS)
    config.update({k: v for k, v in arguments.items() if k in KERAS_ARGUMENTS})
    warnings = [V1_WARNINGS[k] for k in V1_ARGUMENTS if arguments.get(k)]

    def check(condition, name, expected):
        if not condition:
            raise _wrong(line, f"tensorboard.{name} must be {expected}, not {config[name]!r}")

    check(isinstance(config["log_dir"], str) and config["log_dir"] != "", "log_dir", "a non-empty string")
    for name in ("histogram_freq", "profile_batch", "embeddings_freq"):
        check(is_int(config[name]) and config[name] >= 0, name, "a non-negative integer")
    for name in ("write_graph", "write_images"):
        check(isinstance(config[name], bool), name, "true or false")
    update = config["update_freq"]
    check(update in ("batch", "epoch") or (is_int(update) and update >= 0), "update_freq",
          '"batch", "epoch" or a non-negative integer (samples)')
    metadata = config["embeddings_metadata"]
    check(metadata is None or isinstance(metadata, str)
          or (isinstance(metadata, dict) and all(isinstance(v, str) for v in metadata.values())),
          "embeddings_metadata", "null, a string or an object of layer name to path")

    rank = header.get("rank", 0)
    world_size = header.get("world_size", 1)
    policy = header.get("rank_policy", "chief")
    if not is_int(world_size) or world_size < 1:
        raise _wrong(line, f"world_size must be a positive integer, not {world_size!r}")
    if not is_int(rank) or not 0 <= rank < world_size:
        raise _wrong(line, f"rank must be an integer in [0, world_size), not {rank!r}")
    if policy not in RANK_POLICIES:
        raise _wrong(line, f"rank_policy must be one of {list(RANK_POLICIES)}, not {policy!r}")
    return config, {"rank": rank, "world_size": world_size, "rank_policy": policy}, warnings


def parse_hook(line, item):
    if not isinstance(item, dict):
        raise _wrong(line, "a hook line must be an object")
    hook = item.get("hook")
    if not isinstance(hook, str):
        raise _wrong(line, 'a hook line needs "hook": "<name>"')
    if hook not in HOOKS:
        raise TraceError(line, "unknown_hook", f"unknown hook {hook!r}")
    if hook in BATCH_HOOKS:
        fields, required = {"batch", "logs"}, {"batch"}
    elif hook in EPOCH_HOOKS:
        fields, required = {"epoch", "logs"}, {"epoch"}
    elif hook in PLAIN_HOOKS:
        fields, required = {"logs"}, set()
    elif hook == "set_params":
        fields, required = {"params"}, set()
    elif hook == "set_model":
        fields, required = {"model"}, {"model"}
    else:
        fields, required = {"layers"}, {"layers"}
    unknown = set(item) - fields - {"hook"}
    if unknown:
        raise TraceError(line, "unknown_field", f"{hook}: unknown fields {sorted(unknown)}")
    missing = required - set(item)
    if missing:
        raise _wrong(line, f"{hook}: missing {sorted(missing)}")
    parsed = {"hook": hook, "line": line}
    for key in ("batch", "epoch"):
        if key in fields and key in item:
            if not is_int(item[key]) or item[key] < 0:
                raise _wrong(line, f"{hook}: {key} must be a non-negative integer, not {item[key]!r}")
            parsed[key] = item[key]
    if "logs" in fields:
        parsed["logs"] = parse_logs(line, hook, item.get("logs"))
    if hook == "set_params":
        params = item.get("params") or {}
        if not isinstance(params, dict):
            raise _wrong(line, "set_params: params must be an object")
        if "do_validation" in params and not isinstance(params["do_validation"], bool):
            raise _wrong(line, "set_params: params.do_validation must be true or false")
        parsed["params"] = params
    elif hook == "set_model":
        model = item["model"]
        if not isinstance(model, dict):
            raise _wrong(line, "set_model: model must be an object")
        unknown = set(model) - {"name", "layers", "json", "graph_def"}
        if unknown:
            raise TraceError(line, "unknown_field", f"set_model: unknown model fields {sorted(unknown)}")
        name = model.get("name", "sequential")
        if not isinstance(name, str):
            raise _wrong(line, "set_model: model.name must be a string")
        layers = model.get("layers", [])
        if not isinstance(layers, list):
            raise _wrong(line, "set_model: model.layers must be a list")
        parsed["name"] = name
        parsed["layers"] = [parse_layer(line, "set_model", layer, True) for layer in layers]
        model_json = model.get("json")
        if isinstance(model_json, str):
            try:
                model_json = json.loads(model_json)
            except ValueError as error:
                raise _wrong(line, f"set_model: model.json is not JSON: {error}")
        elif model_json is not None and not isinstance(model_json, dict):
            raise _wrong(line, "set_model: model.json must be a string or an object")
        parsed["json"] = model_json
        graph_def = model.get("graph_def")
        if graph_def is not None:
            try:
                base64.b64decode(graph_def, validate=True)
            except (TypeError, binascii.Error):
                raise _wrong(line, "set_model: model.graph_def must be base64 text")
        parsed["graph_def"] = graph_def is not None
    elif hook == "set_weights":
        layers = item["layers"]
        if not isinstance(layers, list):
            raise _wrong(line, "set_weights: layers must be a list")
        parsed["layers"] = [parse_layer(line, "set_weights", layer, False) for layer in layers]
    return parsed


def load_trace(path):
    """(config, placement, hooks, warnings) of a trace; raises TraceError."""
    with open(path, "rb") as handle:
        raw_lines = handle.read().split(b"\n")
    if raw_lines and raw_lines[-1] == b"":
        raw_lines.pop()
    records = []
    for number, raw in enumerate(raw_lines, start=1):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            raise TraceError(number, "bad_json", f"not UTF-8: {error}")
        if not text.strip():
            raise TraceError(number, "bad_json", "empty line")
        try:
            records.append(json.loads(text, parse_constant=_refuse_constant))
        except ValueError as error:
            raise TraceError(number, "bad_json", f"not JSON: {error}")
    if not records:
        raise TraceError(1, "bad_header", "empty trace")
    config, placement, warnings = parse_config(1, records[0])
    hooks = [parse_hook(number, item) for number, item in enumerate(records[1:], start=2)]
    return config, placement, hooks, warnings


# ---------------------------------------------------------------- numbers and images

def json_float(value):
    """A float as JSON carries it exactly: NaN, infinities and -0.0 as strings."""
    value = float(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0.0 and math.copysign(1.0, value) < 0:
        return "-0.0"
    return value


def float32(value):
    with np.errstate(over="ignore"):
        return float(np.float32(value))


_INVALID_TAG_CHARACTERS = re.compile(r"[^-/\w\.]")


def summary_tag(name):
    """summary_op_util.clean_tag, then the name scope: the tag summary_ops_v2 writes under."""
    name = _INVALID_TAG_CHARACTERS.sub("_", name).lstrip("/")
    return name.rstrip("/")


def weight_image(weight):
    """TensorBoard._log_weight_as_image: the [k, h, w, c] tensor written, or None (skipped)."""
    image = np.squeeze(weight)
    shape = image.shape
    if len(shape) == 1:  # bias
        image = image.reshape(1, shape[0], 1, 1)
    elif len(shape) == 2:  # Dense kernel
        if shape[0] > shape[1]:
            image = image.T
            shape = image.shape
        image = image.reshape(1, shape[0], shape[1], 1)
    elif len(shape) == 3:  # convolution kernel, channels last: one image per channel
        image = np.transpose(image, (2, 0, 1))
        shape = image.shape
        image = image.reshape(shape[0], shape[1], shape[2], 1)
    if image.ndim == 4 and image.shape[-1] in (1, 3, 4):
        return np.ascontiguousarray(image, dtype=np.float32)
    return None


BAD_COLOR = np.array([255, 0, 0, 255], dtype=np.uint8)
ZERO_THRESHOLD = np.float32(1e-6)


def normalize_float_image(image):
    """summary_image_op.cc NormalizeFloatImage for one [h, w, c] float32 image: flat uint8 pixels.

    min and max over the pixels whose channels are all finite; scale and offset in float32;
    value * scale + offset rounded to float32 at each step (no fused multiply-add), then
    truncated to uint8; a pixel with a non-finite channel gets the bad colour (red)."""
    height, width, depth = image.shape
    pixels = image.reshape(height * width, depth).astype(np.float32)
    # TensorFlow runs kernels with denormals flushed to zero (ScopedFlushDenormal around every op
    # in the executor): a subnormal pixel compares, scales and shifts as a zero of its sign.
    tiny = np.finfo(np.float32).tiny
    pixels = np.where(np.abs(pixels) < tiny, np.copysign(np.float32(0), pixels), pixels).astype(np.float32)
    finite = np.all(np.isfinite(pixels), axis=1)
    if finite.any():
        image_min = np.float32(pixels[finite].min())
        image_max = np.float32(pixels[finite].max())
    else:
        image_min, image_max = np.float32(np.inf), np.float32(-np.inf)
    if image_min < 0:
        max_value = max(np.float32(abs(image_min)), np.float32(abs(image_max)))
        scale = np.float32(0.0) if max_value < ZERO_THRESHOLD else np.float32(127.0) / max_value
        offset = np.float32(128.0)
    else:
        scale = np.float32(0.0) if image_max < ZERO_THRESHOLD else np.float32(255.0) / image_max
        offset = np.float32(0.0)
    with np.errstate(invalid="ignore", over="ignore"):
        product = (pixels * np.float32(scale)).astype(np.float32)
        shifted = (product + np.float32(offset)).astype(np.float32)
        shifted = np.where(finite[:, None], shifted, 0.0)
        result = np.trunc(shifted).astype(np.uint8)
    result[~finite] = BAD_COLOR[:depth]
    return result.reshape(-1)


def image_summaries(tag, batch, max_images=3):
    """The Summary.Image values of an image summary of a float [k, h, w, c] tensor:
    (tag, height, width, colorspace, pixels) for the first min(k, max_images) images; tags
    `<tag>/image/<i>` (max_images > 1)."""
    count, height, width, depth = batch.shape
    values = []
    for i in range(min(count, max_images)):
        image_tag = f"{tag}/image/{i}" if max_images > 1 else f"{tag}/image"
        values.append((image_tag, height, width, depth, normalize_float_image(batch[i])))
    return values


# ---------------------------------------------------------------- the callback

class Output:
    """Everything written under one log_dir, by any number of log roots."""

    def __init__(self):
        self.runs = {}
        self.projector = {}
        self.profile_traces = []
        self.profiles = []
        self.warnings = []

    def run(self, name):
        if name not in self.runs:
            self.runs[name] = {"scalars": {}, "histograms": {}, "images": {}, "tensors": {},
                               "graph": False, "run_metadata": {}}
        return self.runs[name]

    def as_json(self):
        return {"runs": self.runs, "projector": self.projector or None,
                "profile_traces": self.profile_traces, "profiles": self.profiles, "warnings": self.warnings,
                "error": None}


class TensorBoardCallback:
    """TF 2.0 keras.callbacks.TensorBoard, hook by hook, writing into `output` under `root`."""

    def __init__(self, config, output, root="."):
        self.output = output
        self.root = root
        self.histogram_freq = config["histogram_freq"]
        self.write_graph = config["write_graph"]
        self.write_images = config["write_images"]
        self.update_freq = 1 if config["update_freq"] == "batch" else config["update_freq"]
        self.profile_batch = config["profile_batch"]
        self.embeddings_freq = config["embeddings_freq"]
        self.embeddings_metadata = config["embeddings_metadata"]
        self.samples_seen = 0
        self.samples_seen_at_last_write = 0
        self.total_batches_seen = 0
        self.is_tracing = False
        self.layers = []
        self.has_model = False
        self.train_run = "train" if root == "." else f"{root}/train"
        self.validation_run = "validation" if root == "." else f"{root}/validation"

    # hooks

    def handle(self, hook):
        name = hook["hook"]
        if name == "set_params":
            self.set_params(hook)
        elif name == "set_model":
            self.set_model(hook)
        elif name == "set_weights":
            self.set_weights(hook)
        elif name == "on_train_begin":
            self.on_train_begin()
        elif name in TRAIN_BATCH_END:
            self.on_batch_end(hook["logs"], hook.get("batch"))
        elif name == "on_epoch_end":
            self.on_epoch_end(hook["epoch"], hook["logs"])
        elif name == "on_train_end":
            self.on_train_end()
        # Every other hook (batch and epoch begin, test, predict) writes nothing in TF 2.0.

    def set_params(self, hook):
        if self.histogram_freq > 0 and hook["params"].get("do_validation") is False:
            raise TraceError(hook["line"], "histogram_without_validation",
                             f"histogram_freq={self.histogram_freq} needs validation data, but "
                             "set_params says do_validation is false")

    def set_model(self, hook):
        self.layers = hook["layers"]
        self.has_model = True
        if self.write_graph:
            # TF 2.0 writes the op graph (`summary_ops_v2.graph`); ringboard writes the GraphDef
            # given, or one made from the layers, so there is always one.
            run = self.output.run(self.train_run)
            run["graph"] = True
            model_json = hook["json"] if hook["json"] is not None else sequential_json(hook["name"], self.layers)
            run["tensors"].setdefault("keras", []).append(
                {"step": 0, "dtype": "DT_STRING", "shape": [], "values": [model_json],
                 "plugin": "graph_keras_model"})
        if self.embeddings_freq:
            self.configure_embeddings(hook["line"])

    def set_weights(self, hook):
        """New values for weights of the model, matched by layer and weight name (a layer may
        give some of its weights only); a weight keeps its shape, as Keras' set_weights wants."""
        by_name = {layer.name: layer for layer in self.layers}
        for layer in hook["layers"]:
            if layer.name not in by_name:
                raise TraceError(hook["line"], "unknown_layer",
                                 f"set_weights: no layer {layer.name!r} in the model"
                                 + ("" if self.layers else " (no set_model before)"))
            target = by_name[layer.name]
            positions = {weight[0]: i for i, weight in enumerate(target.weights)}
            for weight in layer.weights:
                if weight[0] not in positions:
                    raise TraceError(hook["line"], "unknown_layer",
                                     f"set_weights: layer {layer.name!r} has no weight {weight[0]!r}")
                old = target.weights[positions[weight[0]]]
                if old[1] != weight[1]:
                    raise _wrong(hook["line"], f"set_weights: {weight[0]} has shape {list(old[1])}, "
                                               f"not {list(weight[1])}")
            # Replace the layer object's list, so that earlier states of the model are untouched.
            new = list(target.weights)
            for weight in layer.weights:
                new[positions[weight[0]]] = weight
            replacement = Layer(target.name, target.class_name, target.config, new)
            self.layers = [replacement if l is target else l for l in self.layers]
            by_name[layer.name] = replacement

    def on_train_begin(self):
        if self.profile_batch == 1:
            self.is_tracing = True

    def on_batch_end(self, logs, batch=None):
        # TF 2.0: update_freq counts samples (logs["size"], 1 when missing), not batches; the
        # step is the number of batches seen before this one; tracing starts once
        # total_batches_seen reaches profile_batch - 1 and stops after the next batch.
        self.samples_seen += logs.get("size", 1)
        since = self.samples_seen - self.samples_seen_at_last_write
        if self.update_freq != "epoch" and since >= self.update_freq:
            self.log_metrics(logs, "batch_", self.total_batches_seen)
            self.samples_seen_at_last_write = self.samples_seen
        self.total_batches_seen += 1
        if self.is_tracing:
            self.log_trace(batch)
        elif self.total_batches_seen == self.profile_batch - 1:
            self.is_tracing = True

    def on_epoch_end(self, epoch, logs):
        # TF 2.0: the epoch step is the sample count unless update_freq is "epoch"; histograms,
        # images and embeddings always use the epoch.
        step = epoch if self.update_freq == "epoch" else self.samples_seen
        self.log_metrics(logs, "epoch_", step)
        if self.histogram_freq and epoch % self.histogram_freq == 0:
            self.log_weights(epoch)
        if self.embeddings_freq and epoch % self.embeddings_freq == 0:
            self.log_embeddings(epoch)

    def on_train_end(self):
        if self.is_tracing:
            self.log_trace()

    # writing

    def log_trace(self, batch=None):
        # TF 2.0: trace_export writes summary_ops_v2.run_metadata, tag batch_<n> at step n. Its
        # function graph is the model's graph here, so without a model only the trace is written.
        # `batch` is the train batch whose end stopped the trace (None when on_train_end did).
        if self.has_model:
            run = self.output.run(self.train_run)
            run["run_metadata"].setdefault(f"batch_{self.total_batches_seen}", []).append(self.total_batches_seen)
        self.output.profile_traces.append(self.train_run)
        self.output.profiles.append({"run": self.train_run, "step": self.total_batches_seen,
                                     "tag": f"batch_{self.total_batches_seen}", "batch": batch})
        self.is_tracing = False

    def log_metrics(self, logs, prefix, step):
        for name, value in logs.items():
            if name in NOT_METRICS:
                continue
            if name.startswith("val_"):
                name, run_name = name[len("val_"):], self.validation_run
            else:
                run_name = self.train_run
            tag = summary_tag(prefix + name)
            self.output.run(run_name)["scalars"].setdefault(tag, []).append([step, json_float(float32(value))])

    def log_weights(self, epoch):
        for layer in self.layers:
            for weight_name, _shape, values in layer.weights:
                tag = summary_tag(weight_name.replace(":", "_"))
                histogram = histogram_reference.histogram(values.reshape(-1), "float32")
                if histogram is None:
                    self.output.warnings.append(
                        f"{self.train_run}: histogram {tag} at step {epoch} skipped: NaN or infinity in the weight")
                else:
                    entry = {"step": epoch}
                    for field in ("min", "max", "num", "sum", "sum_squares"):
                        entry[field] = json_float(histogram[field])
                    entry["bucket_limit"] = [json_float(x) for x in histogram["bucket_limit"]]
                    entry["bucket"] = [json_float(x) for x in histogram["bucket"]]
                    self.output.run(self.train_run)["histograms"].setdefault(tag, []).append(entry)
                if self.write_images:
                    self.log_weight_as_image(values, tag, epoch)

    def log_weight_as_image(self, values, tag, epoch):
        batch = weight_image(values)
        if batch is None:
            return
        if batch.shape[1] * batch.shape[2] == 0 or batch.shape[0] == 0:
            self.output.warnings.append(f"{self.train_run}: image {tag} at step {epoch} skipped: no pixels")
            return
        run = self.output.run(self.train_run)
        for image_tag, height, width, depth, pixels in image_summaries(tag, batch):
            run["images"].setdefault(image_tag, []).append(
                {"step": epoch, "height": height, "width": width, "colorspace": depth,
                 "pixels": pixels.tolist()})

    def embedding_layers(self):
        return [layer for layer in self.layers if layer.class_name == "Embedding"]

    @staticmethod
    def embeddings_weight(layer):
        for weight in layer.weights:
            if weight[0].split(":")[0].endswith("embeddings"):
                return weight
        return layer.weights[0] if layer.weights else None

    def configure_embeddings(self, line):
        metadata = self.embeddings_metadata
        remaining = dict(metadata) if isinstance(metadata, dict) else {}
        embeddings = {}
        for layer in self.embedding_layers():
            weight = self.embeddings_weight(layer)
            tensor_name = weight[0] if weight is not None else f"{layer.name}/embeddings:0"
            path = None
            if isinstance(metadata, str):
                path = metadata
            elif layer.name in remaining:
                path = remaining.pop(layer.name)
            key = tensor_name[:-2] if tensor_name.endswith(":0") else tensor_name
            embeddings[key] = {"tensor_name": tensor_name, "metadata_path": path, "shape": None,
                               "values": None, "epochs": []}
        if remaining:
            raise TraceError(line, "metadata_not_embedding",
                             "Unrecognized `Embedding` layer names passed to "
                             "`keras.callbacks.TensorBoard` `embeddings_metadata` argument: "
                             + str(remaining.keys()))
        previous = self.output.projector.get(self.root, {}).get("embeddings", {})
        for key, entry in embeddings.items():
            if key in previous:
                entry.update({k: previous[key][k] for k in ("shape", "values", "epochs")})
        config_path = "projector_config.pbtxt" if self.root == "." else f"{self.root}/projector_config.pbtxt"
        self.output.projector[self.root] = {"config_path": config_path, "embeddings": embeddings}

    def log_embeddings(self, epoch):
        projector = self.output.projector.get(self.root)
        if projector is None:
            return
        for layer in self.embedding_layers():
            weight = self.embeddings_weight(layer)
            if weight is None:
                continue
            key = weight[0][:-2] if weight[0].endswith(":0") else weight[0]
            entry = projector["embeddings"].get(key)
            if entry is None:
                continue
            entry["shape"] = list(weight[1])
            entry["values"] = [json_float(v) for v in weight[2].reshape(-1).tolist()]
            entry["epochs"].append(epoch)


def sequential_json(name, layers):
    """Model.to_json() of a Sequential model made of `layers` (class names and configs)."""
    return {"class_name": "Sequential",
            "config": {"name": name,
                       "layers": [{"class_name": layer.class_name,
                                   "config": {"name": layer.name, **(layer.config or {})}}
                                  for layer in layers]},
            "keras_version": "2.2.4-tf", "backend": "tensorflow"}


# ---------------------------------------------------------------- ranks

def merge_hooks(hooks):
    """The mean policy's one hook for a step that every rank reported: `size` the sum of the
    ranks' sizes (a missing size counts 1 per rank), each metric the size-weighted mean (equal
    weights where there is no size), `batch` and `num_steps` and everything else from rank 0."""
    first = hooks[0]
    if "logs" not in first:
        return first
    all_logs = [hook["logs"] for hook in hooks]
    sizes = [logs.get("size") for logs in all_logs]
    weights = [size if size is not None else 1 for size in sizes]
    if all(size is None for size in sizes) or sum(weights) == 0:
        weights = [1] * len(all_logs)
    keys = []
    for logs in all_logs:
        keys.extend(key for key in logs if key not in keys)
    merged = {}
    for key in keys:
        if key == "size":
            merged[key] = sum(size if size is not None else 1 for size in sizes)
        elif key in ("batch", "num_steps"):
            merged[key] = next(logs[key] for logs in all_logs if key in logs)
        else:
            total = weight_sum = 0.0
            for logs, weight in zip(all_logs, weights):
                if key in logs:
                    total += weight * logs[key]
                    weight_sum += weight
            merged[key] = total / weight_sum
    if first["hook"] in TRAIN_BATCH_END and "size" not in merged:
        merged["size"] = len(hooks)
    return dict(first, logs=merged)


def expected_output(config, placement, hooks, warnings, procs=None):
    """The EXPECTED.json document (without "error") for a parsed trace."""
    output = Output()
    output.warnings.extend(warnings)
    if procs is None:
        ranks = [placement["rank"]]
    else:
        ranks = list(range(procs))
    policy = placement["rank_policy"]
    if policy == "per_rank":
        callbacks = [TensorBoardCallback(config, output, f"rank_{r}") for r in ranks]
        for hook in hooks:
            for callback in callbacks:
                callback.handle(hook)
    elif policy == "mean":
        callback = TensorBoardCallback(config, output)
        for hook in hooks:
            callback.handle(merge_hooks([hook] * len(ranks)))
    else:
        if 0 in ranks:
            callback = TensorBoardCallback(config, output)
            for hook in hooks:
                callback.handle(hook)
    return output.as_json()


def reference(path, procs=None):
    """EXPECTED.json for the trace at `path`; (document, exit status)."""
    try:
        config, placement, hooks, warnings = load_trace(path)
        return expected_output(config, placement, hooks, warnings, procs), 0
    except TraceError as error:
        return {"runs": {}, "projector": None, "profile_traces": [], "profiles": [], "warnings": [],
                "error": error.as_json()}, 1


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("trace")
    parser.add_argument("--procs", type=int, default=None, help="replay by K processes, as rank r of K")
    parser.add_argument("--out", default=None, help="EXPECTED.json (default: stdout)")
    args = parser.parse_args(argv)
    if args.procs is not None and args.procs < 1:
        parser.error("--procs must be at least 1")
    document, status = reference(args.trace, args.procs)
    text = json.dumps(document, allow_nan=False)
    if args.out:
        with open(args.out, "w") as handle:
            handle.write(text + "\n")
    else:
        sys.stdout.write(text + "\n")
    if document["error"]:
        error = document["error"]
        print(f"{args.trace}:{error['line']}: {error['reason']}: {error['message']}", file=sys.stderr)
    return status


if __name__ == "__main__":
    sys.exit(main())
