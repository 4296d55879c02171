#!/usr/bin/env python3
"""Replays a list of SummaryWriter calls through ringboard's SummaryWriter or tensorboardX's.

    python writer_replay.py ringboard|tensorboardX|torch CALLS.json LOGDIR [RING_DIR]

CALLS.json: [{"method": "add_scalar", "args": [...], "kwargs": {...}}, ...], where an array is
{"array": nested lists, "dtype": "float32"}, or {"normal": count, "seed": s, "dtype": d} for
`count` standard normal values, {"uniform": shape, "seed": s, "dtype": d} for values uniform in
[0, 256) (bytes) or [0, 1), {"figure": slope} for a matplotlib line plot, or {"hex": digits}
for bytes. Prints "done" at
the end.
"""

import json
import sys

import numpy as np


def decode(value):
    if isinstance(value, dict) and "array" in value:
        return np.array(value["array"], dtype=value["dtype"])
    if isinstance(value, dict) and "figure" in value:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        figure = plt.figure(figsize=(3, 2), dpi=40)
        plt.plot(range(10), [i * value["figure"] for i in range(10)])
        return figure
    if isinstance(value, dict) and "uniform" in value:
        rng = np.random.default_rng(value["seed"])
        if value["dtype"] == "uint8":
            return rng.integers(0, 256, value["uniform"], dtype=np.uint8)
        return rng.uniform(0, 1, value["uniform"]).astype(value["dtype"])
    if isinstance(value, dict) and "hex" in value:
        return bytes.fromhex(value["hex"])
    if isinstance(value, dict) and "normal" in value:
        return np.random.default_rng(value["seed"]).standard_normal(value["normal"]).astype(value["dtype"])
    if isinstance(value, dict):
        return {key: decode(item) for key, item in value.items()}
    return value


def main():
    which, calls, logdir = sys.argv[1], json.load(open(sys.argv[2])), sys.argv[3]
    if which == "ringboard":
        import ringboard
        writer = ringboard.SummaryWriter(logdir, ring_directory=sys.argv[4] if len(sys.argv) > 4 else None)
    elif which == "torch":
        from torch.utils.tensorboard import SummaryWriter
        writer = SummaryWriter(logdir)
    else:
        from tensorboardX import SummaryWriter
        writer = SummaryWriter(logdir)
    with writer:
        for call in calls:
            kwargs = {k: decode(v) for k, v in call.get("kwargs", {}).items()}
            if which == "torch" and "label_img" in kwargs:
                import torch
                kwargs["label_img"] = torch.from_numpy(kwargs["label_img"])  # torch's add_embedding takes a tensor only
            if which == "tensorboardX" and "run_name" in kwargs:
                kwargs["name"] = kwargs.pop("run_name")  # tensorboardX's name for it
            getattr(writer, call["method"])(*[decode(a) for a in call.get("args", [])], **kwargs)
    print("done")


if __name__ == "__main__":
    main()
