#!/usr/bin/env python3
"""One rank of a torch.distributed job on the gloo backend, started by torchrun, logging through
ringboard.SummaryWriter (rank and world size from torchrun's RANK and WORLD_SIZE).

    python -m torch.distributed.run --nproc_per_node 2 ... torch_ranks.py LOGDIR RING_DIR POLICY

Each rank logs `loss` = rank × 100 + step and, every step, `mean_loss`, the all-reduced mean of the
ranks' losses (the same on every rank). Prints "done" on each rank.
"""

import sys

import torch
import torch.distributed as dist

import ringboard


def main():
    logdir, rings, policy = sys.argv[1:4]
    dist.init_process_group("gloo")
    rank = dist.get_rank()
    writer = ringboard.SummaryWriter(logdir, ring_directory=rings, rank_policy=policy)
    for step in range(30):
        loss = torch.tensor(float(rank * 100 + step))
        writer.add_scalar("loss", loss, step)
        total = loss.clone()
        dist.all_reduce(total)
        writer.add_scalar("mean_loss", total / dist.get_world_size(), step)
    writer.close()
    dist.barrier()
    dist.destroy_process_group()
    print("done")


if __name__ == "__main__":
    main()
