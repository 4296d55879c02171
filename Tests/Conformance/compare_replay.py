#!/usr/bin/env python3
"""Compare what `ringboard replay` wrote with what the TF 2.0 callback would have written.

    python compare_replay.py --logdir LOGDIR --expected EXPECTED.json

EXPECTED.json is keras_reference.py's output. The event files under LOGDIR are read with
TensorBoard's EventAccumulator (and every record's framing checked by tensorboard_check's
strict reader); PNG images are decoded with Pillow and compared pixel by pixel. The Keras model
tensor's step, dtype, shape, plugin and JSON; each profile trace's hook spans and the batch that
stopped it; the projector config's embeddings, metadata paths and shapes, and its TSVs float32 by
float32. Exits 0 with one summary line when everything matches, 1 listing every difference.
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
import xplane  # noqa: E402  (the profile trace as XProf reads it)


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


HOOK_SPANS = {f"on_{phase}_batch_{edge}" for phase in ("train", "test", "predict") for edge in ("begin", "end")}


def compare_profile_traces(logdir, expected):
    """Each run's profile traces (plugins/profile/<session>/<host>.trace.json.gz, sessions in
    time order) against the reference's `profiles`, the traces exported in order. TF 2.0 names a
    session by the second it was saved in (profiler.save), so traces exported in the same second
    share one file, the later replacing the earlier: the files must be the expected traces or a
    subsequence of them that ends with the last. Each is Chrome trace-event JSON whose hook spans
    have batch hook names, and whose train batch ends name exactly the batch that stopped that
    trace (none when on_train_end stopped it). The step and tag trace_export gives each are the
    run metadata's, compared in compare_run_metadata."""
    problems, checked = [], 0
    profiles = expected.get("profiles")
    if profiles is None:  # an older EXPECTED.json: run names only
        profiles = [{"run": run, "batch": None, "step": None} for run in expected.get("profile_traces", []) or []]
    by_run = {}
    for profile in profiles:
        by_run.setdefault(profile["run"], []).append(profile)
    found = {os.path.relpath(path, logdir).split(os.sep + "plugins" + os.sep)[0]
             for path in glob.glob(os.path.join(logdir, "**", "plugins", "profile", "*", "*.trace.json.gz"), recursive=True)}
    for run in sorted(found - set(by_run)):
        problems.append(f"run {run}: a profile trace, expected none")
    for run, wanted in sorted(by_run.items()):
        paths = sorted(glob.glob(os.path.join(logdir, run, "plugins", "profile", "*", "*.trace.json.gz")))
        if not paths or len(paths) > len(wanted):
            problems.append(f"run {run}: {len(paths)} profile traces, expected {len(wanted)} (fewer only when some share a second)")
            continue
        ends_by_file = []
        for path in paths:
            where = f"run {run}: trace {os.path.relpath(path, logdir)}"
            xplane.compare(path, problems)  # the same spans in the .xplane.pb beside it, as XProf reads it
            try:
                document = json.load(gzip.open(path))
                events = document["traceEvents"]
            except (OSError, ValueError, KeyError, TypeError) as error:
                problems.append(f"{where}: unreadable: {error}")
                ends_by_file.append(None)
                continue
            hooks = [event for event in events if event.get("cat") == "hook"]
            names = sorted({event.get("name") for event in hooks} - HOOK_SPANS)
            if names:
                problems.append(f"{where}: hook spans {names}, which are no batch hooks")
            ends_by_file.append([event.get("args", {}).get("batch") for event in hooks if event.get("name") == "on_train_batch_end"])
        if any(profile.get("step") is None for profile in wanted):
            continue
        want = [[] if profile["batch"] is None else [str(profile["batch"])] for profile in wanted]
        # The files in order, each the next expected trace it matches; the last file the last trace.
        index, matched = 0, True
        for ends in ends_by_file:
            while index < len(want) and want[index] != ends:
                index += 1
            matched = matched and index < len(want)
            index += 1
        if not matched or ends_by_file[-1] != want[-1]:
            problems.append(f"run {run}: traces with train batch ends {ends_by_file}, expected {want} "
                            f"(steps {[profile['step'] for profile in wanted]}), or a subsequence ending with the last")
        checked += len(paths)
    return checked, problems


def projector_config(text):
    """projector_config.pbtxt's embeddings: a list of {field: [values]} (text format, strings
    unescaped)."""
    embeddings, current = [], None
    for line in text.splitlines():
        line = line.strip()
        if line == "embeddings {":
            current = {}
        elif line == "}":
            embeddings.append(current)
            current = None
        elif current is not None and ":" in line:
            key, value = line.split(":", 1)
            value = value.strip()
            if value.startswith('"'):
                value = value[1:-1].encode("latin-1", "backslashreplace").decode("unicode_escape")
            current.setdefault(key.strip(), []).append(value)
    return embeddings


def compare_projector(logdir, root):
    """One log root's projector config against the reference: the embeddings it names, each
    one's metadata path and shape, and the TSV its tensor_path names, float32 by float32."""
    problems, checked = [], 0
    config = os.path.join(logdir, root["config_path"])
    if not os.path.exists(config):
        return 0, [f"no {root['config_path']}"]
    where = root["config_path"]
    got = {entry.get("tensor_name", [None])[0]: entry for entry in projector_config(open(config).read())}
    want = {embedding["tensor_name"]: embedding for embedding in root.get("embeddings", {}).values()}
    if sorted(got, key=str) != sorted(want):
        problems.append(f"{where}: embeddings {sorted(got, key=str)}, expected {sorted(want)}")
    for name in sorted(set(got) & set(want)):
        entry, embedding = got[name], want[name]
        at = f"{where}: {name}"
        metadata = entry.get("metadata_path", [None])[0]
        if metadata != embedding["metadata_path"]:
            problems.append(f"{at}: metadata_path {metadata!r}, expected {embedding['metadata_path']!r}")
        if embedding["values"] is None:
            if "tensor_path" in entry:
                problems.append(f"{at}: tensor_path {entry['tensor_path']}, but no values were written")
            continue
        shape = [int(x) for x in entry.get("tensor_shape", [])]
        if shape != embedding["shape"]:
            problems.append(f"{at}: tensor_shape {shape}, expected {embedding['shape']}")
        # tensor_path is relative to the config's directory (the log root).
        tsv = os.path.join(os.path.dirname(config), entry.get("tensor_path", [""])[0])
        try:
            rows = [line.split("\t") for line in open(tsv).read().splitlines()]
            values = [float(value) for row in rows for value in row]
        except (OSError, ValueError) as error:
            problems.append(f"{at}: tensor_path {entry.get('tensor_path')}: {error}")
            continue
        if [len(rows), len(rows[0]) if rows else 0] != embedding["shape"] or any(len(row) != len(rows[0]) for row in rows):
            problems.append(f"{at}: the TSV is {len(rows)} rows of {sorted({len(row) for row in rows})} values, "
                            f"expected {embedding['shape']}")
        wanted = embedding["values"]
        differ = [k for k, (g, w) in enumerate(zip(values, wanted)) if not same32(g, w)]
        if len(values) != len(wanted) or differ:
            first = differ[0] if differ else min(len(values), len(wanted))
            problems.append(f"{at}: {len(values)} TSV values, expected {len(wanted)}; first difference at {first}: "
                            f"{values[first] if first < len(values) else None} vs "
                            f"{wanted[first] if first < len(wanted) else None}")
        checked += 1
    return checked, problems


def train_run_copy(name, root):
    """What Ringboard writes into a per_rank log root's `train` run: the same embeddings, with a
    relative metadata path one directory up (the TSV's path is resolved from the config's own
    directory by compare_projector)."""
    embeddings = {}
    for key, embedding in root.get("embeddings", {}).items():
        metadata = embedding["metadata_path"]
        rebased = metadata if metadata is None or os.path.isabs(metadata) else "../" + metadata
        embeddings[key] = dict(embedding, metadata_path=rebased)
    return {"config_path": f"{name}/train/projector_config.pbtxt", "embeddings": embeddings}


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
            plugin = acc.SummaryMetadata(tag).plugin_data.plugin_name
            if "plugin" in items[0] and plugin != items[0]["plugin"]:
                problems.append(f"{where}: tensor {tag}: plugin {plugin!r}, expected {items[0]['plugin']!r}")
            for event, item in zip(got, items):
                value = tensor_util.make_ndarray(event.tensor_proto)
                dtype = types_pb2.DataType.Name(event.tensor_proto.dtype)
                if event.step != item["step"] or dtype != item.get("dtype") or list(value.shape) != item.get("shape"):
                    problems.append(f"{where}: tensor {tag}: step {event.step}, {dtype} of shape {list(value.shape)}, "
                                    f"expected step {item['step']}, {item.get('dtype')} of shape {item.get('shape')}")
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

    traces, trace_problems = compare_profile_traces(logdir, expected)
    problems += trace_problems
    checked += traces

    projector = expected.get("projector")
    roots = []
    if projector:
        roots = [projector] if "config_path" in projector else [v for v in projector.values() if v]
        # A rank's log root under per_rank (`rank_<r>`, below the log_dir TensorBoard is started
        # on, where its projector does not look) also gets a copy of its config in its `train`
        # run, the paths leading from there to the same files: TF 2.0 has no such layout.
        if "config_path" not in projector:
            roots += [train_run_copy(name, root) for name, root in projector.items() if root and name != "."]
    for root in roots:
        projected, projector_problems = compare_projector(logdir, root)
        problems += projector_problems
        checked += projected
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
