"""Recomputes the golden files of real TensorFlow's histograms and images from their inputs.

    python make_tf_golden.py [--check] [--fixtures DIR]

`Tests/RingboardSummariesTests/Fixtures/tf_histograms.json` and `tf_images.json` hold, for chosen
inputs (kept in the files: names, dtypes, shapes and values), what TensorFlow computed:
HistogramProto fields from `tf.compat.v1.summary.histogram` (histogram.cc), and the pixels of the
PNGs `tf.compat.v1.summary.image` encodes (summary_image_op.cc). This runs TensorFlow on those
inputs again and writes the outputs back in place, keeping every input as it is; with `--check` it
writes nothing and exits 1 if anything TensorFlow computes now differs from the files.

Run on demand (it needs `tensorflow-cpu`, which `Scripts/bench-peers.sh --with-tf` installs into
.venv); the test suite reads the files, never TensorFlow.
"""

import argparse
import io
import json
import math
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "RingboardSummariesTests", "Fixtures")
HISTOGRAM_FIELDS = ("min", "max", "num", "sum", "sum_squares", "bucket_limit", "bucket")


def tensorflow():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import tensorflow as tf  # noqa: E402  (imported late: slow, and only for this script)
    tf.compat.v1.disable_eager_execution()
    return tf


def histogram_outputs(tf, case):
    from tensorboard.compat.proto import summary_pb2
    import numpy as np
    dtype = {"float32": np.float32, "float64": np.float64}[case["dtype"]]
    values = np.array(case["values"], dtype=dtype)
    graph = tf.Graph()
    with graph.as_default():
        summary = tf.compat.v1.summary.histogram("h", tf.constant(values, dtype=tf.as_dtype(dtype)))
        with tf.compat.v1.Session(graph=graph) as session:
            serialized = session.run(summary)
    histogram = summary_pb2.Summary.FromString(serialized).value[0].histo
    return {"min": histogram.min, "max": histogram.max, "num": histogram.num, "sum": histogram.sum,
            "sum_squares": histogram.sum_squares, "bucket_limit": list(histogram.bucket_limit),
            "bucket": list(histogram.bucket)}


def image_values(case):
    import numpy as np
    values = [float("nan") if value is None else value for value in case["values"]]
    for index, spelling in case.get("nonfinite", {}).items():
        values[int(index)] = float(spelling)
    return np.array(values, dtype=np.float32).reshape(case["shape"])


def image_outputs(tf, case):
    from PIL import Image
    from tensorboard.compat.proto import summary_pb2
    graph = tf.Graph()
    with graph.as_default():
        summary = tf.compat.v1.summary.image("w", tf.constant(image_values(case)), max_outputs=case["max_images"])
        with tf.compat.v1.Session(graph=graph) as session:
            serialized = session.run(summary)
    images = []
    for value in summary_pb2.Summary.FromString(serialized).value:
        decoded = Image.open(io.BytesIO(value.image.encoded_image_string))
        images.append({"tag": value.tag, "height": value.image.height, "width": value.image.width,
                       "colorspace": value.image.colorspace, "pixels": list(decoded.tobytes())})
    return images


def same(a, b):
    """Equal as JSON would store them, NaN equal to NaN."""
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return a == b


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="compare only; write nothing")
    parser.add_argument("--fixtures", default=FIXTURES)
    args = parser.parse_args()
    tf = tensorflow()
    differences = []

    path = os.path.join(args.fixtures, "tf_histograms.json")
    histograms = json.load(open(path))
    for case in histograms["cases"]:
        outputs = histogram_outputs(tf, case)
        for field in HISTOGRAM_FIELDS:
            if not same(case[field], outputs[field]):
                differences.append(f"tf_histograms.json {case['name']}: {field} {case[field]!r} != {outputs[field]!r}")
            case[field] = outputs[field]
    histograms["source"] = f"tensorflow-cpu {tf.__version__}, tf.compat.v1.summary.histogram (histogram.cc)"

    path_images = os.path.join(args.fixtures, "tf_images.json")
    images = json.load(open(path_images))
    for case in images["cases"]:
        outputs = image_outputs(tf, case)
        if not same(case["images"], outputs):
            differences.append(f"tf_images.json {case['name']}: the images differ")
        case["images"] = outputs
    images["source"] = f"tensorflow-cpu {tf.__version__}, tf.compat.v1.summary.image (summary_image_op.cc), PNG decoded to pixels"

    cases = len(histograms["cases"]) + len(images["cases"])
    if args.check:
        for line in differences:
            print(line)
        print(f"make_tf_golden: {cases} cases, {len(differences)} differ from TensorFlow {tf.__version__}")
        return 1 if differences else 0
    for target, content in ((path, histograms), (path_images, images)):
        with open(target + ".tmp", "w") as f:
            json.dump(content, f)
        os.replace(target + ".tmp", target)
    print(f"make_tf_golden: {cases} cases written ({len(differences)} changed)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
