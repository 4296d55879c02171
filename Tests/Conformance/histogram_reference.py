#!/usr/bin/env python3
"""TensorFlow's histogram (tensorflow/core/lib/histogram/histogram.cc), written again in Python.

    python histogram_reference.py MANIFEST.json      histograms of the cases in MANIFEST.json
    python histogram_reference.py --golden FIXTURE   check this script against TensorFlow's output

An implementation independent of Ringboard's, to compare it with bucket by bucket: the limits of
InitDefaultBucketsInner, std::upper_bound as bisect.bisect_right, Histogram::Add with its sequential
double sums, and EncodeToProto(preserve_zero_buckets=False). TensorFlow runs kernels with denormals
flushed to zero (FTZ and DAZ); that is spelled out: a subnormal operand reads as a zero of its sign
(a float32 one already when HistogramSummaryOp converts it to double), a subnormal result is
written as one, and `min_ = value` copies the bits.

Ringboard's sums are exact rather than sequential: "exact_sum" and "exact_sum_squares" are the
same values summed as Python integers (in units of 2**-1074) and divided once, which rounds
correctly (int / int in Python is correctly rounded; as math.fsum, without its intermediate
overflow), then flushed to a zero of its sign below DBL_MIN as FTZ does.

MANIFEST.json is a list of {"name": str, "dtype": "float32" | "float64", "path": str}, each path a
file of little-endian values. The output, on stdout, is a JSON list with one object per case:
{"name", "min", "max", "num", "sum", "sum_squares", "exact_sum", "exact_sum_squares",
"bucket_limit": [...], "bucket": [...], "non_finite": bool}, every double but the counts written as
the 16 hex digits of its bits so that nothing is lost on the way (and -0.0 stays -0.0). A case
holding NaN or infinity has only "name" and "non_finite": true, as HistogramSummaryOp fails on it.

--golden FIXTURE runs the cases of tf_histograms.json (TensorFlow's own output) and exits 1 unless
every field matches bit for bit and the exact sums are within 1e-12 relative of TensorFlow's.
"""

import bisect
import json
import math
import struct
import sys

import numpy as np

DBL_MAX = sys.float_info.max
DBL_MIN = sys.float_info.min
FLT_MIN = float(np.finfo(np.float32).tiny)


def default_limits():
    """histogram.cc InitDefaultBucketsInner."""
    positive = []
    value = 1.0e-12
    while value < 1.0e20:
        positive.append(value)
        value *= 1.1
    positive.append(DBL_MAX)
    return [-limit for limit in reversed(positive)] + [0.0] + positive


LIMITS = default_limits()


def flushed(value, smallest_normal=DBL_MIN):
    """A subnormal as FTZ/DAZ sees it: a zero of its sign."""
    if value != 0.0 and abs(value) < smallest_normal:
        return math.copysign(0.0, value)
    return value


class Histogram:
    """histogram::Histogram with the default limits."""

    def __init__(self):
        # Histogram::Clear.
        self.min = LIMITS[-1]
        self.max = -DBL_MAX
        self.num = 0.0
        self.sum = 0.0
        self.sum_squares = 0.0
        self.buckets = [0.0] * len(LIMITS)

    def add(self, value):
        """Histogram::Add."""
        operand = flushed(value)
        index = min(bisect.bisect_right(LIMITS, operand), len(LIMITS) - 1)
        self.buckets[index] += 1.0
        if flushed(self.min) > operand:
            self.min = value
        if flushed(self.max) < operand:
            self.max = value
        self.num += 1.0
        self.sum = flushed(self.sum + operand)
        self.sum_squares = flushed(self.sum_squares + flushed(operand * operand))

    def encode(self):
        """Histogram::EncodeToProto(proto, preserve_zero_buckets=False)."""
        bucket_limit, bucket = [], []
        i = 0
        while i < len(self.buckets):
            end, count = LIMITS[i], self.buckets[i]
            i += 1
            if count <= 0.0:
                while i < len(self.buckets) and self.buckets[i] <= 0.0:
                    end, count = LIMITS[i], self.buckets[i]
                    i += 1
            bucket_limit.append(end)
            bucket.append(count)
        if not bucket:
            bucket_limit.append(DBL_MAX)
            bucket.append(0.0)
        return {
            "min": self.min,
            "max": self.max,
            "num": self.num,
            "sum": self.sum,
            "sum_squares": self.sum_squares,
            "bucket_limit": bucket_limit,
            "bucket": bucket,
        }


SCALE = 2**1074


def exact_sum(terms):
    """The exact sum of finite or infinite doubles, rounded once to nearest even, then flushed."""
    total = 0
    for term in terms:
        if math.isinf(term):
            return term
        numerator, denominator = term.as_integer_ratio()
        total += numerator * (SCALE // denominator)
    try:
        result = total / SCALE
    except OverflowError:
        result = math.inf if total > 0 else -math.inf
    return flushed(result)


def exact_sums(values, dtype):
    """Ringboard's sum and sum_squares: the flushed values and their flushed squares, summed exactly."""
    operands = [flushed(value, FLT_MIN if dtype == "float32" else DBL_MIN) for value in values.tolist()]
    return exact_sum(operands), exact_sum([flushed(value * value) for value in operands])


def histogram(values, dtype):
    """HistogramSummaryOp: each value converted to double (through DAZ), NaN and inf refused."""
    result = Histogram()
    for value in values.tolist():
        if not math.isfinite(value):
            return None
        result.add(flushed(value, FLT_MIN) if dtype == "float32" else value)
    return result.encode()


def bits(value):
    return struct.pack(">d", value).hex()


def run_manifest(path):
    output = []
    for case in json.load(open(path)):
        values = np.fromfile(case["path"], dtype="<f4" if case["dtype"] == "float32" else "<f8")
        encoded = histogram(values, case["dtype"])
        if encoded is None:
            output.append({"name": case["name"], "non_finite": True})
            continue
        total, total_squares = exact_sums(values, case["dtype"])
        output.append({
            "name": case["name"],
            "non_finite": False,
            "exact_sum": bits(total),
            "exact_sum_squares": bits(total_squares),
            "min": bits(encoded["min"]),
            "max": bits(encoded["max"]),
            "num": encoded["num"],
            "sum": bits(encoded["sum"]),
            "sum_squares": bits(encoded["sum_squares"]),
            "bucket_limit": [bits(limit) for limit in encoded["bucket_limit"]],
            "bucket": encoded["bucket"],
        })
    json.dump(output, sys.stdout)
    return 0


def run_golden(path):
    failures = 0
    cases = json.load(open(path))["cases"]
    for case in cases:
        dtype = np.float32 if case["dtype"] == "float32" else np.float64
        encoded = histogram(np.array(case["values"], dtype=dtype), case["dtype"])
        for field in ("min", "max", "num", "sum", "sum_squares", "bucket_limit", "bucket"):
            ours, theirs = encoded[field], case[field]
            same = [bits(x) for x in ours] == [bits(x) for x in theirs] if isinstance(ours, list) else bits(ours) == bits(theirs)
            if not same:
                failures += 1
                print(f"{case['name']}: {field} differs: {ours!r} != {theirs!r}")
        for field, exact in zip(("sum", "sum_squares"), exact_sums(np.array(case["values"], dtype=dtype), case["dtype"])):
            if abs(exact - case[field]) > 1e-12 * abs(case[field]):
                failures += 1
                print(f"{case['name']}: exact {field} {exact!r} is not within 1e-12 of {case[field]!r}")
    print(f"histogram_reference: {len(cases)} golden cases, {failures} mismatches")
    return 1 if failures else 0


def main(arguments):
    if len(arguments) == 2 and arguments[0] == "--golden":
        return run_golden(arguments[1])
    if len(arguments) == 1:
        return run_manifest(arguments[0])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
