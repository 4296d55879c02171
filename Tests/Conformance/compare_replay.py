#!/usr/bin/env python3
"""Compare what `ringboard replay` wrote with what the TF 2.0 callback would have written.

    python compare_replay.py --logdir LOGDIR --expected EXPECTED.json

EXPECTED.json is keras_reference.py's output. The event files under LOGDIR are read with
TensorBoard's EventAccumulator (and every record's framing checked by tensorboard_check's
strict reader); PNG images are decoded with Pillow and compared pixel by pixel. Exits 0 with one
summary line when everything matches, 1 listing every difference.
"""

import argparse
import glob
import gzip
import io
import json
import math
import os
import struct
import sys

import numpy as np
from PIL import Image
from tensorboard.backend.event_processing import event_accumulator, event_file_loader
from tensorboard.compat.proto import config_pb2, graph_pb2, types_pb2
from tensorboard.util import tensor_util

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tensorboard_check  # noqa: E402  (the strict framing reader)


def f32(value):
    if isinstance(value, str):
        value = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf, "-0.0": -0.0}[value]
    return struct.unpack("<f", struct.pack("<f", value))[0]


def same32(a, b):
    a, b = f32(a), f32(b)
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return struct.pack("<f", a) == struct.pack("<f", b)


def number(value):
    """A float from JSON, where strict JSON needs strings for NaN, the infinities and -0.0."""
    if isinstance(value, str):
        return {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf, "-0.0": -0.0}[value]
    return float(value)


def same64(a, b):
    """Bit-for-bit equality of doubles (so 0.0 and -0.0 differ)."""
    return struct.pack("<d", number(a)) == struct.pack("<d", number(b))


def close64(a, b, relative=1e-12):
    if a == b:
        return True
    return abs(a - b) <= relative * max(abs(a), abs(b))


RUN_METADATA_PLUGIN = "graph_run_metadata"


def compare_run_metadata(paths, want, graph, where):
    """The profiled batches of a run, as TF 2.0's trace_export writes them with the profiler on
    (summary_ops_v2.run_metadata): a value tagged batch_<n> at step n, plugin graph_run_metadata
    with content b"1", a scalar DT_STRING tensor of a RunMetadata with step stats and one
    function graph, which TensorBoard draws as the tag's op graph. Ringboard's function graph is
    the model's graph: equal to the run graph when write_graph wrote one."""
    problems, got = [], {}
    for path in paths:
        # The legacy loader: EventFileLoader migrates tagged run metadata into other forms.
        for event in event_file_loader.LegacyEventFileLoader(path).Load():
            if event.HasField("tagged_run_metadata"):
                problems.append(f"{where}: tagged_run_metadata {event.tagged_run_metadata.tag!r}, which TF 2.0 "
                                "does not write (a graph_run_metadata summary is expected)")
            for value in event.summary.value:
                if value.metadata.plugin_data.plugin_name != RUN_METADATA_PLUGIN:
                    continue
                got.setdefault(value.tag, []).append(event.step)
                at = f"{where}: run metadata {value.tag} step {event.step}"
                tensor = value.tensor
                if value.metadata.plugin_data.content != b"1":
                    problems.append(f"{at}: plugin content {value.metadata.plugin_data.content!r}, expected b'1'")
                if tensor.dtype != types_pb2.DT_STRING or tensor.tensor_shape.dim or len(tensor.string_val) != 1:
                    problems.append(f"{at}: not a scalar DT_STRING tensor")
                    continue
                metadata = config_pb2.RunMetadata.FromString(tensor.string_val[0])
                if not metadata.step_stats.dev_stats:
                    problems.append(f"{at}: no step stats")
                graphs = [f.pre_optimization_graph for f in metadata.function_graphs]
                if len(graphs) != 1:
                    problems.append(f"{at}: {len(graphs)} function graphs, expected one")
                elif graph is not None and graphs[0] != graph:
                    problems.append(f"{at}: the function graph differs from the run graph")
    if got != want:
        problems.append(f"{where}: run metadata {got}, expected {want}")
    return problems


def run_directories(logdir):
    runs = {}
    for path in glob.glob(os.path.join(logdir, "**", "*tfevents*"), recursive=True):
        runs.setdefault(os.path.relpath(os.path.dirname(path), logdir), []).append(path)
    return runs


def compare(logdir, expected):
    problems = []
    on_disk = run_directories(logdir)
    for run, files in on_disk.items():
        for path in files:
            report = tensorboard_check.Report()
            tensorboard_check.check_framing(path, f"file {os.path.relpath(path, logdir)}", report)
            problems += report.mismatches

    wanted_runs = {run for run, body in expected["runs"].items()
                   if any(body.get(k) for k in ("scalars", "histograms", "images", "tensors", "graph", "run_metadata"))}
    if set(on_disk) != wanted_runs:
        problems.append(f"runs {sorted(on_disk)}, expected {sorted(wanted_runs)}")

    checked = 0
    for run in sorted(wanted_runs & set(on_disk)):
        want = expected["runs"][run]
        acc = event_accumulator.EventAccumulator(os.path.join(logdir, run), size_guidance={k: 0 for k in (
            event_accumulator.SCALARS, event_accumulator.HISTOGRAMS, event_accumulator.IMAGES,
            event_accumulator.TENSORS, event_accumulator.COMPRESSED_HISTOGRAMS, event_accumulator.AUDIO)})
        acc.Reload()
        tags = acc.Tags()
        where = f"run {run}"
        # TF 2.0's profiled batch is a tensor summary of plugin graph_run_metadata: compared below.
        tags["tensors"] = [tag for tag in tags["tensors"]
                           if acc.SummaryMetadata(tag).plugin_data.plugin_name != RUN_METADATA_PLUGIN]

        for kind, got_tags, want_tags in (("scalars", tags["scalars"], want.get("scalars", {})),
                                          ("histograms", tags["histograms"], want.get("histograms", {})),
                                          ("images", tags["images"], want.get("images", {})),
                                          ("tensors", tags["tensors"], want.get("tensors", {}))):
            if sorted(got_tags) != sorted(want_tags):
                problems.append(f"{where}: {kind} tags {sorted(got_tags)}, expected {sorted(want_tags)}")
        for tag, points in want.get("scalars", {}).items():
            if tag not in tags["scalars"]:
                continue
            got = [(e.step, e.value) for e in acc.Scalars(tag)]
            if len(got) != len(points) or any(g[0] != w[0] or not same32(g[1], w[1]) for g, w in zip(got, points)):
                problems.append(f"{where}: scalar {tag}: {got[:8]}..., expected {points[:8]}...")
            checked += 1
        for tag, items in want.get("histograms", {}).items():
            if tag not in tags["histograms"]:
                continue
            got = acc.Histograms(tag)
            if [e.step for e in got] != [h["step"] for h in items]:
                problems.append(f"{where}: histogram {tag}: steps {[e.step for e in got]}, expected {[h['step'] for h in items]}")
                continue
            for event, h in zip(got, items):
                v = event.histogram_value
                exact = (same64(v.min, h["min"]) and same64(v.max, h["max"]) and v.num == number(h["num"])
                         and list(v.bucket_limit) == [number(x) for x in h["bucket_limit"]]
                         and list(v.bucket) == [number(x) for x in h["bucket"]])
                sums = close64(v.sum, number(h["sum"])) and close64(v.sum_squares, number(h["sum_squares"]))
                if not (exact and sums):
                    problems.append(f"{where}: histogram {tag} step {event.step} differs")
            checked += 1
        for tag, items in want.get("images", {}).items():
            if tag not in tags["images"]:
                continue
            got = acc.Images(tag)
            if [e.step for e in got] != [i["step"] for i in items]:
                problems.append(f"{where}: image {tag}: steps {[e.step for e in got]}, expected {[i['step'] for i in items]}")
                continue
            for event, image in zip(got, items):
                pixels = np.asarray(Image.open(io.BytesIO(event.encoded_image_string))).reshape(-1).tolist()
                if (event.height, event.width) != (image["height"], image["width"]) or pixels != image["pixels"]:
                    problems.append(f"{where}: image {tag} step {event.step} differs")
            checked += 1
        for tag, items in want.get("tensors", {}).items():
            if tag not in tags["tensors"]:
                continue
            got = acc.Tensors(tag)
            for event, item in zip(got, items):
                value = tensor_util.make_ndarray(event.tensor_proto)
                if item.get("dtype") == "DT_STRING":
                    text = value.item().decode("utf-8") if value.shape == () else None
                    want_value = item["values"][0]
                    want_json = want_value if not isinstance(want_value, str) else json.loads(want_value)
                    if text is None or json.loads(text) != want_json:
                        problems.append(f"{where}: tensor {tag} step {event.step}: {text[:80] if text else text}... differs")
            if len(got) != len(items):
                problems.append(f"{where}: tensor {tag}: {len(got)} events, expected {len(items)}")
            checked += 1
        if bool(want.get("graph")) != bool(tags.get("graph")):
            problems.append(f"{where}: graph {tags.get('graph')}, expected {want.get('graph')}")
        graph = None
        if tags.get("graph"):
            graph = graph_pb2.GraphDef.FromString(acc.Graph().SerializeToString())
        problems += compare_run_metadata(on_disk[run], want.get("run_metadata", {}), graph, where)

    for run in expected.get("profile_traces", []) or []:
        if not glob.glob(os.path.join(logdir, run, "plugins", "profile", "*", "*.trace.json.gz")):
            problems.append(f"run {run}: no profile trace")
        else:
            for path in glob.glob(os.path.join(logdir, run, "plugins", "profile", "*", "*.trace.json.gz")):
                json.load(gzip.open(path))

    projector = expected.get("projector")
    roots = []
    if projector:
        roots = [projector] if "config_path" in projector else [v for v in projector.values() if v]
    for root in roots:
        config = os.path.join(logdir, root["config_path"])
        if not os.path.exists(config):
            problems.append(f"no {root['config_path']}")
            continue
        text = open(config).read()
        for name, embedding in root.get("embeddings", {}).items():
            if f'tensor_name: "{embedding["tensor_name"]}"' not in text:
                problems.append(f"{root['config_path']}: no embedding {embedding['tensor_name']}")
        checked += 1
    found = glob.glob(os.path.join(logdir, "**", "projector_config.pbtxt"), recursive=True)
    if len(found) != len(roots):
        problems.append(f"{len(found)} projector configs, expected {len(roots)}")
    return problems, checked


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--logdir", required=True)
    parser.add_argument("--expected", required=True)
    args = parser.parse_args()
    with open(args.expected) as f:
        expected = json.load(f)
    problems, checked = compare(args.logdir, expected)
    if problems:
        for line in problems:
            print(line)
        print(f"compare_replay: FAILED, {len(problems)} differences")
        return 1
    print(f"compare_replay: {checked} series match")
    return 0


if __name__ == "__main__":
    sys.exit(main())
