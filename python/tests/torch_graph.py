#!/usr/bin/env python3
"""add_graph of the same small torch module through ringboard's SummaryWriter or torch's.

    python torch_graph.py ringboard|torch LOGDIR [RING_DIR]
"""

import sys

import torch


def main():
    which, logdir = sys.argv[1], sys.argv[2]
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.ReLU(), torch.nn.Flatten(), torch.nn.Linear(4 * 6 * 6, 2))
    if which == "torch":
        from torch.utils.tensorboard import SummaryWriter
        writer = SummaryWriter(logdir)
    else:
        import ringboard
        writer = ringboard.SummaryWriter(logdir, ring_directory=sys.argv[3])
    writer.add_graph(model, torch.randn(2, 3, 8, 8))
    writer.close()
    print("done")


if __name__ == "__main__":
    main()
