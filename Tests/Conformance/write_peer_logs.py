#!/usr/bin/env python3
"""Write TensorBoard event files with other writers, plus a description of them.

    python write_peer_logs.py --out DIR --expect EXPECT.json

Runs written (run names are paths relative to DIR):

  tbx       tensorboardX.SummaryWriter: add_scalar, add_histogram, add_image,
            add_text (TF 1.x-style values: simple_value, HistogramProto,
            Summary.Image, and a string tensor for the text plugin).
  tb/train  tensorboard.summary.writer.event_file_writer.EventFileWriter with
            TF 2.x-style summaries (tensors carrying plugin_data), built with
            TensorBoard's TensorFlow-free helpers: scalar_pb, histogram_pb,
            text_pb. TensorBoard has no TensorFlow-free image helper, so the
            image tensor is built here exactly as tf.summary.image lays it out
            (DT_STRING [width, height, png, ...], plugin "images"). Also a
            Keras model summary (plugin "graph_keras_model", as
            tf.summary.keras_model writes it), an Event.graph_def and an
            Event.tagged_run_metadata.

EXPECT.json says, per run, per tag, the kind TensorBoard gives it and its steps:

    {"runs": {"tbx": {"tags": {"loss": {"kind": "scalar", "count": 5,
                                         "first_step": 0, "last_step": 4}}}}}

first_step and last_step are the smallest and largest step. Kinds:
  simple_value -> "scalar", histo -> "histogram", image -> "image",
  audio -> "audio"; a tensor goes by the plugin_name of the first metadata
  seen for its tag: "scalars" -> "scalar", "histograms" -> "histogram",
  "images" -> "image", "graph_keras_model" -> "graph", anything else
  (text included) -> "tensor";
  Event.graph_def -> tag "__graph__", kind "graph";
  Event.tagged_run_metadata -> its tag, kind "run_metadata".
Other events (file_version, meta_graph_def, session_log, log_message) have no
tag and are not described.

After writing, every file is read back with TensorBoard's own event file
loader and classified by the rules above; the script exits 1 if that differs
from what it meant to write, 0 otherwise.
"""

import argparse
import collections
import json
import os
import shutil
import struct
import sys
import zlib

import numpy as np
from tensorboard.backend.event_processing import event_file_loader
from tensorboard.compat.proto import event_pb2
from tensorboard.compat.proto import graph_pb2
from tensorboard.compat.proto import config_pb2
from tensorboard.compat.proto import summary_pb2
from tensorboard.plugins.histogram import summary_v2 as histogram_summary
from tensorboard.plugins.image import metadata as image_metadata
from tensorboard.plugins.scalar import summary_v2 as scalar_summary
from tensorboard.plugins.text import summary_v2 as text_summary
from tensorboard.summary.writer.event_file_writer import EventFileWriter
from tensorboard.util import tensor_util
import tensorboardX

# How a tensor's plugin name maps to a kind (anything else is "tensor").
TENSOR_PLUGIN_KINDS = {
    "scalars": "scalar",
    "histograms": "histogram",
    "images": "image",
    "graph_keras_model": "graph",
}

# How a non-tensor Summary.Value field maps to a kind.
VALUE_FIELD_KINDS = {
    "simple_value": "scalar",
    "histo": "histogram",
    "image": "image",
    "audio": "audio",
}

GRAPH_TAG = "__graph__"


class Intent:
    """What the writers were asked to write: run -> tag -> (kind, [steps])."""

    def __init__(self):
        self.runs = collections.defaultdict(dict)

    def add(self, run, tag, kind, step):
        entry = self.runs[run].setdefault(tag, {"kind": kind, "steps": []})
        assert entry["kind"] == kind, (run, tag, entry["kind"], kind)
        entry["steps"].append(step)

    def as_expect(self):
        return {
            "runs": {
                run: {"tags": {tag: _tag_summary(e["kind"], e["steps"])
                               for tag, e in sorted(tags.items())}}
                for run, tags in sorted(self.runs.items())
            }
        }


def _tag_summary(kind, steps):
    return {"kind": kind, "count": len(steps),
            "first_step": min(steps), "last_step": max(steps)}


def encode_png(pixels):
    """Encodes a uint8 array [height, width, channels] (1, 3 or 4) as a PNG."""
    height, width, channels = pixels.shape
    color_type = {1: 0, 3: 2, 4: 6}[channels]

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, color_type, 0, 0, 0)
    # Filter type 0 (None) before every scanline.
    raw = b"".join(b"\x00" + pixels[row].tobytes() for row in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def write_tensorboardx_run(out, intent):
    run = "tbx"
    writer = tensorboardX.SummaryWriter(os.path.join(out, run))
    for step in range(5):
        writer.add_scalar("loss", 1.0 / (step + 1), step)
        intent.add(run, "loss", "scalar", step)
    for step in range(2, 4):
        writer.add_scalar("accuracy", 0.25 * step, step)
        intent.add(run, "accuracy", "scalar", step)
    rng = np.random.default_rng(7)
    for step in range(3):
        writer.add_histogram("dense/kernel", rng.normal(size=64), step)
        intent.add(run, "dense/kernel", "histogram", step)
    image = np.zeros((3, 4, 5), dtype=np.uint8)  # CHW, the tensorboardX default
    image[0, :, :2] = 255
    image[2, 1:, 3:] = 128
    writer.add_image("sample", image, 1)
    intent.add(run, "sample", "image", 1)
    # tensorboardX names text summaries "<tag>/text_summary".
    writer.add_text("notes", "hello from tensorboardX", 2)
    intent.add(run, "notes/text_summary", "tensor", 2)
    writer.close()


def image_summary(tag, images):
    """A TF 2.x image summary: DT_STRING [width, height, png...], plugin "images"."""
    images = np.asarray(images, dtype=np.uint8)
    _, height, width, _ = images.shape
    content = [str(width).encode(), str(height).encode()]
    content += [encode_png(image) for image in images]
    tensor = tensor_util.make_tensor_proto(content, dtype=np.object_)
    metadata = image_metadata.create_summary_metadata(display_name=None, description=None)
    summary = summary_pb2.Summary()
    summary.value.add(tag=tag, metadata=metadata, tensor=tensor)
    return summary


def keras_model_summary(tag, model_json):
    """A Keras model summary laid out as tf.summary.keras_model writes it."""
    metadata = summary_pb2.SummaryMetadata()
    metadata.plugin_data.plugin_name = "graph_keras_model"
    metadata.plugin_data.content = b"1"
    tensor = tensor_util.make_tensor_proto(model_json.encode(), dtype=np.object_)
    summary = summary_pb2.Summary()
    summary.value.add(tag=tag, metadata=metadata, tensor=tensor)
    return summary


def write_tensorboard_run(out, intent):
    run = "tb/train"
    writer = EventFileWriter(os.path.join(out, run))

    def add_summary(summary, step, kind):
        writer.add_event(event_pb2.Event(wall_time=1.0e9 + step, step=step, summary=summary))
        for value in summary.value:
            intent.add(run, value.tag, kind, step)

    graph = graph_pb2.GraphDef()
    graph.node.add(name="x", op="Placeholder")
    graph.node.add(name="y", op="Identity", input=["x"])
    writer.add_event(event_pb2.Event(wall_time=1.0e9, step=0, graph_def=graph.SerializeToString()))
    intent.add(run, GRAPH_TAG, "graph", 0)

    model = {"class_name": "Sequential", "config": {"name": "m", "layers": [
        {"class_name": "Dense", "config": {"name": "dense", "units": 3}}]}}
    add_summary(keras_model_summary("keras", json.dumps(model)), 0, "graph")

    for step in range(4):
        add_summary(scalar_summary.scalar_pb("epoch_loss", 2.0 - 0.5 * step), step, "scalar")
    rng = np.random.default_rng(11)
    for step in (0, 2):
        add_summary(histogram_summary.histogram_pb("dense/bias_0", rng.uniform(size=32)), step, "histogram")
    pixels = np.zeros((2, 3, 4, 3), dtype=np.uint8)
    pixels[0, 0, 0] = (255, 0, 0)
    pixels[1, 2, 3] = (0, 0, 255)
    add_summary(image_summary("samples", pixels), 1, "image")
    add_summary(text_summary.text_pb("notes", "hello from tensorboard"), 0, "tensor")

    run_metadata = config_pb2.RunMetadata()
    run_metadata.step_stats.dev_stats.add(device="/cpu:0")
    writer.add_event(event_pb2.Event(
        wall_time=1.0e9 + 3, step=3,
        tagged_run_metadata=event_pb2.TaggedRunMetadata(
            tag="batch_3", run_metadata=run_metadata.SerializeToString())))
    intent.add(run, "batch_3", "run_metadata", 3)
    writer.close()


def classify_logdir(out):
    """Reads every event file under `out` with TensorBoard's loader and classifies
    each tag. Returns run -> tag -> (kind, [steps])."""
    runs = {}
    for directory, _, files in sorted(os.walk(out)):
        event_files = sorted(f for f in files if "tfevents" in f)
        if not event_files:
            continue
        run = os.path.relpath(directory, out)
        tags = runs.setdefault(run, {})
        kinds_by_tag = {}  # the first metadata of a tag decides its kind

        def record(tag, kind, step):
            kind = kinds_by_tag.setdefault(tag, kind)
            tags.setdefault(tag, {"kind": kind, "steps": []})["steps"].append(step)

        for name in event_files:
            loader = event_file_loader.LegacyEventFileLoader(os.path.join(directory, name))
            for event in loader.Load():
                what = event.WhichOneof("what")
                if what == "graph_def":
                    record(GRAPH_TAG, "graph", event.step)
                elif what == "tagged_run_metadata":
                    record(event.tagged_run_metadata.tag, "run_metadata", event.step)
                elif what == "summary":
                    for value in event.summary.value:
                        field = value.WhichOneof("value")
                        if field == "tensor":
                            plugin = value.metadata.plugin_data.plugin_name
                            kind = kinds_by_tag.get(value.tag) or TENSOR_PLUGIN_KINDS.get(plugin, "tensor")
                        else:
                            kind = VALUE_FIELD_KINDS.get(field, "tensor")
                        record(value.tag, kind, event.step)
    return runs


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True, help="directory to write runs into")
    parser.add_argument("--expect", required=True, help="where to write EXPECT.json")
    args = parser.parse_args()

    for run in ("tbx", "tb"):
        shutil.rmtree(os.path.join(args.out, run), ignore_errors=True)
    os.makedirs(args.out, exist_ok=True)

    intent = Intent()
    write_tensorboardx_run(args.out, intent)
    write_tensorboard_run(args.out, intent)
    expect = intent.as_expect()

    observed = {
        run: {"tags": {tag: _tag_summary(e["kind"], e["steps"]) for tag, e in sorted(tags.items())}}
        for run, tags in sorted(classify_logdir(args.out).items())
    }
    with open(args.expect, "w") as f:
        json.dump(expect, f, indent=2, sort_keys=True)
        f.write("\n")

    if observed != expect["runs"]:
        print("write_peer_logs: the files read back differ from what was written", file=sys.stderr)
        print("  intended: " + json.dumps(expect["runs"], sort_keys=True), file=sys.stderr)
        print("  read:     " + json.dumps(observed, sort_keys=True), file=sys.stderr)
        return 1
    tag_count = sum(len(r["tags"]) for r in expect["runs"].values())
    print(f"write_peer_logs: {len(expect['runs'])} runs, {tag_count} tags written to {args.out}; "
          f"description in {args.expect}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
