#!/usr/bin/env python3
"""Write small event files with real TensorFlow, for the reader's fixtures.

    python make_tf_fixture.py --out DIR

Needs TensorFlow (e.g. `pip install tensorflow-cpu` in a separate virtual
environment); the project's own environment does not have it. Writes:

  DIR/train/   the TF 2.x API, as the Keras TensorBoard callback uses it:
               tf.summary.scalar (steps 0-3), tf.summary.histogram,
               tf.summary.image (one step of 3 images: one tag, 3 samples), tf.summary.text, tf.summary.graph (an
               Event.graph_def) and a Keras model summary (tag "keras",
               plugin "graph_keras_model", written with tf.summary.write as
               tf.summary.keras_model did).
  DIR/tf1/     the TF 1.x API in graph mode (tf.compat.v1.summary): scalar
               (simple_value), histogram (HistogramProto with TensorFlow's
               default buckets), image (Summary.Image, tags "<name>/image/<i>"),
               FileWriter.add_graph and add_run_metadata (an
               Event.tagged_run_metadata).
  DIR/expect.json
               per run and tag: kind, count, first_step, last_step, in the
               format and with the kind rules of write_peer_logs.py.
"""

import argparse
import json
import os
import shutil
import sys

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
import tensorflow as tf  # noqa: E402

from write_peer_logs import classify_logdir, _tag_summary  # noqa: E402


def write_tf2_run(logdir):
    writer = tf.summary.create_file_writer(logdir)
    rng = np.random.default_rng(5)
    with writer.as_default():
        for step in range(4):
            tf.summary.scalar("epoch_loss", 1.0 / (step + 1), step=step)
        for step in (0, 1):
            tf.summary.histogram("dense/kernel_0", rng.normal(size=(4, 3)).astype(np.float32), step=step)
        images = np.zeros((3, 2, 3, 1), dtype=np.float32)
        images[0, 0, 0, 0] = 1.0
        images[1, 1, 2, 0] = 0.5
        images[2] = -1.0
        tf.summary.image("dense/kernel_0/image", images, step=1, max_outputs=3)
        tf.summary.text("notes", "written by TensorFlow", step=0)

        @tf.function
        def double(x):
            return 2.0 * x

        tf.summary.graph(double.get_concrete_function(tf.TensorSpec([2], tf.float32)).graph)

        model = {"class_name": "Sequential", "config": {"name": "sequential", "layers": [
            {"class_name": "Dense", "config": {"name": "dense", "units": 3}}]}}
        metadata = tf.compat.v1.SummaryMetadata()
        metadata.plugin_data.plugin_name = "graph_keras_model"
        metadata.plugin_data.content = b"1"
        tf.summary.write(tag="keras", tensor=tf.constant(json.dumps(model)), step=0, metadata=metadata)
    writer.close()


def write_tf1_run(logdir):
    graph = tf.Graph()
    with graph.as_default():
        # Named apart from the summaries, which would otherwise get tags "loss_1" etc.
        loss = tf.compat.v1.placeholder(tf.float32, shape=[], name="loss_value")
        weights = tf.compat.v1.placeholder(tf.float32, shape=[4, 3], name="weights_value")
        image = tf.compat.v1.placeholder(tf.float32, shape=[2, 2, 3, 1], name="image_value")
        summaries = tf.compat.v1.summary.merge([
            tf.compat.v1.summary.scalar("loss", loss),
            tf.compat.v1.summary.histogram("weights", weights),
            tf.compat.v1.summary.image("kernel", image, max_outputs=2),
        ])
        rng = np.random.default_rng(9)
        writer = tf.compat.v1.summary.FileWriter(logdir, graph=graph)
        with tf.compat.v1.Session(graph=graph) as session:
            for step in range(3):
                options = tf.compat.v1.RunOptions(trace_level=tf.compat.v1.RunOptions.FULL_TRACE)
                run_metadata = tf.compat.v1.RunMetadata()
                summary = session.run(summaries, options=options, run_metadata=run_metadata, feed_dict={
                    loss: 0.5 * (3 - step),
                    weights: rng.normal(size=(4, 3)),
                    image: rng.uniform(-1, 1, size=(2, 2, 3, 1)),
                })
                writer.add_summary(summary, step)
                if step == 2:
                    writer.add_run_metadata(run_metadata, f"step_{step}", global_step=step)
        writer.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    shutil.rmtree(args.out, ignore_errors=True)
    os.makedirs(args.out)
    write_tf2_run(os.path.join(args.out, "train"))
    write_tf1_run(os.path.join(args.out, "tf1"))

    runs = classify_logdir(args.out)
    expect = {"runs": {run: {"tags": {tag: _tag_summary(e["kind"], e["steps"]) for tag, e in sorted(tags.items())}}
                       for run, tags in sorted(runs.items())}}
    with open(os.path.join(args.out, "expect.json"), "w") as f:
        json.dump(expect, f, indent=2, sort_keys=True)
        f.write("\n")
    print(json.dumps(expect, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
