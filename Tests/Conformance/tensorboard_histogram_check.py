#!/usr/bin/env python3
"""Compare TensorBoard 2.x histograms written by Ringboard with TensorBoard's own.

    python tensorboard_histogram_check.py MANIFEST.json

MANIFEST.json is a list of {"name": str, "dtype": "float32" | "float64", "values": path,
"event": path, "tag": str, "buckets": int, "description": str}. "values" is a file of little-endian
values; "event" holds a serialized tensorflow.Event whose summary has one value: Ringboard's
histogram of those values. Each is compared with what
tensorboard.plugins.histogram.summary_v2.histogram_pb(tag, values, buckets, description) makes of
the same values, as whole Summary.Value protos (tag, tensor and plugin metadata), so the tensor
bytes must agree bit for bit.

Exits 0 and prints one summary line when every case matches; exits 1 and prints each mismatch
(with both tensors as rows) otherwise.
"""

import json
import sys

import numpy as np
from tensorboard.compat.proto import event_pb2
from tensorboard.plugins.histogram import summary_v2


def rows(tensor):
    shape = [dim.size for dim in tensor.tensor_shape.dim]
    values = np.frombuffer(tensor.tensor_content, dtype="<f8") if tensor.tensor_content else np.array(tensor.double_val)
    return values.reshape(shape).tolist() if values.size else shape


def main(arguments):
    if len(arguments) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    cases = json.load(open(arguments[0]))
    failures = 0
    for case in cases:
        values = np.fromfile(case["values"], dtype="<f4" if case["dtype"] == "float32" else "<f8")
        with np.errstate(all="ignore"):  # NumPy warns about 0/0 and casts of NaN, which TensorBoard does
            expected = summary_v2.histogram_pb(
                case["tag"], values, buckets=case["buckets"], description=case["description"] or None
            ).value[0]
        event = event_pb2.Event.FromString(open(case["event"], "rb").read())
        actual = event.summary.value[0]
        if actual != expected:
            failures += 1
            print(f"{case['name']}: differs")
            print(f"  ours:        tag={actual.tag!r} metadata={actual.metadata}".rstrip())
            print(f"  tensorboard: tag={expected.tag!r} metadata={expected.metadata}".rstrip())
            print(f"  ours rows:        {rows(actual.tensor)}")
            print(f"  tensorboard rows: {rows(expected.tensor)}")
    print(f"tensorboard_histogram_check: {len(cases)} cases, {failures} mismatches")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
