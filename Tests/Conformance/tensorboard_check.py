#!/usr/bin/env python3
"""Check event files against an expectation, with the real TensorBoard.

    python tensorboard_check.py --logdir DIR --expect EXPECT.json [--timeout 60] [--no-server]

Exits 0 and prints one summary line when everything matches; exits 1 and prints
every mismatch otherwise; exits 2 when the arguments or EXPECT.json are unusable.

EXPECT.json may also hold a top-level "projector" object, checked through the
projector plugin's HTTP routes of the same server:
    {"projector": {"run": ".", "embeddings": {"<tensor name without :0>": {
        "shape": [rows, columns], "values": [...flat, row-major...],
        "metadata": "<metadata TSV text, optional>"}}}}

EXPECT.json
-----------
    {"runs": {"<run dir relative to DIR, '.' for DIR itself>": {
        "scalars":      {"tag": [[step, value], ...]},
        "histograms":   {"tag": [{"step": 0, "min": 0.0, "max": 0.0, "num": 0.0, "sum": 0.0,
                                  "sum_squares": 0.0, "bucket_limit": [...], "bucket": [...]}]},
        "images":       {"tag": [{"step": 0, "width": 2, "height": 2, "png_base64": "..."}]},
        "tensors":      {"tag": [{"step": 0, "dtype": "DT_FLOAT", "shape": [2, 3],
                                  "values": [...flat, row-major...], "plugin": "name or empty"}]},
        "graph": true,
        "run_metadata": {"tag": [step, ...]}
    }}}

A missing key means that nothing of that kind is expected; runs and tags that
are not in EXPECT.json are mismatches. Each list is in the order the events
appear in the files. Floating-point numbers may also be given as the strings
"NaN", "Infinity", "-Infinity" and "-0.0" (JSON writers often drop the sign of zero). Scalar values are compared as float32,
histogram fields as float64, bit for bit (so 0.0 and -0.0 differ; any NaN
equals any NaN). A tensor's values are compared in the tensor's own dtype; for
DT_STRING a value is either text (compared as UTF-8) or {"base64": "..."}.
"plugin" is optional and compared with the tag's summary metadata.

The sections follow how TensorBoard's EventAccumulator sorts what it reads:
  scalars       Summary.Value.simple_value
  histograms    Summary.Value.histo (HistogramProto)
  images        Summary.Value.image
  tensors       Summary.Value.tensor, whatever its plugin but graph_run_metadata
                (see run_metadata). So TF 2.x-style
                summaries (tensors carrying plugin_data, as tf.summary writes
                them) belong here, not under scalars/histograms/images: a
                tf.summary.scalar is a rank-0 DT_FLOAT tensor with plugin
                "scalars", a Keras model is a rank-0 DT_STRING tensor with
                plugin "graph_keras_model", text is a DT_STRING tensor with
                plugin "text".
  graph         Event.graph_def
  run_metadata  A RunMetadata under a tag, in either form: Event.tagged_run_metadata
                (EventAccumulator keeps only the latest per tag and no step,
                so the steps are read from the event files with TensorBoard's
                event file loader), or TF 2's trace_export summary, a value
                of plugin graph_run_metadata (content "1") holding a rank-0
                DT_STRING tensor of the serialized RunMetadata

What is checked
---------------
1. Framing: every event file is read record by record; both masked CRC32Cs of
   every record must hold, no bytes may trail the last record, and the first
   record must be an Event with file_version "brain.Event:<n>". TensorBoard
   does not report these: EventAccumulator stops reading a file silently at
   the first bad record, and the data server even keeps a record whose data
   CRC is wrong.
2. EventAccumulator (tensorboard.backend.event_processing.event_accumulator),
   one per run directory, loading everything (size guidance 0): the set of
   runs, and every section above exactly.
3. The data server: `tensorboard --load_fast=true` serves the logdir from its
   Rust data server; its HTTP API must show
     /data/runs                                  the set of runs
     /data/plugin/scalars/tags, .../scalars      scalars and plugin-"scalars"
                                                 rank-0 DT_FLOAT tensors
     /data/plugin/histograms/tags, .../histograms
                                                 histograms, as [left, right, count]
                                                 buckets: the data server turns a
                                                 HistogramProto into lefts [min] +
                                                 bucket_limit[:-1], rights
                                                 bucket_limit[:-1] + [max]; and
                                                 plugin-"histograms" [k, 3] tensors
     /data/plugin/images/tags, .../images, .../individualImage
                                                 images (PNG bytes, and width and
                                                 height, which the data server keeps
                                                 as blobs 0 and 1 of each step) and
                                                 plugin-"images" DT_STRING tensors
     /data/plugin/graphs/info, .../graph, .../run_metadata
                                                 the run graph, Keras models and
                                                 run metadata, which must parse to
                                                 what EventAccumulator read; a
                                                 graph_run_metadata tag is also an
                                                 op graph: its function graphs'
                                                 pre_optimization_graph, merged
   The data server loads asynchronously, so the API is polled until it matches
   or stops changing (or --timeout passes). The histograms route always
   downsamples to 51 steps; longer series are checked as a subset.
"""

import argparse
import base64
import binascii
import gzip
import json
import math
import os
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

import numpy as np
from google.protobuf import text_format
from tensorboard.backend.event_processing import event_accumulator
from tensorboard.backend.event_processing import event_file_loader
from tensorboard.backend.event_processing import io_wrapper
from tensorboard.compat.proto import config_pb2
from tensorboard.compat.proto import event_pb2
from tensorboard.compat.proto import graph_pb2
from tensorboard.compat.proto import types_pb2
from tensorboard.plugins.graph import graph_util
from tensorboard.plugins.graph import keras_util
from tensorboard.util import tensor_util

try:
    import google_crc32c

    def _crc32c(data):
        return google_crc32c.value(bytes(data))
except ImportError:  # TensorBoard's own pure-Python CRC32C: correct, but slow
    from tensorboard.compat.tensorflow_stub.pywrap_tensorflow import crc32c as _crc32c

SECTIONS = ("scalars", "histograms", "images", "tensors", "graph", "run_metadata")
HISTOGRAM_FIELDS = ("min", "max", "num", "sum", "sum_squares", "bucket_limit", "bucket")
# The plugin of TF 2's trace_export summary (summary_ops_v2.run_metadata): a RunMetadata.
RUN_METADATA_PLUGIN = "graph_run_metadata"

# Reservoir sizes EventAccumulator should use: 0 keeps every event.
LOAD_EVERYTHING = {
    event_accumulator.COMPRESSED_HISTOGRAMS: 0,
    event_accumulator.IMAGES: 0,
    event_accumulator.AUDIO: 0,
    event_accumulator.SCALARS: 0,
    event_accumulator.HISTOGRAMS: 0,
    event_accumulator.TENSORS: 0,
}

# The histograms plugin's HTTP route returns at most this many steps per series
# (HistogramsPlugin.SAMPLE_SIZE), whatever --samples_per_plugin says.
HISTOGRAM_ROUTE_SAMPLES = 51


class ExpectError(Exception):
    """EXPECT.json is malformed."""


class Report:
    """Collects mismatches, each prefixed by where it was found."""

    def __init__(self):
        self.mismatches = []

    def add(self, where, message):
        self.mismatches.append(f"{where}: {message}")

    def __bool__(self):
        return bool(self.mismatches)


# ---------------------------------------------------------------- numbers

_SPECIAL_FLOATS = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf, "-0.0": -0.0}


def as_float(value):
    """A float from a JSON number or one of the strings "NaN", "Infinity", "-Infinity", "-0.0"."""
    if isinstance(value, str):
        if value in _SPECIAL_FLOATS:
            return _SPECIAL_FLOATS[value]
        raise ValueError(f"not a number: {value!r}")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"not a number: {value!r}")
    return float(value)


def same_bits(a, b, dtype):
    """Exact equality in `dtype`: same bits, except that any NaN equals any NaN.
    A value too large for `dtype` becomes infinite, as a cast would make it."""
    with np.errstate(over="ignore"):
        a, b = np.asarray(a, dtype=dtype), np.asarray(b, dtype=dtype)
    if np.isnan(a) and np.isnan(b):
        return True
    return a.tobytes() == b.tobytes()


def show_float(value, dtype):
    """repr plus the bit pattern, so that near misses are visible."""
    with np.errstate(over="ignore"):
        v = np.asarray(value, dtype=dtype)
    bits = v.view(np.dtype(f"u{v.itemsize}")).item()
    return f"{float(v)!r} (0x{bits:0{v.itemsize * 2}x})"


def same_float_lists(got, want, dtype):
    """Returns None if equal, else a short description of the first difference."""
    if len(got) != len(want):
        return f"{len(got)} values, expected {len(want)}"
    differing = [i for i, (g, w) in enumerate(zip(got, want)) if not same_bits(g, w, dtype)]
    if not differing:
        return None
    i = differing[0]
    return (f"{len(differing)} of {len(want)} values differ; first at [{i}]: "
            f"{show_float(got[i], dtype)}, expected {show_float(want[i], dtype)}")


def steps_text(steps):
    steps = list(steps)
    if len(steps) > 12:
        return "[" + ", ".join(map(str, steps[:6])) + ", ..., " + ", ".join(map(str, steps[-3:])) + "]"
    return "[" + ", ".join(map(str, steps)) + "]"


# ---------------------------------------------------------------- EXPECT.json

def load_expect(path):
    """Reads EXPECT.json and checks its shape; numbers are converted to floats."""
    try:
        with open(path) as f:
            document = json.load(f)
    except (OSError, ValueError) as error:
        raise ExpectError(f"{path}: {error}")
    if not isinstance(document, dict) or not isinstance(document.get("runs"), dict):
        raise ExpectError(f'{path}: expected an object {{"runs": {{...}}}}')
    runs = {}
    for run, sections in document["runs"].items():
        where = f"{path}: run {run!r}"
        if not isinstance(sections, dict):
            raise ExpectError(f"{where}: expected an object")
        unknown = set(sections) - set(SECTIONS)
        if unknown:
            raise ExpectError(f"{where}: unknown keys {sorted(unknown)} (known: {list(SECTIONS)})")
        try:
            runs[os.path.normpath(run)] = _normalize_run(sections)
        except (KeyError, TypeError, ValueError, binascii.Error) as error:
            raise ExpectError(f"{where}: {type(error).__name__}: {error}")
    return runs


def _normalize_run(sections):
    run = {
        "scalars": {tag: [(int(step), as_float(value)) for step, value in points]
                    for tag, points in sections.get("scalars", {}).items()},
        "histograms": {tag: [_normalize_histogram(h) for h in items]
                       for tag, items in sections.get("histograms", {}).items()},
        "images": {tag: [{"step": int(i["step"]), "width": int(i["width"]), "height": int(i["height"]),
                          "png": base64.b64decode(i["png_base64"], validate=True)} for i in items]
                   for tag, items in sections.get("images", {}).items()},
        "tensors": {tag: [_normalize_tensor(t) for t in items]
                    for tag, items in sections.get("tensors", {}).items()},
        "graph": bool(sections.get("graph", False)),
        "run_metadata": {tag: [int(step) for step in steps]
                         for tag, steps in sections.get("run_metadata", {}).items()},
    }
    return run


def _normalize_histogram(item):
    histogram = {"step": int(item["step"])}
    for field in ("min", "max", "num", "sum", "sum_squares"):
        histogram[field] = as_float(item[field])
    histogram["bucket_limit"] = [as_float(v) for v in item["bucket_limit"]]
    histogram["bucket"] = [as_float(v) for v in item["bucket"]]
    if len(histogram["bucket_limit"]) != len(histogram["bucket"]):
        raise ValueError("bucket_limit and bucket differ in length")
    return histogram


def _normalize_tensor(item):
    dtype = item["dtype"]
    types_pb2.DataType.Value(dtype)  # raises ValueError for an unknown name
    values = []
    for value in item["values"]:
        if isinstance(value, dict):
            values.append(base64.b64decode(value["base64"], validate=True))
        elif isinstance(value, str) and dtype == "DT_STRING":
            values.append(value.encode("utf-8"))
        else:
            values.append(value)
    return {"step": int(item["step"]), "dtype": dtype, "shape": [int(d) for d in item["shape"]],
            "values": values, "plugin": item.get("plugin")}


def expected_tag_count(run):
    count = sum(len(run[section]) for section in ("scalars", "histograms", "images", "tensors", "run_metadata"))
    return count + (1 if run["graph"] else 0)


# ---------------------------------------------------------------- runs and framing

def discover_runs(logdir):
    """Run name ('.' for the logdir) -> run directory, as TensorBoard finds them."""
    return {os.path.normpath(os.path.relpath(directory, logdir)): directory
            for directory in io_wrapper.GetLogdirSubdirectories(logdir)}


def event_files(run_directory):
    """The event files EventAccumulator reads for a run, in its order."""
    return sorted(os.path.join(run_directory, name) for name in os.listdir(run_directory)
                  if io_wrapper.IsSummaryEventsFile(os.path.join(run_directory, name)))


def masked_crc32c(data):
    crc = _crc32c(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def check_framing(path, where, report):
    """Verifies the TFRecord framing of one event file. Returns its record count."""
    with open(path, "rb") as f:
        data = f.read()
    if not data:
        report.add(where, "empty file")
        return 0
    offset, records = 0, 0
    while offset < len(data):
        if len(data) - offset < 12:
            report.add(where, f"{len(data) - offset} trailing bytes at offset {offset} (a torn record header)")
            break
        header = data[offset:offset + 8]
        (length,) = struct.unpack("<Q", header)
        (length_crc,) = struct.unpack("<I", data[offset + 8:offset + 12])
        if masked_crc32c(header) != length_crc:
            report.add(where, f"record {records} at offset {offset}: length CRC mismatch")
            break
        end = offset + 12 + length + 4
        if end > len(data):
            report.add(where, f"record {records} at offset {offset}: {length}-byte record runs past the end of the file")
            break
        payload = data[offset + 12:offset + 12 + length]
        (data_crc,) = struct.unpack("<I", data[end - 4:end])
        if masked_crc32c(payload) != data_crc:
            report.add(where, f"record {records} at offset {offset}: data CRC mismatch")
            break
        if records == 0:
            event = event_pb2.Event()
            try:
                event.ParseFromString(payload)
            except Exception as error:  # protobuf raises DecodeError, a plain Exception subclass
                report.add(where, f"first record is not an Event: {error}")
            else:
                if not event.file_version.startswith("brain.Event:"):
                    report.add(where, f"first record has file_version {event.file_version!r}, "
                                      "expected 'brain.Event:<n>'")
        records += 1
        offset = end
    return records


# ---------------------------------------------------------------- (a) EventAccumulator

def check_accumulator(logdir, expected_runs, report):
    """Compares what EventAccumulator reads with the expectation.

    Returns (run -> GraphDef, (run, tag) -> (RunMetadata, whether it is a
    graph_run_metadata summary)), as read, for the data server check to compare
    against."""
    found = discover_runs(logdir)
    for run in sorted(set(expected_runs) - set(found)):
        report.add(f"run {run!r}", "expected, but TensorBoard finds no event files for it")
    graphs, run_metadata = {}, {}
    for run in sorted(found):
        accumulator = event_accumulator.EventAccumulator(found[run], size_guidance=LOAD_EVERYTHING)
        accumulator.Reload()
        tags = accumulator.Tags()
        where = f"EventAccumulator, run {run!r}"
        if run not in expected_runs:
            listed = {k: v for k, v in tags.items() if v and k != "distributions"}
            report.add(where, f"unexpected run (it has {listed or 'no data'})")
            continue
        expected = expected_runs[run]
        _check_scalars(accumulator, tags["scalars"], expected["scalars"], where, report)
        _check_histograms(accumulator, tags["histograms"], expected["histograms"], where, report)
        _check_images(accumulator, tags["images"], expected["images"], where, report)
        summary_metadata_tags = [tag for tag in tags["tensors"]
                                 if accumulator.SummaryMetadata(tag).plugin_data.plugin_name == RUN_METADATA_PLUGIN]
        _check_tensors(accumulator, [t for t in tags["tensors"] if t not in summary_metadata_tags],
                       expected["tensors"], where, report)
        for tag in tags["audio"]:
            report.add(f"{where}, audio {tag!r}", "unexpected tag")
        if tags["meta_graph"]:
            report.add(where, "unexpected meta graph")
        if tags["graph"]:
            try:
                graphs[run] = accumulator.Graph()
            except Exception as error:
                report.add(f"{where}, graph", f"does not parse as a GraphDef: {error}")
            if not expected["graph"]:
                report.add(f"{where}, graph", "unexpected graph")
        elif expected["graph"]:
            report.add(f"{where}, graph", "missing")
        run_metadata.update(_check_run_metadata(accumulator, tags["run_metadata"], summary_metadata_tags,
                                                found[run], run, expected["run_metadata"], where, report))
    return graphs, run_metadata


def _tag_sets(got_tags, expected_tags, where, report):
    """Reports missing and unexpected tags; returns the tags present in both."""
    got, want = set(got_tags), set(expected_tags)
    for tag in sorted(want - got):
        report.add(f"{where} {tag!r}", "missing")
    for tag in sorted(got - want):
        report.add(f"{where} {tag!r}", "unexpected tag")
    return sorted(got & want)


def _same_steps(got_steps, want_steps, where, report):
    """Reports a difference in steps; True when they are the same."""
    got_steps, want_steps = list(got_steps), list(want_steps)
    if got_steps != want_steps:
        report.add(where, f"steps {steps_text(got_steps)} ({len(got_steps)}), "
                          f"expected {steps_text(want_steps)} ({len(want_steps)})")
        return False
    return True


def _check_scalars(accumulator, got_tags, expected, where, report):
    for tag in _tag_sets(got_tags, expected, f"{where}, scalars", report):
        events, want = accumulator.Scalars(tag), expected[tag]
        at = f"{where}, scalars {tag!r}"
        if not _same_steps((e.step for e in events), (s for s, _ in want), at, report):
            continue
        for event, (step, value) in zip(events, want):
            if not same_bits(event.value, value, np.float32):
                report.add(f"{at}, step {step}", f"value {show_float(event.value, np.float32)}, "
                                                 f"expected {show_float(value, np.float32)}")


def _check_histograms(accumulator, got_tags, expected, where, report):
    for tag in _tag_sets(got_tags, expected, f"{where}, histograms", report):
        events, want = accumulator.Histograms(tag), expected[tag]
        at = f"{where}, histograms {tag!r}"
        if not _same_steps((e.step for e in events), (h["step"] for h in want), at, report):
            continue
        for event, histogram in zip(events, want):
            value = event.histogram_value
            for field in HISTOGRAM_FIELDS:
                got = getattr(value, field)
                if field in ("bucket_limit", "bucket"):
                    difference = same_float_lists(list(got), histogram[field], np.float64)
                elif same_bits(got, histogram[field], np.float64):
                    difference = None
                else:
                    difference = (f"{show_float(got, np.float64)}, "
                                  f"expected {show_float(histogram[field], np.float64)}")
                if difference:
                    report.add(f"{at}, step {histogram['step']}, {field}", difference)


def _check_images(accumulator, got_tags, expected, where, report):
    for tag in _tag_sets(got_tags, expected, f"{where}, images", report):
        events, want = accumulator.Images(tag), expected[tag]
        at = f"{where}, images {tag!r}"
        if not _same_steps((e.step for e in events), (i["step"] for i in want), at, report):
            continue
        for event, image in zip(events, want):
            step_at = f"{at}, step {image['step']}"
            if (event.width, event.height) != (image["width"], image["height"]):
                report.add(step_at, f"{event.width}x{event.height}, expected {image['width']}x{image['height']}")
            if event.encoded_image_string != image["png"]:
                report.add(step_at, "encoded image " + bytes_difference(event.encoded_image_string, image["png"]))


def _check_tensors(accumulator, got_tags, expected, where, report):
    for tag in _tag_sets(got_tags, expected, f"{where}, tensors", report):
        events, want = accumulator.Tensors(tag), expected[tag]
        at = f"{where}, tensors {tag!r}"
        plugin = accumulator.SummaryMetadata(tag).plugin_data.plugin_name
        wanted_plugins = {t["plugin"] for t in want if t["plugin"] is not None}
        for wanted in sorted(wanted_plugins):
            if plugin != wanted:
                report.add(at, f"plugin {plugin!r}, expected {wanted!r}")
        if not _same_steps((e.step for e in events), (t["step"] for t in want), at, report):
            continue
        for event, tensor in zip(events, want):
            for difference in tensor_differences(event.tensor_proto, tensor):
                report.add(f"{at}, step {tensor['step']}", difference)


def tensor_differences(proto, want):
    """Differences between a TensorProto and an expected tensor entry."""
    differences = []
    try:
        dtype = types_pb2.DataType.Name(proto.dtype)
    except ValueError:
        dtype = f"<unknown dtype {proto.dtype}>"
    shape = [d.size for d in proto.tensor_shape.dim]
    if dtype != want["dtype"]:
        differences.append(f"dtype {dtype}, expected {want['dtype']}")
    if shape != want["shape"]:
        differences.append(f"shape {shape}, expected {want['shape']}")
    if differences:
        return differences
    try:
        values = tensor_util.make_ndarray(proto).reshape(-1)
    except Exception as error:
        return [f"tensor does not decode: {error}"]
    if len(values) != len(want["values"]):
        return [f"{len(values)} values, expected {len(want['values'])}"]
    if values.dtype == np.object_:  # DT_STRING: bytes
        differing = [i for i, (g, w) in enumerate(zip(values, want["values"])) if bytes(g) != w]
        if differing:
            i = differing[0]
            differences.append(f"{len(differing)} of {len(values)} strings differ; first at [{i}]: "
                               f"{_show_bytes(values[i])}, expected {_show_bytes(want['values'][i])}")
    elif values.dtype.kind == "f":
        try:
            wanted = [as_float(v) for v in want["values"]]
        except ValueError as error:
            return [str(error)]
        difference = same_float_lists(list(values), wanted, values.dtype)
        if difference:
            differences.append(difference)
    else:
        differing = [i for i, (g, w) in enumerate(zip(values.tolist(), want["values"])) if g != w]
        if differing:
            i = differing[0]
            differences.append(f"{len(differing)} of {len(values)} values differ; first at [{i}]: "
                               f"{values[i]!r}, expected {want['values'][i]!r}")
    return differences


def bytes_difference(got, want):
    """Describes how two byte strings differ."""
    for offset, (g, w) in enumerate(zip(got, want)):
        if g != w:
            return (f"differs at byte {offset}: 0x{g:02x}, expected 0x{w:02x} "
                    f"({len(got)} bytes, expected {len(want)})")
    return f"has {len(got)} bytes, expected {len(want)}"


def _show_bytes(value):
    value = bytes(value)
    try:
        text = value.decode("utf-8")
        return repr(text if len(text) <= 60 else text[:57] + "...")
    except UnicodeDecodeError:
        return f"<{len(value)} bytes, base64 {base64.b64encode(value[:30]).decode()}...>"


def _check_run_metadata(accumulator, event_tags, summary_tags, run_directory, run, expected, where, report):
    """Checks run metadata, Event.tagged_run_metadata (`event_tags`) and graph_run_metadata
    summaries (`summary_tags`); returns (run, tag) -> (the RunMetadata read, whether it is a
    summary)."""
    if not event_tags and not summary_tags and not expected:
        return {}
    steps = {}
    for path in event_files(run_directory):
        for event in event_file_loader.LegacyEventFileLoader(path).Load():
            if event.HasField("tagged_run_metadata"):
                steps.setdefault(event.tagged_run_metadata.tag, []).append(event.step)
            for value in event.summary.value:
                if value.metadata.plugin_data.plugin_name == RUN_METADATA_PLUGIN:
                    steps.setdefault(value.tag, []).append(event.step)
    for tag in sorted(set(event_tags) & set(summary_tags)):
        report.add(f"{where}, run_metadata {tag!r}", "written both as tagged_run_metadata and as a summary")
    read = {}
    for tag in _tag_sets(list(event_tags) + list(summary_tags), expected, f"{where}, run_metadata", report):
        at = f"{where}, run_metadata {tag!r}"
        try:
            if tag in summary_tags:
                read[(run, tag)] = (_summary_run_metadata(accumulator, tag, at, report), True)
            else:
                read[(run, tag)] = (accumulator.RunMetadata(tag), False)
        except Exception as error:
            report.add(at, f"does not parse as a RunMetadata: {error}")
        _same_steps(steps.get(tag, []), expected[tag], at, report)
    return read


def _summary_run_metadata(accumulator, tag, at, report):
    """The RunMetadata of a graph_run_metadata summary, as TensorBoard's graph plugin reads it
    (the latest value), after checking the form summary_ops_v2.run_metadata gives it."""
    content = accumulator.SummaryMetadata(tag).plugin_data.content
    if content != b"1":
        report.add(at, f"plugin content {content!r}, expected b'1' (TensorBoard ignores other versions)")
    proto = accumulator.Tensors(tag)[-1].tensor_proto
    shape = [d.size for d in proto.tensor_shape.dim]
    if proto.dtype != types_pb2.DT_STRING or shape != []:
        report.add(at, f"a {types_pb2.DataType.Name(proto.dtype)} tensor of shape {shape}, expected a DT_STRING scalar")
    return config_pb2.RunMetadata.FromString(tensor_util.make_ndarray(proto).item())


# ---------------------------------------------------------------- (b) the data server

def expected_server_view(expected_runs):
    """What the data server's HTTP API should show, derived from the expectation.

    Series are lists of (step, payload) in event order:
      scalars:    payload is a float32 value;
      histograms: payload is a list of [left, right, count] float64 rows;
      images:     payload is [width bytes, height bytes, png bytes...]."""
    view = {"runs": sorted(expected_runs), "scalars": {}, "histograms": {}, "images": {},
            "run_graph": set(), "conceptual_graphs": {}, "profiles": {}}

    def series(kind, run, tag):
        return view[kind].setdefault(run, {}).setdefault(tag, [])

    for run, expected in expected_runs.items():
        for tag, points in expected["scalars"].items():
            series("scalars", run, tag).extend(points)
        for tag, histograms in expected["histograms"].items():
            for h in histograms:
                limits = h["bucket_limit"]
                lefts = [h["min"]] + limits[:-1]
                rights = limits[:-1] + [h["max"]]
                series("histograms", run, tag).append(
                    (h["step"], [list(row) for row in zip(lefts, rights, h["bucket"])]))
        for tag, images in expected["images"].items():
            for image in images:
                series("images", run, tag).append(
                    (image["step"], [str(image["width"]).encode(), str(image["height"]).encode(), image["png"]]))
        for tag, tensors in expected["tensors"].items():
            plugin = next((t["plugin"] for t in tensors if t["plugin"] is not None), None)
            for t in tensors:
                if plugin == "scalars" and t["dtype"] == "DT_FLOAT" and t["shape"] == []:
                    series("scalars", run, tag).append((t["step"], as_float(t["values"][0])))
                elif plugin == "histograms" and len(t["shape"]) == 2 and t["shape"][1] == 3:
                    values = [as_float(v) for v in t["values"]]
                    series("histograms", run, tag).append(
                        (t["step"], [values[i:i + 3] for i in range(0, len(values), 3)]))
                elif plugin == "images" and t["dtype"] == "DT_STRING" and len(t["shape"]) == 1:
                    series("images", run, tag).append((t["step"], list(t["values"])))
                elif plugin == "graph_keras_model":
                    view["conceptual_graphs"].setdefault(run, set()).add(tag)
                    # The graph TensorBoard makes of the model JSON, as its graph plugin does.
                    view.setdefault("keras_graphs", {})[(run, tag)] = t["values"][-1]
        if expected["graph"]:
            view["run_graph"].add(run)
        if expected["run_metadata"]:
            view["profiles"][run] = set(expected["run_metadata"])
    return view


class TensorBoardServer:
    """`tensorboard --load_fast=true` on a free loopback port, in its own process
    group so that stopping it also stops the data server it starts."""

    def __init__(self, logdir, sampling, reload_interval=1):
        self.logdir = logdir
        self.sampling = sampling
        self.reload_interval = reload_interval
        self.process = None
        self.log = None
        self.port = None

    @staticmethod
    def _command():
        script = os.path.join(os.path.dirname(sys.executable), "tensorboard")
        if os.access(script, os.X_OK):
            return [script]
        return [sys.executable, "-m", "tensorboard.main"]

    @staticmethod
    def _free_port():
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", 0))
            return s.getsockname()[1]

    def start(self, deadline):
        """Starts the server and waits until it answers HTTP. Returns an error text or None."""
        for _ in range(3):  # the free port can be taken before TensorBoard binds it
            self.port = self._free_port()
            self.log = tempfile.TemporaryFile()
            samples = ",".join(f"{plugin}={count}" for plugin, count in sorted(self.sampling.items()))
            self.process = subprocess.Popen(
                self._command() + ["--logdir", self.logdir, "--load_fast=true", "--host", "127.0.0.1",
                                   "--port", str(self.port), "--reload_interval", str(self.reload_interval),
                                   "--samples_per_plugin", samples],
                stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT,
                start_new_session=True)
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    break
                try:
                    self.get("/data/runs", timeout=2)
                    return None
                except (urllib.error.URLError, ConnectionError, OSError):
                    time.sleep(0.2)
            if self.process.poll() is None:
                return "TensorBoard did not answer before the timeout\n" + self.log_tail()
            failure = self.log_tail()
            self.stop()
            if "already in use" not in failure.lower():
                return f"TensorBoard exited with status {self.process.returncode}\n{failure}"
        return "TensorBoard could not bind a port\n" + failure

    def get(self, path, timeout=10):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=timeout) as response:
            body = response.read()
            # The profile plugin (XProf) answers gzip-compressed, whatever the request accepts.
            return gzip.decompress(body) if response.headers.get("Content-Encoding") == "gzip" else body

    def get_json(self, path, **query):
        """GETs a JSON route; an HTTP error becomes {"http_error": status, "body": text}."""
        url = path + ("?" + urllib.parse.urlencode(query) if query else "")
        try:
            return json.loads(self.get(url))
        except urllib.error.HTTPError as error:
            return {"http_error": error.code, "body": error.read().decode("utf-8", "replace")[:200]}
        except (urllib.error.URLError, OSError, ValueError) as error:  # no answer, or not JSON
            return {"http_error": "no answer", "body": str(error)}

    def log_tail(self, lines=20):
        if self.log is None:
            return ""
        self.log.seek(0)
        text = self.log.read().decode("utf-8", "replace").strip().splitlines()
        return "\n".join("    " + line for line in text[-lines:])

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            for sig, wait in ((signal.SIGTERM, 5), (signal.SIGKILL, 5)):
                try:
                    os.killpg(self.process.pid, sig)
                except ProcessLookupError:
                    break
                try:
                    self.process.wait(timeout=wait)
                    break
                except subprocess.TimeoutExpired:
                    continue
        if self.process is not None:
            # The data server exits once its stdin (a pipe from TensorBoard) closes;
            # make sure nothing of the group outlives us.
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        if self.log is not None:
            self.log.close()
            self.log = None


def fetch_server_view(server, expected):
    """Reads from the HTTP API everything `expected` (an expected_server_view) covers,
    in the same shape, plus the raw tag listings."""
    runs = server.get_json("/data/runs")
    view = {"runs": sorted(runs) if isinstance(runs, list) else runs}
    for kind, route in (("scalars", "scalars"), ("histograms", "histograms")):
        view[kind + "_tags"] = server.get_json(f"/data/plugin/{kind}/tags")
        view[kind] = {}
        for run, tags in expected[kind].items():
            for tag in tags:
                rows = server.get_json(f"/data/plugin/{kind}/{route}", run=run, tag=tag)
                if isinstance(rows, list):  # [[wall_time, step, payload], ...]
                    rows = [(row[1], row[2]) for row in rows]
                view[kind].setdefault(run, {})[tag] = rows
    view["images_tags"] = server.get_json("/data/plugin/images/tags")
    view["images"] = {}
    for run, tags in expected["images"].items():
        for tag, points in tags.items():
            samples = max(len(blobs) - 2 for _, blobs in points)
            view["images"].setdefault(run, {})[tag] = _fetch_images(server, run, tag, samples)
    view["graphs_info"] = server.get_json("/data/plugin/graphs/info")
    return view


def _fetch_images(server, run, tag, samples):
    """Per step, [width, height, png...] as the data server serves them, or an error dict."""
    steps = {}
    for sample in range(samples):
        listing = server.get_json("/data/plugin/images/images", run=run, tag=tag, sample=sample)
        if not isinstance(listing, list):
            return listing
        for entry in listing:
            query = urllib.parse.parse_qs(entry["query"])
            blob_key = query["blob_key"][0]
            blobs = steps.setdefault(entry["step"], {})
            blobs[2 + sample] = _fetch_blob(server, blob_key)
            if sample == 0:
                # The data server keeps width and height as blobs 0 and 1 of the step. In
                # TensorBoard 2.x a blob key is base64url JSON [experiment, run, tag, step, index].
                for index in (0, 1):
                    key = _sibling_blob_key(blob_key, index)
                    blobs[index] = _fetch_blob(server, key) if key else b"<blob key not understood>"
    return [(step, [blobs.get(i, b"<missing>") for i in range(max(blobs) + 1)])
            for step, blobs in steps.items()]


def _fetch_blob(server, blob_key):
    try:
        return server.get("/data/plugin/images/individualImage?" + urllib.parse.urlencode({"blob_key": blob_key}))
    except urllib.error.HTTPError as error:
        return f"<HTTP {error.code}>".encode()
    except (urllib.error.URLError, OSError) as error:
        return f"<no answer: {error}>".encode()


def _sibling_blob_key(blob_key, index):
    try:
        parts = json.loads(base64.urlsafe_b64decode(blob_key + "=" * (-len(blob_key) % 4)))
        if not (isinstance(parts, list) and len(parts) == 5 and isinstance(parts[4], int)):
            return None
    except ValueError:
        return None
    parts[4] = index
    return base64.urlsafe_b64encode(json.dumps(parts, separators=(",", ":")).encode()).decode().rstrip("=")


def compare_server_view(expected, got, graphs, run_metadata, server, report):
    """Compares a fetched view with the expected one. `server` is used for the graph
    routes, which are only read once the rest matches."""
    where = "data server"
    if got["runs"] != expected["runs"]:
        report.add(f"{where}, /data/runs", f"{got['runs']}, expected {expected['runs']}")

    for kind in ("scalars", "histograms", "images"):
        tags = got[kind + "_tags"]
        listed = {run: sorted(t) for run, t in sorted(tags.items())} if "http_error" not in tags else tags
        wanted = {run: sorted(t) for run, t in sorted(expected[kind].items())}
        if listed != wanted:
            report.add(f"{where}, /data/plugin/{kind}/tags", f"{listed}, expected {wanted}")
        for run, series in expected[kind].items():
            for tag, want in series.items():
                _compare_series(kind, want, got[kind].get(run, {}).get(tag),
                                f"{where}, {kind} run {run!r} tag {tag!r}", report)
        if kind == "images" and "http_error" not in tags:
            for run, series in expected["images"].items():
                for tag, want in series.items():
                    samples = tags.get(run, {}).get(tag, {}).get("samples")
                    wanted_samples = max(len(blobs) - 2 for _, blobs in want)
                    if samples is not None and samples != wanted_samples:
                        report.add(f"{where}, images run {run!r} tag {tag!r}",
                                   f"{samples} samples per step, expected {wanted_samples}")

    info = got["graphs_info"]
    if "http_error" in info:
        if expected["run_graph"] or expected["conceptual_graphs"] or expected["profiles"]:
            report.add(f"{where}, /data/plugin/graphs/info", str(info))
        return
    listed = {run: (bool(entry.get("run_graph")),
                    sorted(t for t, e in entry.get("tags", {}).items() if e.get("conceptual_graph")),
                    sorted(t for t, e in entry.get("tags", {}).items() if e.get("profile")))
              for run, entry in sorted(info.items())}
    runs = set(expected["run_graph"]) | set(expected["conceptual_graphs"]) | set(expected["profiles"])
    wanted = {run: (run in expected["run_graph"], sorted(expected["conceptual_graphs"].get(run, ())),
                    sorted(expected["profiles"].get(run, ()))) for run in sorted(runs)}
    if listed != wanted:
        report.add(f"{where}, /data/plugin/graphs/info",
                   f"(run graph, Keras models, run metadata tags) per run: {listed}, expected {wanted}")
        return
    if report:
        return  # the graph routes are compared only once everything else matches
    for run in sorted(expected["run_graph"]):
        if run in graphs:
            _compare_pbtxt(server, graph_pb2.GraphDef(), graphs[run],
                           "/data/plugin/graphs/graph", {"run": run, "conceptual": "false"},
                           f"{where}, graph of run {run!r}", report)
    for (run, tag), model_json in sorted(expected.get("keras_graphs", {}).items()):
        model = json.loads(model_json.decode("utf-8") if isinstance(model_json, bytes) else model_json)
        _compare_pbtxt(server, graph_pb2.GraphDef(), keras_util.keras_model_to_graph_def(model),
                       "/data/plugin/graphs/graph", {"run": run, "tag": tag, "conceptual": "true"},
                       f"{where}, Keras model {tag!r} of run {run!r}", report)
    for (run, tag), (metadata, is_summary) in sorted(run_metadata.items()):
        _compare_pbtxt(server, config_pb2.RunMetadata(), metadata,
                       "/data/plugin/graphs/run_metadata", {"run": run, "tag": tag},
                       f"{where}, run_metadata run {run!r} tag {tag!r}", report)
        if is_summary:
            # The tag's op graph: its function graphs' pre_optimization_graph, as the plugin merges them.
            graph = graph_util.merge_graph_defs([f.pre_optimization_graph for f in metadata.function_graphs])
            _compare_pbtxt(server, graph_pb2.GraphDef(), graph,
                           "/data/plugin/graphs/graph", {"run": run, "tag": tag, "conceptual": "false"},
                           f"{where}, op graph of run_metadata run {run!r} tag {tag!r}", report)


def _compare_pbtxt(server, message, want, path, query, where, report):
    try:
        text = server.get(path + "?" + urllib.parse.urlencode(query)).decode("utf-8")
        text_format.Parse(text, message)
    except Exception as error:
        report.add(where, f"cannot read it: {error}")
        return
    if message != want:
        report.add(where, "differs from what EventAccumulator read")


def _compare_series(kind, want, got, where, report):
    if got is None:
        report.add(where, "not fetched")
        return
    if isinstance(got, dict):
        report.add(where, f"HTTP {got.get('http_error')}: {got.get('body')}")
        return
    if kind == "histograms" and len(want) > HISTOGRAM_ROUTE_SAMPLES:
        # Downsampled by the route: each step shown must match the expected one.
        by_step = dict(want)
        if len(got) != HISTOGRAM_ROUTE_SAMPLES:
            report.add(where, f"{len(got)} steps shown, expected {HISTOGRAM_ROUTE_SAMPLES} of {len(want)}")
        for step, payload in got:
            if step not in by_step:
                report.add(where, f"step {step} is not an expected step")
            else:
                _compare_payload(kind, payload, by_step[step], f"{where}, step {step}", report)
        return
    if not _same_steps((s for s, _ in got), (s for s, _ in want), where, report):
        return
    for (step, payload), (_, wanted) in zip(got, want):
        _compare_payload(kind, payload, wanted, f"{where}, step {step}", report)


def _compare_payload(kind, got, want, where, report):
    if kind == "scalars":
        try:
            value = as_float(got)
        except ValueError as error:
            report.add(where, str(error))
            return
        if not same_bits(value, want, np.float32):
            report.add(where, f"value {show_float(value, np.float32)}, expected {show_float(want, np.float32)}")
    elif kind == "histograms":
        if len(got) != len(want):
            report.add(where, f"{len(got)} buckets, expected {len(want)}")
            return
        try:
            flat = [as_float(v) for row in got for v in row]
        except (TypeError, ValueError) as error:
            report.add(where, f"unreadable buckets: {error}")
            return
        difference = same_float_lists(flat, [v for row in want for v in row], np.float64)
        if difference:
            report.add(where, f"[left, right, count] buckets: {difference}")
    else:  # images: [width, height, png...]
        labels = ["width", "height"] + [f"image {i}" for i in range(len(want) - 2)]
        if len(got) != len(want):
            report.add(where, f"{len(got) - 2} images, expected {len(want) - 2}")
        for label, g, w in zip(labels, got, want):
            if g == w:
                continue
            if label in ("width", "height"):
                report.add(where, f"{label} {g.decode('utf-8', 'replace')}, expected {w.decode('utf-8', 'replace')}")
            else:
                report.add(where, f"{label} {bytes_difference(g, w)}")


def check_data_server(logdir, expected_runs, graphs, run_metadata, timeout, report, expected_projector=None):
    """Serves `logdir` with `tensorboard --load_fast=true` and compares its HTTP API
    with the expectation, polling until it matches or stops changing."""
    expected = expected_server_view(expected_runs)
    runs_on_disk = bool(discover_runs(logdir))
    # Keep every step in the data server's reservoirs (defaults: 1000 scalars,
    # 500 histograms, 10 images per series).
    longest = {kind: max((len(s) for tags in expected[kind].values() for s in tags.values()), default=0)
               for kind in ("scalars", "histograms", "images")}
    sampling = {"scalars": max(1000, longest["scalars"]), "histograms": max(500, longest["histograms"]),
                "images": max(10, longest["images"])}
    reload_interval = 1
    settle = 2 * reload_interval + 2  # seconds an unchanged, mismatching view is watched
    deadline = time.monotonic() + timeout
    server = TensorBoardServer(logdir, sampling, reload_interval)
    try:
        error = server.start(deadline)
        if error:
            report.add("data server", error)
            return
        previous, unchanged_since = None, time.monotonic()
        while True:
            attempt = Report()
            got = fetch_server_view(server, expected)
            compare_server_view(expected, got, graphs, run_metadata, server, attempt)
            if expected_projector:
                got["projector"] = compare_projector(server, expected_projector, attempt)
            if not attempt:
                return
            now = time.monotonic()
            snapshot = repr(got)
            if runs_on_disk and not got["runs"]:
                snapshot = None  # nothing loaded yet: keep waiting for the first load
            if snapshot is None or snapshot != previous:
                previous, unchanged_since = snapshot, now
            if now - unchanged_since >= settle or now >= deadline:
                if now >= deadline:
                    attempt.add("data server", f"still differs after {timeout} s")
                report.mismatches.extend(attempt.mismatches)
                return
            time.sleep(0.3)
    finally:
        server.stop()


# ---------------------------------------------------------------- projector

def load_projector_expect(path):
    """The optional "projector" section of EXPECT.json, or None."""
    with open(path) as f:
        document = json.load(f)
    projector = document.get("projector")
    if projector is None:
        return None
    try:
        return {"run": str(projector.get("run", ".")),
                "embeddings": {name: {"shape": [int(n) for n in item["shape"]],
                                      "values": [as_float(v) for v in item["values"]],
                                      "metadata": item.get("metadata")}
                               for name, item in projector["embeddings"].items()}}
    except (AttributeError, KeyError, TypeError, ValueError) as error:
        raise ExpectError(f"{path}: projector: {type(error).__name__}: {error}")


def compare_projector(server, expected, report):
    """Checks the projector plugin's routes: the run is listed, its config names
    each embedding with its shape, and /tensor serves the values as float32."""
    where = "data server, projector"
    run = expected["run"]
    runs = server.get_json("/data/plugin/projector/runs")
    if not isinstance(runs, list) or run not in runs:
        report.add(where, f"runs {runs!r} do not include {run!r}")
        return repr(runs)
    info = server.get_json("/data/plugin/projector/info", run=run)
    embeddings = {e.get("tensorName"): e for e in info.get("embeddings", [])} if isinstance(info, dict) else {}
    if set(embeddings) != set(expected["embeddings"]):
        report.add(where, f"embeddings {sorted(embeddings)} != expected {sorted(expected['embeddings'])}")
        return repr(info)
    for name, want in expected["embeddings"].items():
        shape = [int(n) for n in embeddings[name].get("tensorShape", [])]
        if shape != want["shape"]:
            report.add(where, f"{name}: shape {shape} != {want['shape']}")
        query = urllib.parse.urlencode({"run": run, "name": name, "num_rows": want["shape"][0]})
        try:
            data = server.get(f"/data/plugin/projector/tensor?{query}")
        except (urllib.error.URLError, OSError) as error:
            report.add(where, f"{name}: /tensor failed: {error}")
            continue
        got = list(struct.unpack(f"<{len(data) // 4}f", data[: len(data) // 4 * 4]))
        difference = same_float_lists(got, want["values"], "float32")
        if difference:
            report.add(where, f"{name}: {difference}")
        if want["metadata"] is not None:
            query = urllib.parse.urlencode({"run": run, "name": name})
            try:
                text = server.get(f"/data/plugin/projector/metadata?{query}").decode("utf-8")
            except (urllib.error.URLError, OSError) as error:
                report.add(where, f"{name}: /metadata failed: {error}")
                continue
            if text != want["metadata"]:
                report.add(where, f"{name}: metadata {text[:60]!r} != {want['metadata'][:60]!r}")
    return repr(info)


# ---------------------------------------------------------------- main

def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--logdir", required=True)
    parser.add_argument("--expect", required=True, help="EXPECT.json, see the module documentation")
    parser.add_argument("--timeout", type=float, default=60.0,
                        help="seconds to wait for the data server (default 60)")
    parser.add_argument("--no-server", action="store_true", help="skip the data server check")
    args = parser.parse_args(argv)
    started = time.monotonic()

    if not os.path.isdir(args.logdir):
        print(f"tensorboard_check: {args.logdir} is not a directory", file=sys.stderr)
        return 2
    try:
        expected_runs = load_expect(args.expect)
        expected_projector = load_projector_expect(args.expect)
    except ExpectError as error:
        print(f"tensorboard_check: {error}", file=sys.stderr)
        return 2
    logdir = os.path.abspath(args.logdir)

    report = Report()
    files = records = 0
    for run, directory in sorted(discover_runs(logdir).items()):
        for path in event_files(directory):
            files += 1
            records += check_framing(path, f"file {os.path.relpath(path, logdir)}", report)
    graphs, run_metadata = check_accumulator(logdir, expected_runs, report)
    if not args.no_server:
        check_data_server(logdir, expected_runs, graphs, run_metadata, args.timeout, report, expected_projector)

    if report:
        for line in report.mismatches:
            print(line)
        print(f"tensorboard_check: FAILED, {len(report.mismatches)} mismatches")
        return 1
    tags = sum(expected_tag_count(run) for run in expected_runs.values())
    checkers = "EventAccumulator" if args.no_server else "EventAccumulator and the data server"
    print(f"tensorboard_check: {len(expected_runs)} runs, {tags} tags verified by {checkers} "
          f"({files} event files, {records} records, CRCs ok; {time.monotonic() - started:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
