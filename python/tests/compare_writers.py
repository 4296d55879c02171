#!/usr/bin/env python3
"""Compares the event files two SummaryWriters wrote for the same calls, read with TensorBoard's
own loader: the same runs (directories), and in each the same events in order: tag, step, wall
time, plugin, and the value: scalars as float32, histograms bucket by bucket (min, max, num,
limits and counts exactly; sum and sum of squares to 1e-12 relative), images by their decoded
pixels, text by its string.

    python compare_writers.py OURS THEIRS [THEIR_RUN=OUR_RUN ...] [--any-wall-time=RUN ...]

A THEIR_RUN=OUR_RUN pair names a run (directory) of THEIRS as ours names it: tensorboardX puts
`add_scalars` values in `<main_tag>/<key>`, torch (and ringboard) in `<main_tag with / as _>_<key>`.
--any-wall-time=RUN leaves wall times out of the comparison in that run (`add_hparams` takes the
clock for each event it writes), --any-wall-time-tag=TAG for that tag's events
(`add_custom_scalars` takes no wall time). HParams plugin data is compared as parsed messages.

Run with the project's .venv (TensorBoard, Pillow). Exits 0 printing "same: N events in K runs".
"""

import io
import math
import os
import sys

from PIL import Image
from tensorboard.backend.event_processing import event_file_loader


def events(root):
    runs = {}
    for directory, _, files in os.walk(root):
        names = sorted(f for f in files if f.startswith("events.out.tfevents."))
        if not names:
            continue
        found = []
        for name in names:
            for event in event_file_loader.LegacyEventFileLoader(os.path.join(directory, name)).Load():
                if not event.HasField("summary"):
                    continue
                for value in event.summary.value:
                    found.append((event, value))
        runs[os.path.relpath(directory, root)] = found
    return runs


def describe(event, value):
    kind = value.WhichOneof("value")
    plugin = value.metadata.plugin_data.plugin_name
    head = (value.tag, event.step, event.wall_time, kind, plugin)
    if kind == "simple_value":
        return head, value.simple_value
    if kind == "histo":
        h = value.histo
        return head, (h.min, h.max, h.num, list(h.bucket_limit), list(h.bucket), h.sum, h.sum_squares)
    if kind == "image":
        image = Image.open(io.BytesIO(value.image.encoded_image_string))
        return head, (value.image.height, value.image.width, value.image.colorspace, image.mode, image.tobytes())
    if plugin == "hparams":
        from tensorboard.plugins.hparams import plugin_data_pb2
        return head, ("hparams", plugin_data_pb2.HParamsPluginData.FromString(value.metadata.plugin_data.content))
    if kind == "tensor":
        from tensorboard.util import tensor_util
        array = tensor_util.make_ndarray(value.tensor)
        contents = array.tolist() if array.dtype != object else [bytes(x) for x in array.reshape(-1)]
        return head, (value.tensor.dtype, [d.size for d in value.tensor.tensor_shape.dim], contents, value.metadata.plugin_data.content)
    return head, value.SerializeToString()


def close(a, b):
    return a == b or abs(a - b) <= 1e-12 * max(abs(a), abs(b))


def main():
    ours, theirs = events(sys.argv[1]), events(sys.argv[2])
    any_wall_time, any_wall_time_tags = set(), set()
    for argument in sys.argv[3:]:
        if argument.startswith("--any-wall-time="):
            any_wall_time.add(argument.split("=", 1)[1])
            continue
        if argument.startswith("--any-wall-time-tag="):
            any_wall_time_tags.add(argument.split("=", 1)[1])
            continue
        their_name, our_name = argument.split("=", 1)
        if their_name in theirs:
            theirs[our_name] = theirs.pop(their_name)
    problems = []
    if sorted(ours) != sorted(theirs):
        problems.append(f"runs {sorted(ours)}, expected {sorted(theirs)}")
    count = 0
    for run in sorted(set(ours) & set(theirs)):
        if len(ours[run]) != len(theirs[run]):
            problems.append(f"{run}: {len(ours[run])} values, expected {len(theirs[run])}: "
                            f"{[v.tag for _, v in ours[run]]} against {[v.tag for _, v in theirs[run]]}")
            continue
        for (oe, ov), (te, tv) in zip(ours[run], theirs[run]):
            (ohead, obody), (thead, tbody) = describe(oe, ov), describe(te, tv)
            if run in any_wall_time or ohead[0] in any_wall_time_tags:
                ohead, thead = ohead[:2] + ohead[3:], thead[:2] + thead[3:]
            count += 1
            if ohead != thead:
                problems.append(f"{run}: {ohead} against {thead}")
            elif ohead[-2] == "histo":
                if obody[:5] != tbody[:5] or not (close(obody[5], tbody[5]) and close(obody[6], tbody[6])):
                    problems.append(f"{run} {ohead[0]}: histogram {obody} against {tbody}")
            elif ohead[-2] == "simple_value":
                if not (obody == tbody or (math.isnan(obody) and math.isnan(tbody))):
                    problems.append(f"{run} {ohead[0]}@{ohead[1]}: {obody} against {tbody}")
            elif obody != tbody:
                problems.append(f"{run} {ohead[0]}@{ohead[1]}: {ohead[-2]} differs")
    if problems:
        print("\n".join(problems[:40]))
        return 1
    print(f"same: {count} events in {len(ours)} runs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
