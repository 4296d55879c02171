#!/usr/bin/env python3
"""SummaryWriter workloads, one writer kind per process: ringboard.SummaryWriter,
tensorboardX.SummaryWriter, torch.utils.tensorboard.SummaryWriter.

    python bench_writers.py WORKLOAD KIND --log-dir DIR --ring-dir DIR [--count N] [--procs N]

Workloads (each prints `result WORKLOAD KIND VALUE UNIT` lines):
  scalar     add_scalar(tag, float, step) in a loop: the median cost of a call over blocks of 1024
             calls (ns), and calls per second from the first call until close() returns with
             everything in the event file (/s);
  histogram  add_histogram of the same 1 Mi float32 values (standard normal), bins='tensorflow':
             histograms per second until close() returns;
  image      add_image of a 512×512 RGB float32 image (CHW, values in [0, 1]): images per second
             until close() returns;
  procs      N processes (--procs, default 4) each calling add_scalar in a loop into one log_dir,
             started together: all their calls over the time from the start until the last
             close() returns (/s).
The writer is made before the clock starts (for ringboard, the aggregator is running by then).
"""

import argparse
import multiprocessing
import os
import statistics
import sys
import time

import numpy as np


def make_writer(kind, log_dir, ring_dir):
    if kind == "ringboard":
        import ringboard
        return ringboard.SummaryWriter(log_dir, ring_directory=ring_dir)
    if kind == "tensorboardx":
        from tensorboardX import SummaryWriter
        return SummaryWriter(log_dir)
    from torch.utils.tensorboard import SummaryWriter
    return SummaryWriter(log_dir)


def scalar(kind, log_dir, ring_dir, count):
    writer = make_writer(kind, log_dir, ring_dir)
    add = writer.add_scalar
    blocks = []
    start = time.perf_counter()
    step = 0
    while step < count:
        block_start = time.perf_counter_ns()
        for _ in range(1024):
            add("loss", 0.25, step)
            step += 1
        blocks.append((time.perf_counter_ns() - block_start) / 1024)
    writer.close()
    elapsed = time.perf_counter() - start
    print(f"result scalar-call {kind} {statistics.median(blocks):.1f} ns")
    print(f"result scalar-e2e {kind} {step / elapsed:.1f} /s")


def histogram(kind, log_dir, ring_dir, count):
    values = np.random.default_rng(0).standard_normal(1 << 20).astype(np.float32)
    if kind == "torch":
        import torch
        values = torch.from_numpy(values)
    writer = make_writer(kind, log_dir, ring_dir)
    start = time.perf_counter()
    for step in range(count):
        writer.add_histogram("weights", values, step)
    writer.close()
    print(f"result histogram {kind} {count / (time.perf_counter() - start):.2f} /s")


def image(kind, log_dir, ring_dir, count):
    pixels = np.random.default_rng(0).uniform(0, 1, (3, 512, 512)).astype(np.float32)
    if kind == "torch":
        import torch
        pixels = torch.from_numpy(pixels)
    writer = make_writer(kind, log_dir, ring_dir)
    start = time.perf_counter()
    for step in range(count):
        writer.add_image("input", pixels, step)
    writer.close()
    print(f"result image {kind} {count / (time.perf_counter() - start):.2f} /s")


def one_process(kind, log_dir, ring_dir, count, rank, ready, go, done):
    os.environ["RANK"], os.environ["WORLD_SIZE"] = "0", "1"  # each process writes, as separate runs would
    writer = make_writer(kind, log_dir, ring_dir)
    add = writer.add_scalar
    ready.release()
    go.wait()
    for step in range(count):
        add(f"loss/{rank}", 0.25, step)
    writer.close()
    done.put(time.perf_counter())


def procs(kind, log_dir, ring_dir, count, processes):
    context = multiprocessing.get_context("fork")
    ready, go, done = context.Semaphore(0), context.Event(), context.Queue()
    workers = [context.Process(target=one_process, args=(kind, log_dir, ring_dir, count, rank, ready, go, done))
               for rank in range(processes)]
    for worker in workers:
        worker.start()
    for _ in workers:
        ready.acquire()
    start = time.perf_counter()
    go.set()
    ends = [done.get() for _ in workers]
    for worker in workers:
        worker.join()
    print(f"result procs {kind} {processes * count / (max(ends) - start):.1f} /s")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("workload", choices=["scalar", "histogram", "image", "procs"])
    parser.add_argument("kind", choices=["ringboard", "tensorboardx", "torch"])
    parser.add_argument("--log-dir", required=True)
    parser.add_argument("--ring-dir", required=True)
    parser.add_argument("--count", type=int, default=None)
    parser.add_argument("--procs", type=int, default=4)
    options = parser.parse_args()
    if options.kind == "ringboard":
        # The aggregator started before the clock does.
        make_writer("ringboard", os.path.join(options.log_dir, "warm-up"), options.ring_dir).close()
    count = options.count
    if options.workload == "scalar":
        scalar(options.kind, options.log_dir, options.ring_dir, count or (1_000_000 if options.kind == "ringboard" else 20_000))
    elif options.workload == "histogram":
        histogram(options.kind, options.log_dir, options.ring_dir, count or (100 if options.kind == "ringboard" else 10))
    elif options.workload == "image":
        image(options.kind, options.log_dir, options.ring_dir, count or (200 if options.kind == "ringboard" else 20))
    else:
        procs(options.kind, options.log_dir, options.ring_dir, count or (500_000 if options.kind == "ringboard" else 10_000),
              options.procs)


if __name__ == "__main__":
    sys.exit(main())
