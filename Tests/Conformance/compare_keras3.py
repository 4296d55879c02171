#!/usr/bin/env python3
"""Compare a run Ringboard wrote under semantics "keras3" with what Keras 3's own callback wrote.

    python compare_keras3.py KERAS_RUN OUR_RUN [--served]

KERAS_RUN and OUR_RUN are run directories holding train/ and validation/ (a fixture's keras/
directory from make_keras3_fixtures.py, and `ringboard replay`'s output for its trace). Run with
the project's .venv (TensorBoard).

Every event file of a subdirectory is read with TensorBoard's own loader, in file-name order, as
TensorBoard reads them. For each tag the events must be the same, step for step:
  * the summary metadata (plugin name and content, display name, description, data class);
  * scalars: DT_FLOAT, shape [], the same float32;
  * histograms: the [k, 3] DT_DOUBLE tensor, bit for bit;
  * images: width and height, and every PNG's decoded pixels (Pillow), mode and size;
  * the Keras model JSON (tag "keras"): the same JSON (its keys' order aside);
  * a profiled batch's run metadata: there, at the same step (its timings differ run to run);
  * graph events (Event.graph_def): Keras 3 writes none (its train-function graph needs
    TensorFlow's tracing, and Keras 3.15 writes it on no backend), and TensorBoard's Graphs
    dashboard then opens on "Malformed GraphDef"; ours must hold a layer graph, in train/, one
    per "keras" summary (when Keras wrote any), each with nodes. When Keras wrote graph events,
    there must be as many.
Keras writes a new pair of files at every set_model, so the order across files is an artifact
of file names; within a tag the events are compared in step order, and their counts must match.

With --served, TensorBoard's Rust data server (`--load_fast=true`) serves both run directories
and its answers must be the same: the runs, each plugin's tags, every scalar and histogram
series, and each image series' steps for samples 0, 1 and 2.

Exits 0 printing "same: N tags, M events", 1 listing the differences.
"""

import argparse
import io
import json
import os
import sys
import time

from PIL import Image
from tensorboard.backend.event_processing import event_file_loader
from tensorboard.compat.proto import event_pb2, graph_pb2
from tensorboard.util import tensor_util

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tensorboard_check  # noqa: E402

SUBDIRECTORIES = ("train", "validation")


def load(run):
    """{(subdirectory, tag): [(step, payload), ...]} and {subdirectory: [node count of each graph event]}."""
    series, graphs = {}, {}
    for subdirectory in SUBDIRECTORIES:
        directory = os.path.join(run, subdirectory)
        if not os.path.isdir(directory):
            continue
        for name in sorted(os.listdir(directory)):
            if not name.startswith("events.out.tfevents."):
                continue
            for record in event_file_loader.RawEventFileLoader(os.path.join(directory, name)).Load():
                event = event_pb2.Event.FromString(record)
                if event.HasField("graph_def"):
                    graph = graph_pb2.GraphDef.FromString(event.graph_def)
                    graphs.setdefault(subdirectory, []).append(len(graph.node))
                if not event.HasField("summary"):
                    continue
                for value in event.summary.value:
                    series.setdefault((subdirectory, value.tag), []).append((event.step, payload(value)))
    return series, graphs


def payload(value):
    """What a summary value shows, comparable with ==."""
    metadata = value.metadata
    described = (metadata.plugin_data.plugin_name, bytes(metadata.plugin_data.content), metadata.display_name,
                 metadata.summary_description, metadata.data_class)
    kind = value.WhichOneof("value")
    if kind != "tensor":
        return described + (kind, str(value))
    tensor = value.tensor
    array = tensor_util.make_ndarray(tensor)
    plugin = metadata.plugin_data.plugin_name
    if plugin == "images":
        width, height, *pngs = [bytes(item) for item in array.tolist()]
        images = []
        for png in pngs:
            image = Image.open(io.BytesIO(png))
            image.load()
            images.append((image.mode, image.size, image.tobytes().hex()))
        return described + ("images", width, height, tuple(images))
    if plugin == "graph_keras_model":
        return described + ("keras", json.dumps(json.loads(array.item()), sort_keys=True))
    if plugin == "graph_run_metadata":
        # A profiled batch's RunMetadata holds the timings of that run.
        return described + ("run metadata",)
    return described + (tensor.dtype, tuple(array.shape), array.tobytes().hex())


def short(item):
    text = repr(item)
    return text if len(text) < 300 else text[:300] + "…"


def compare_files(keras_run, our_run, problems):
    keras, keras_graphs = load(keras_run)
    ours, our_graphs = load(our_run)
    if keras_graphs:
        if {key: len(value) for key, value in keras_graphs.items()} != {key: len(value) for key, value in our_graphs.items()}:
            problems.append(f"graph events: {our_graphs}, Keras {keras_graphs}")
    else:
        models = len(keras.get(("train", "keras"), []))
        if set(our_graphs) - {"train"} or (models and len(our_graphs.get("train", [])) != models):
            problems.append(f"graph events (node counts): {our_graphs}, expected one in train/ per Keras model summary ({models})")
        if any(count == 0 for counts in our_graphs.values() for count in counts):
            problems.append(f"a graph without nodes: {our_graphs}")
    for key in sorted(set(keras) | set(ours)):
        want = sorted(keras.get(key, []), key=lambda point: point[0])
        got = sorted(ours.get(key, []), key=lambda point: point[0])
        if not want or not got:
            problems.append(f"{key[0]}/{key[1]}: {len(got)} events, Keras {len(want)}")
            continue
        if [step for step, _ in got] != [step for step, _ in want]:
            problems.append(f"{key[0]}/{key[1]}: steps {[s for s, _ in got]}, Keras {[s for s, _ in want]}")
            continue
        for (step, got_value), (_, want_value) in zip(got, want):
            if got_value != want_value:
                problems.append(f"{key[0]}/{key[1]} step {step}: {short(got_value)}, Keras {short(want_value)}")
    return len(keras), sum(len(points) for points in keras.values())


def served(run):
    """What the Rust data server serves for a run directory's train/ and validation/."""
    server = tensorboard_check.TensorBoardServer(run, {"scalars": 10000, "histograms": 10000, "images": 1000})
    failure = server.start(time.monotonic() + 60)
    if failure:
        raise RuntimeError(failure)
    try:
        wanted = sorted(subdirectory for subdirectory in SUBDIRECTORIES if os.path.isdir(os.path.join(run, subdirectory)))
        deadline = time.monotonic() + 30
        while sorted(server.get_json("/data/runs")) != wanted and time.monotonic() < deadline:
            time.sleep(0.5)
        view = {"runs": sorted(server.get_json("/data/runs"))}
        for plugin, route in (("scalars", "scalars"), ("histograms", "histograms"), ("images", "images")):
            tags = server.get_json(f"/data/plugin/{plugin}/tags")
            for run_name in sorted(tags):
                for tag in sorted(tags[run_name]):
                    if plugin == "images":
                        # Each sample is a series of its own: (step, sample) for the 3 Keras writes at most.
                        points = [(row["step"], sample) for sample in range(3)
                                  for row in server.get_json(f"/data/plugin/images/images", run=run_name, tag=tag, sample=sample)]
                    else:
                        data = server.get_json(f"/data/plugin/{plugin}/{route}", run=run_name, tag=tag)
                        points = [(row[1], row[2]) for row in data]
                    view[(plugin, run_name, tag)] = sorted(points, key=lambda point: point[0])
        return view
    finally:
        server.stop()


def compare_served(keras_run, our_run, problems):
    want, got = served(keras_run), served(our_run)
    for key in sorted(set(want) | set(got), key=str):
        if want.get(key) != got.get(key):
            problems.append(f"served {key}: {short(got.get(key))}, Keras {short(want.get(key))}")
    return len(want) - 1


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("keras_run")
    parser.add_argument("our_run")
    parser.add_argument("--served", action="store_true")
    options = parser.parse_args()
    problems = []
    tags, events = compare_files(options.keras_run, options.our_run, problems)
    served_series = compare_served(options.keras_run, options.our_run, problems) if options.served else 0
    if problems:
        print("\n".join(problems))
        return 1
    print(f"same: {tags} tags, {events} events" + (f", {served_series} served series" if options.served else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
