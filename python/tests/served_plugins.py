#!/usr/bin/env python3
"""What `tensorboard --load_fast=true` serves for a SummaryWriter's log_dir, plugin by plugin.

    python served_plugins.py LOGDIR

Run with the project's .venv. Starts TensorBoard's Rust data server on a loopback port and reads
its HTTP data API: the runs, and the scalars, histograms, distributions, images (each image's bytes fetched),
text, HParams, PR curves, custom scalars, audio (each clip's WAV), mesh (each part's values),
graphs and projector (each embedding's values, metadata and sprite) plugins' data. Prints "served: runs …; scalars N series; …", or the problems.
"""

import json
import os
import sys
import time
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "Tests", "Conformance"))
import tensorboard_check  # noqa: E402


# The mesh plugin lists a part's content type by number and serves it by name.
MESH_CONTENT = {1: "VERTEX", 2: "FACE", 3: "COLOR"}


def raw(server, path, **query):
    """The bytes a route answers with its query."""
    return server.get(path + ("?" + urllib.parse.urlencode(query) if query else ""))


def main():
    server = tensorboard_check.TensorBoardServer(sys.argv[1], {"scalars": 1000, "histograms": 500, "images": 100})
    failure = server.start(time.monotonic() + 60)
    if failure:
        print(failure)
        return 1
    problems = []
    try:
        deadline = time.monotonic() + 30
        while len(server.get_json("/data/runs")) < 4 and time.monotonic() < deadline:
            time.sleep(0.5)
        runs = sorted(server.get_json("/data/runs"))
        counts = {}
        for plugin in ("scalars", "histograms", "distributions", "images"):
            tags = server.get_json(f"/data/plugin/{plugin}/tags")
            counts[plugin] = 0
            for run, by_tag in tags.items():
                for tag in by_tag:
                    counts[plugin] += 1
                    data = server.get_json(f"/data/plugin/{plugin}/{plugin}", run=run, tag=tag)
                    if not data or "http_error" in data:
                        problems.append(f"{plugin} {run} {tag}: no data ({data})")
                    if plugin == "images":
                        for entry in data:
                            blob = server.get(f"/data/plugin/images/individualImage?{entry['query']}")
                            if not blob.startswith(b"\x89PNG"):
                                problems.append(f"image {run} {tag}: not a PNG")
        # The HParams dashboard's experiment: the hyperparameters and metrics add_hparams named.
        request = urllib.request.Request(f"http://127.0.0.1:{server.port}/data/plugin/hparams/experiment",
                                         data=json.dumps({"experimentName": ""}).encode(), method="POST",
                                         headers={"Content-Type": "application/json", "X-TensorBoard-Feature-Flags": "{}"})
        with urllib.request.urlopen(request, timeout=10) as response:
            experiment = json.loads(response.read())
        hparams = sorted(info["name"] for info in experiment.get("hparamInfos", []))
        metrics = sorted(info["name"]["tag"] for info in experiment.get("metricInfos", []))
        counts["hparams"] = f"{', '.join(hparams)} / {', '.join(metrics)}"
        pr_tags = server.get_json("/data/plugin/pr_curves/tags")
        counts["pr"] = sum(len(tags) for tags in pr_tags.values())
        for run, tags in pr_tags.items():
            for tag in tags:
                curves = server.get_json("/data/plugin/pr_curves/pr_curves", run=run, tag=tag)
                if not curves or not curves.get(run):
                    problems.append(f"PR curve {run} {tag}: {curves}")
        layout = server.get_json("/data/plugin/custom_scalars/layout")
        counts["custom"] = ", ".join(category.get("title", "?") for category in layout.get("category", []))
        text_tags = server.get_json("/data/plugin/text/tags")
        counts["text"] = sum(len(tags) for tags in text_tags.values())
        for run, tags in text_tags.items():
            for tag in tags:
                data = server.get_json("/data/plugin/text/text", run=run, tag=tag)
                if not data or "<strong>bold</strong>" not in data[0]["text"]:
                    problems.append(f"text {run} {tag}: {data}")
        # Audio: each clip's WAV; mesh: each part's values; graphs: the run's graph; projector:
        # each embedding's values, metadata and sprite.
        audio_tags = server.get_json("/data/plugin/audio/tags")
        counts["audio"] = sum(len(tags) for tags in audio_tags.values())
        for run, tags in audio_tags.items():
            for tag in tags:
                for entry in server.get_json("/data/plugin/audio/audio", run=run, tag=tag):
                    if not server.get(f"/data/plugin/audio/individualAudio?{entry['query']}").startswith(b"RIFF"):
                        problems.append(f"audio {run} {tag}: not WAV")
        mesh_tags = server.get_json("/data/plugin/mesh/tags")
        counts["mesh"] = sum(len(tags) for tags in mesh_tags.values())
        for run, tags in mesh_tags.items():
            for tag in tags:
                for entry in server.get_json("/data/plugin/mesh/meshes", run=run, tag=tag, sample=0):
                    data = raw(server, "/data/plugin/mesh/data", run=run, tag=tag, sample=0, content_type=MESH_CONTENT.get(entry["content_type"], entry["content_type"]),
                                      step=entry["step"])
                    # One sample of the batch: colors as bytes, coordinates and indices as 4-byte numbers.
                    width = 1 if entry["content_type"] == 3 else 4
                    if len(data) != width * entry["data_shape"][1] * entry["data_shape"][2]:
                        problems.append(f"mesh {run} {tag} {entry['content_type']}: {len(data)} bytes for {entry['data_shape']}")
        graphs = server.get_json("/data/plugin/graphs/info")
        graph_runs = sorted(run for run, info in graphs.items() if info.get("run_graph"))
        counts["graphs"] = ", ".join(graph_runs) or "none"
        for run in graph_runs:
            if b"node {" not in raw(server, "/data/plugin/graphs/graph", run=run, conversion="true"):
                problems.append(f"graph {run}: no nodes")
        counts["projector"] = 0
        for run in server.get_json("/data/plugin/projector/runs"):
            for embedding in server.get_json("/data/plugin/projector/info", run=run).get("embeddings", []):
                name, shape = embedding["tensorName"], embedding["tensorShape"]
                counts["projector"] += 1
                if len(raw(server, "/data/plugin/projector/tensor", run=run, name=name)) != 4 * shape[0] * shape[1]:
                    problems.append(f"projector {run} {name}: not {shape} float32 values")
                if embedding.get("metadataPath") and not raw(server, "/data/plugin/projector/metadata", run=run, name=name):
                    problems.append(f"projector {run} {name}: no metadata")
                if embedding.get("sprite") and not raw(server, "/data/plugin/projector/sprite_image", run=run, name=name).startswith(b"\x89PNG"):
                    problems.append(f"projector {run} {name}: no sprite")
    finally:
        server.stop()
    if problems:
        print("\n".join(problems))
        return 1
    print(f"served: runs {', '.join(runs)}; scalars {counts['scalars']} series; histograms {counts['histograms']} tags; "
          f"distributions {counts['distributions']} tags; images {counts['images']} tags; text {counts['text']} tag; hparams {counts['hparams']}; custom scalars {counts['custom']}; "
          f"PR curves {counts['pr']}; audio {counts['audio']}; mesh {counts['mesh']}; graphs {counts['graphs']}; "
          f"projector {counts['projector']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
