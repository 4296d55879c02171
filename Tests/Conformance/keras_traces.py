#!/usr/bin/env python3
"""Random but valid replay traces for the Keras TensorBoard callback, and a few malformed ones.

    python keras_traces.py --seed N --count M --out DIR

Writes DIR/trace_<i>.jsonl (i from 0 to M-1), DIR/manifest.json (what each trace exercises) and
DIR/bad/<name>.jsonl, each with DIR/bad/<name>.expect: {"line": N, "reason": "<kind>",
"message": "<the reference's text>", "keras_text": "<Keras's own words, where Keras has them>"}.
Traces follow keras_reference.py's format (the replay trace of DESIGN §5) and stay under 200 KB.

Across the traces, every argument and hook comes up: update_freq "batch", "epoch" and sample
counts that do and do not divide the batch sizes; logs with and without `size`, with `batch` and
`num_steps`, with val_ metrics; histogram_freq 0, 1 and 2 with and without validation data;
write_images over weights of rank 0 to 5 (transposed 2-D kernels, squeezed convolution kernels,
4-D kernels that are written and ones that are skipped); NaN and infinity in weights; subnormal,
tiny and all-zero weights; profile_batch 0, 1, 2, 3 and beyond the number of batches;
embeddings_freq with Embedding layers and embeddings_metadata as a string or a per-layer object;
write_graph on and off, with and without a model JSON and a GraphDef; several epochs and a second
fit; test and predict hooks in between; set_weights between epochs; the on_batch_* aliases; the
TF 1 arguments Keras ignores; the chief, mean and per_rank rank policies.

The feature choices cycle with the trace index, so even a few traces cover them; the rest comes
from a generator seeded with (seed, index). The same seed and count give the same files.
"""

import argparse
import base64
import json
import os
import random
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import keras_reference  # noqa: E402

MAX_TRACE_BYTES = 200 * 1024


# ---------------------------------------------------------------- values

def number(value):
    """A float32 value as a trace carries it: the shortest decimal that converts back exactly,
    or "NaN", "Infinity", "-Infinity", "-0.0"."""
    value = np.float32(value)
    if np.isnan(value):
        return "NaN"
    if np.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0 and np.signbit(value):
        return "-0.0"
    text = str(value)
    parsed = float(text)
    if np.float32(parsed) != value:
        parsed = float(value)
    return int(parsed) if parsed.is_integer() and abs(parsed) < 2 ** 24 and "e" not in text else parsed


def metric(rng, low, high):
    return round(rng.uniform(low, high), 6)


class Values:
    """Weight values with the oddities a model can have."""

    def __init__(self, rng, nprng):
        self.rng = rng
        self.nprng = nprng

    def make(self, shape, kind="normal"):
        count = int(np.prod(shape)) if shape else 1
        if kind == "zeros":
            values = np.zeros(count, dtype=np.float32)
        elif kind == "ones":
            values = np.ones(count, dtype=np.float32)
        elif kind == "positive":
            values = np.abs(self.nprng.normal(1.0, 0.5, count)).astype(np.float32)
        elif kind == "tiny":
            values = (self.nprng.normal(0, 1, count) * 1e-8).astype(np.float32)
        else:
            values = (self.nprng.normal(0, self.rng.choice([0.05, 0.3, 1.0, 4.0]), count)).astype(np.float32)
        return values

    def spice(self, values, nonfinite=False, subnormal=False, signed_zero=False):
        values = values.copy()
        if subnormal and len(values) > 2:
            for _ in range(self.rng.randint(1, 3)):
                values[self.rng.randrange(len(values))] = np.float32(self.rng.choice([1e-40, -3e-42, 1.4e-45]))
        if signed_zero and len(values) > 1:
            values[self.rng.randrange(len(values))] = np.float32(-0.0)
        if nonfinite and len(values) > 0:
            values[self.rng.randrange(len(values))] = np.float32(self.rng.choice([np.nan, np.inf, -np.inf]))
        return values


# ---------------------------------------------------------------- models

class ModelBuilder:
    def __init__(self, rng, values):
        self.rng = rng
        self.values = values
        self.counts = {}
        self.layers = []

    def unique(self, base):
        n = self.counts.get(base, 0)
        self.counts[base] = n + 1
        return base if n == 0 else f"{base}_{n}"

    def weight(self, layer, name, shape, kind="normal"):
        return {"name": f"{layer}/{name}:0", "shape": list(shape), "values": self.values.make(shape, kind)}

    def add(self, class_name, base, config, weights_spec):
        name = self.unique(base)
        weights = [self.weight(name, w, shape, kind) for w, shape, kind in weights_spec]
        self.layers.append({"name": name, "class_name": class_name, "config": dict(config, name=name),
                            "weights": weights})
        return name

    def dense(self, units_in, units_out, bias_kind="normal"):
        return self.add("Dense", "dense", {"units": units_out, "activation": "relu"},
                        [("kernel", (units_in, units_out), "normal"), ("bias", (units_out,), bias_kind)])

    def conv2d(self, kh, kw, cin, cout):
        return self.add("Conv2D", "conv2d", {"filters": cout, "kernel_size": [kh, kw]},
                        [("kernel", (kh, kw, cin, cout), "normal"), ("bias", (cout,), "zeros")])

    def conv3d(self, cin, cout):
        return self.add("Conv3D", "conv3d", {"filters": cout, "kernel_size": [2, 2, 2]},
                        [("kernel", (2, 2, 2, cin, cout), "normal")])

    def embedding(self, vocab, dim):
        return self.add("Embedding", "embedding", {"input_dim": vocab, "output_dim": dim},
                        [("embeddings", (vocab, dim), "normal")])

    def batch_norm(self, n):
        return self.add("BatchNormalization", "batch_normalization", {"axis": -1},
                        [("gamma", (n,), "ones"), ("beta", (n,), "zeros"),
                         ("moving_mean", (n,), "normal"), ("moving_variance", (n,), "positive")])

    def scalar_weight(self, shape):
        return self.add("Scale", "scale", {}, [("scale", shape, "positive")])

    def no_weights(self, class_name):
        base = {"Dropout": "dropout", "Flatten": "flatten"}[class_name]
        return self.add(class_name, base, {"rate": 0.5} if class_name == "Dropout" else {}, [])


def build_model(rng, values, index, embeddings):
    """Layers whose weights cover the image layouts; an Embedding layer or two when asked."""
    builder = ModelBuilder(rng, values)
    layout = index % 4
    if embeddings or rng.random() < 0.3:
        builder.embedding(rng.randint(3, 12), rng.randint(2, 6))
        if embeddings and rng.random() < 0.4:
            builder.embedding(rng.randint(3, 8), rng.randint(2, 4))
    if layout == 0:
        builder.conv2d(3, 3, 1, rng.choice([2, 5]))            # squeezes to 3-D: one image per filter
        builder.conv2d(2, 2, rng.randint(2, 3), rng.choice([1, 3, 4]))  # 4-D, written
        builder.no_weights("Flatten")
        builder.dense(rng.randint(6, 12), rng.randint(2, 4))   # h > w: transposed
    elif layout == 1:
        builder.dense(rng.randint(2, 4), rng.randint(5, 9), bias_kind="zeros")  # h < w
        builder.batch_norm(rng.randint(3, 6))
        builder.dense(rng.randint(3, 6), 1)                    # kernel [n, 1] squeezes to 1-D
    elif layout == 2:
        builder.conv2d(2, 2, rng.randint(2, 3), rng.choice([2, 5]))     # 4-D, skipped
        builder.conv3d(2, rng.randint(2, 3))                   # 5-D, skipped
        if rng.random() < 0.5:
            builder.conv3d(1, rng.choice([3, 4]))              # squeezes to 4-D, written
        builder.scalar_weight(rng.choice([[1], [], [1, 1]]))   # squeezes to a scalar, skipped
        builder.dense(rng.randint(3, 5), rng.randint(3, 5))
    else:
        builder.conv2d(1, 1, rng.randint(2, 4), rng.randint(5, 7))      # squeezes to 2-D
        builder.no_weights("Dropout")
        builder.dense(rng.randint(4, 8), rng.randint(2, 3), bias_kind="tiny")
    return builder.layers


def layer_json(layer, values_override=None):
    weights = []
    for weight in layer["weights"]:
        values = values_override.get(weight["name"], weight["values"]) if values_override else weight["values"]
        weights.append({"name": weight["name"], "shape": weight["shape"], "values": [number(v) for v in values]})
    return {"name": layer["name"], "class_name": layer["class_name"], "config": layer["config"], "weights": weights}


# ---------------------------------------------------------------- traces

UPDATE_FREQS = ["batch", "epoch", 1, 10, 37, 64, 10 ** 6]
PROFILE_CHOICES = [0, 1, 2, 3, "beyond"]
POLICIES = [None, "chief", "mean", "per_rank"]


def generate(seed, index):
    """(lines, features) of trace `index`."""
    for attempt in range(8):
        rng = random.Random(f"{seed}:{index}:{attempt}")
        nprng = np.random.default_rng([seed, index, attempt])
        lines, features = _generate(rng, nprng, index, shrink=attempt)
        size = sum(len(json.dumps(line, allow_nan=False)) + 1 for line in lines)
        if size < MAX_TRACE_BYTES:
            features["bytes"] = size
            return lines, features
    raise RuntimeError(f"trace {index}: could not stay under {MAX_TRACE_BYTES} bytes")


def _generate(rng, nprng, index, shrink):
    values = Values(rng, nprng)
    update_freq = UPDATE_FREQS[index % len(UPDATE_FREQS)]
    histogram_freq = [0, 1, 2][index % 3]
    embeddings_freq = [0, 1, 2][(index // 3) % 3]
    profile_choice = PROFILE_CHOICES[index % len(PROFILE_CHOICES)]
    policy = POLICIES[(index // 2) % len(POLICIES)]
    do_validation = True if histogram_freq else rng.random() < 0.6
    write_images = rng.random() < (0.75 if histogram_freq else 0.3)
    write_graph = [True, False][(index // 5) % 2]
    size_mode = ["always", "always", "never", "sometimes"][(index // 7) % 4]
    batch_alias = rng.random() < 0.25
    second_fit = index % 6 == 5
    nonfinite = index % 4 == 1
    explicit_json = write_graph and rng.random() < 0.3
    graph_def = write_graph and rng.random() < 0.4

    layers = build_model(rng, values, index, embeddings=embeddings_freq > 0)
    embedding_names = [layer["name"] for layer in layers if layer["class_name"] == "Embedding"]
    metadata_choice = ["none", "string", "dict"][(index // 9) % 3]
    if metadata_choice == "string":
        embeddings_metadata = "metadata.tsv"
    elif metadata_choice == "dict" and embedding_names:
        chosen = embedding_names[: rng.randint(1, len(embedding_names))]
        embeddings_metadata = {name: f"{name}_metadata.tsv" for name in chosen}
    else:
        embeddings_metadata = None

    # Oddities in the weights.
    all_weights = [w for layer in layers for w in layer["weights"] if w["values"].size > 2]
    if all_weights:
        target = rng.choice(all_weights)
        target["values"] = values.spice(target["values"], nonfinite=nonfinite,
                                        subnormal=index % 5 == 2, signed_zero=index % 3 == 0)

    epochs = max(1, rng.randint(1, 4) - shrink // 2)
    steps = rng.randint(1, 9)
    batch_size = rng.choice([1, 7, 16, 32])
    last = batch_size if rng.random() < 0.4 else rng.randint(1, batch_size)
    sizes = [batch_size] * (steps - 1) + [last]
    samples = sum(sizes)
    total_batches = steps * epochs * (2 if second_fit else 1)
    profile_batch = total_batches + rng.choice([0, 1, 2]) if profile_choice == "beyond" else profile_choice

    arguments = {"log_dir": "logs", "update_freq": update_freq, "histogram_freq": histogram_freq,
                 "write_graph": write_graph, "write_images": write_images, "profile_batch": profile_batch,
                 "embeddings_freq": embeddings_freq}
    if embeddings_metadata is not None or rng.random() < 0.3:
        arguments["embeddings_metadata"] = embeddings_metadata
    if index % 8 == 3:
        arguments["write_grads"] = True
        arguments["batch_size"] = batch_size
    if index % 11 == 4:
        arguments["embeddings_layer_names"] = embedding_names
        arguments["embeddings_data"] = [[0, 1, 2]]
    for key in list(arguments):
        if key not in ("log_dir", "update_freq") and rng.random() < 0.15 and key in keras_reference.DEFAULTS \
                and arguments[key] == keras_reference.DEFAULTS[key]:
            del arguments[key]  # the Keras default, left out
    header = {"tensorboard": arguments}
    if policy is not None:
        header["rank_policy"] = policy
        if rng.random() < 0.5:
            header["world_size"] = rng.choice([1, 2, 4])
            header["rank"] = 0 if policy != "per_rank" or rng.random() < 0.7 else header["world_size"] - 1

    metrics = ["loss", rng.choice(["acc", "accuracy"])]
    if index % 10 == 7:
        metrics.append("top 5 acc")  # not a valid tag: summary ops write top_5_acc
    val_metrics = ["val_" + m for m in metrics] if do_validation else []

    lines = [header]
    model = {"name": rng.choice(["sequential", "model", "m"]), "layers": [layer_json(layer) for layer in layers]}
    if explicit_json:
        model["json"] = json.dumps({"class_name": "Model", "config": {
            "name": model["name"], "layers": [{"class_name": l["class_name"], "name": l["name"],
                                               "config": l["config"], "inbound_nodes": []} for l in layers],
            "input_layers": [], "output_layers": []}, "keras_version": "2.2.4-tf", "backend": "tensorflow"})
    if graph_def:
        model["graph_def"] = base64.b64encode(bytes(rng.randrange(256) for _ in range(rng.randint(8, 40)))).decode()

    params = {"batch_size": batch_size, "epochs": epochs, "steps": steps, "samples": samples,
              "verbose": 0, "do_validation": do_validation, "metrics": metrics + val_metrics}

    begin_hook, end_hook = ("on_batch_begin", "on_batch_end") if batch_alias else ("on_train_batch_begin", "on_train_batch_end")
    loss = rng.uniform(0.5, 2.5)
    current = {w["name"]: w["values"] for layer in layers for w in layer["weights"]}
    nan_metric_at = (rng.randrange(total_batches) if index % 13 == 6 else None)
    batch_counter = 0

    def batch_logs(batch, size):
        nonlocal loss, batch_counter
        loss *= rng.uniform(0.85, 1.02)
        logs = {"batch": batch}
        if size_mode == "always" or (size_mode == "sometimes" and rng.random() < 0.5):
            logs["size"] = size
        logs["loss"] = round(loss, 6)
        logs[metrics[1]] = metric(rng, 0.3, 1.0)
        if len(metrics) > 2:
            logs[metrics[2]] = rng.choice([0, 1]) if rng.random() < 0.3 else metric(rng, 0.5, 1.0)
        if index % 9 == 8:
            logs["val_loss"] = round(loss * 1.1, 6)  # a val_ key in batch logs goes to validation
        if rng.random() < 0.2:
            logs["num_steps"] = steps
        if batch_counter == nan_metric_at:
            logs["loss"] = "NaN"
        batch_counter += 1
        return logs

    def test_pass(kind):
        yield {"hook": f"on_{kind}_begin"}
        for b in range(rng.randint(1, 3)):
            logs = {"batch": b, "size": rng.choice([4, 8])}
            yield {"hook": f"on_{kind}_batch_begin", "batch": b, "logs": logs}
            end_logs = dict(logs, loss=metric(rng, 0.5, 2.0)) if kind == "test" else dict(logs)
            yield {"hook": f"on_{kind}_batch_end", "batch": b, "logs": end_logs}
        yield {"hook": f"on_{kind}_end"}

    def fit(first_epoch):
        yield {"hook": "set_model", "model": model}
        yield {"hook": "set_params", "params": params}
        yield {"hook": "on_train_begin"}
        for epoch in range(first_epoch, first_epoch + epochs):
            yield {"hook": "on_epoch_begin", "epoch": epoch, "logs": {}}
            for b, size in enumerate(sizes):
                yield {"hook": begin_hook, "batch": b, "logs": {"batch": b, "size": size}}
                yield {"hook": end_hook, "batch": b, "logs": batch_logs(b, size)}
                if rng.random() < 0.05:
                    yield from test_pass("predict")
            if do_validation:
                yield from test_pass("test")
            if rng.random() < 0.6:
                changed = []
                for layer in layers:
                    if layer["weights"] and rng.random() < 0.7:
                        override = {}
                        for w in layer["weights"]:
                            base = current[w["name"]]
                            with np.errstate(invalid="ignore"):
                                step = (nprng.normal(0, 0.05, base.size)).astype(np.float32)
                                override[w["name"]] = np.where(np.isfinite(base), base + step, base).astype(np.float32)
                            current[w["name"]] = override[w["name"]]
                        changed.append(layer_json(layer, override))
                if changed:
                    yield {"hook": "set_weights", "layers": changed}
            logs = {"loss": round(loss, 6), metrics[1]: metric(rng, 0.3, 1.0)}
            if len(metrics) > 2:
                logs[metrics[2]] = metric(rng, 0.5, 1.0)
            for name in val_metrics:
                logs[name] = metric(rng, 0.2, 2.0)
            if rng.random() < 0.2:
                logs["lr"] = 0.001
            yield {"hook": "on_epoch_end", "epoch": epoch, "logs": logs}
        yield {"hook": "on_train_end", "logs": {}}

    lines.extend(fit(0))
    if second_fit:
        lines.extend(test_pass("test"))
        lines.extend(fit(epochs))
    if rng.random() < 0.5:
        lines.extend(test_pass("predict"))

    features = {"update_freq": update_freq, "histogram_freq": histogram_freq, "do_validation": do_validation,
                "write_images": write_images, "write_graph": write_graph, "profile_batch": profile_batch,
                "total_batches": total_batches, "embeddings_freq": embeddings_freq,
                "embeddings_metadata": type(embeddings_metadata).__name__ if embeddings_metadata is not None else None,
                "rank_policy": policy, "size": size_mode, "batch_alias": batch_alias, "second_fit": second_fit,
                "nonfinite_weight": nonfinite, "explicit_json": explicit_json, "graph_def": graph_def,
                "epochs": epochs, "steps": steps, "batch_size": batch_size, "last_batch": last,
                "hooks": sorted({line["hook"] for line in lines[1:]})}
    return lines, features


# ---------------------------------------------------------------- malformed traces

def small_trace(arguments=None, model_layers=None, do_validation=True):
    rng = random.Random(7)
    values = Values(rng, np.random.default_rng(7))
    builder = ModelBuilder(rng, values)
    if model_layers is None:
        builder.embedding(4, 2)
        builder.dense(3, 2)
        model_layers = builder.layers
    header = {"tensorboard": dict({"log_dir": "logs", "update_freq": "batch"}, **(arguments or {}))}
    return [
        header,
        {"hook": "set_model", "model": {"name": "m", "layers": [layer_json(layer) for layer in model_layers]}},
        {"hook": "set_params", "params": {"batch_size": 4, "epochs": 1, "steps": 2, "samples": 8,
                                          "do_validation": do_validation, "metrics": ["loss"]}},
        {"hook": "on_train_begin"},
        {"hook": "on_epoch_begin", "epoch": 0},
        {"hook": "on_train_batch_end", "batch": 0, "logs": {"batch": 0, "size": 4, "loss": 0.5}},
        {"hook": "on_train_batch_end", "batch": 1, "logs": {"batch": 1, "size": 4, "loss": 0.25}},
        {"hook": "on_epoch_end", "epoch": 0, "logs": {"loss": 0.375, "val_loss": 0.5}},
        {"hook": "on_train_end"},
    ]


def bad_traces():
    """(name, text lines, expected line, expected reason, Keras's own words or None)."""
    cases = []

    def dumped(lines):
        return [json.dumps(line, allow_nan=False) for line in lines]

    lines = dumped(small_trace())
    lines[5] = lines[5][: len(lines[5]) // 2]
    cases.append(("bad_json", lines, 6, "bad_json", None))

    lines = small_trace()
    lines.insert(6, {"hook": "on_train_step_end", "batch": 1, "logs": {"loss": 0.3}})
    cases.append(("unknown_hook", dumped(lines), 7, "unknown_hook", None))

    lines = small_trace()
    lines[7]["epoch"] = "0"
    cases.append(("wrong_type_epoch", dumped(lines), 8, "wrong_type", None))

    lines = small_trace()
    lines[5]["logs"]["loss"] = "low"
    cases.append(("wrong_type_metric", dumped(lines), 6, "wrong_type", None))

    lines = small_trace()
    lines[6]["logs"]["size"] = 3.5
    cases.append(("wrong_type_size", dumped(lines), 7, "wrong_type", None))

    lines = small_trace()
    lines[1]["model"]["layers"][1]["weights"][0]["values"].pop()
    cases.append(("wrong_shape_values", dumped(lines), 2, "wrong_type", None))

    lines = small_trace({"update_freq": "sometimes"})
    cases.append(("wrong_type_argument", dumped(lines), 1, "wrong_type", None))

    lines = small_trace({"histgram_freq": 1})
    cases.append(("unknown_argument", dumped(lines), 1, "unknown_argument",
                  "Unrecognized arguments in `TensorBoard` Callback"))

    lines = small_trace({"histogram_freq": 1}, do_validation=False)
    cases.append(("histogram_without_validation", dumped(lines), 3, "histogram_without_validation", None))

    lines = small_trace({"embeddings_freq": 1, "embeddings_metadata": {"dense": "dense.tsv"}})
    cases.append(("metadata_not_embedding", dumped(lines), 2, "metadata_not_embedding",
                  "Unrecognized `Embedding` layer names passed to `keras.callbacks.TensorBoard` "
                  "`embeddings_metadata` argument"))

    lines = small_trace({"embeddings_freq": 1, "embeddings_metadata": {"embedding": "e.tsv", "no_such_layer": "x.tsv"}})
    cases.append(("metadata_unknown_layer", dumped(lines), 2, "metadata_not_embedding",
                  "Unrecognized `Embedding` layer names passed to `keras.callbacks.TensorBoard` "
                  "`embeddings_metadata` argument"))
    return cases


# ---------------------------------------------------------------- main

def write_all(seed, count, out):
    os.makedirs(os.path.join(out, "bad"), exist_ok=True)
    manifest = []
    for index in range(count):
        lines, features = generate(seed, index)
        name = f"trace_{index:04d}.jsonl"
        with open(os.path.join(out, name), "w") as handle:
            for line in lines:
                handle.write(json.dumps(line, allow_nan=False) + "\n")
        manifest.append(dict(features, file=name))
    with open(os.path.join(out, "manifest.json"), "w") as handle:
        json.dump({"seed": seed, "count": count, "traces": manifest}, handle, indent=1)
    for name, lines, line, reason, keras_text in bad_traces():
        path = os.path.join(out, "bad", f"{name}.jsonl")
        with open(path, "w") as handle:
            handle.write("\n".join(lines) + "\n")
        document, _ = keras_reference.reference(path)
        error = document["error"]
        if error is None or error["line"] != line or error["reason"] != reason:
            raise RuntimeError(f"{name}: the reference says {error}, expected line {line} ({reason})")
        if keras_text and keras_text not in error["message"]:
            raise RuntimeError(f"{name}: {error['message']!r} lacks {keras_text!r}")
        expect = {"line": line, "reason": reason, "message": error["message"]}
        if keras_text:
            expect["keras_text"] = keras_text
        with open(os.path.join(out, "bad", f"{name}.expect"), "w") as handle:
            json.dump(expect, handle, indent=1)
            handle.write("\n")
    return manifest


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    if args.count < 0:
        parser.error("--count must not be negative")
    write_all(args.seed, args.count, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
