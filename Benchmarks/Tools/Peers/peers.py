"""The Python writers users would pick, on the workloads of Scripts/bench-peers.sh.

Usage: peers.py WORKLOAD --peer PEER --work DIR [--batches N] [--procs K] [--epochs E]
                [--layers L] [--values V] [--side S]

WORKLOAD: w1 (one process, N batches of 4 scalars), w2 (K processes of N batches each, one
writer per process in its own directory), w3 (L layers of V float32 weights, a histogram of each
per epoch, E epochs), w4 (a S x S weight, its histogram and its image per epoch, E epochs).

PEER:
  tbx  tensorboardX.SummaryWriter: add_scalar, add_histogram (bins='tensorflow'), add_image.
  tb   tensorboard.summary.writer.EventFileWriter, the writer torch.utils.tensorboard uses, fed
       as torch's SummaryWriter feeds it (a Summary per add_scalar, wall time and step set on
       the Event); histograms and images are made by tensorboardX's summary functions, which
       torch.utils.tensorboard's are a copy of.
  tf   tf.summary (TensorFlow 2, eager): scalar, histogram, image, in a default file writer, as
       the Keras TensorBoard callback writes them.

Prints result lines in PeersSideBySide's format, e.g.
    result workload=W1 side=tbx key=call_ns value=41234.5
`call_ns` is the median cost of one batch's 4 add_scalar calls (over blocks of 64 batches);
`seconds` runs from the first call to the (last) writer's close() having returned (every event
written), and the rates divide by it. Every file written is read back and its events counted.
"""

import argparse
import glob
import multiprocessing
import os
import shutil
import sys
import time
import warnings

import numpy as np

warnings.filterwarnings("ignore")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

METRICS = ("loss", "accuracy", "precision", "recall")


def report(workload, peer, key, value):
    print(f"result workload={workload} side={peer} key={key} value={value}", flush=True)


# --- Writers: one class per peer, the same four operations -------------------------------------


class TensorboardX:
    def __init__(self, logdir):
        from tensorboardX import SummaryWriter

        self.writer = SummaryWriter(logdir)

    def scalar(self, tag, value, step):
        self.writer.add_scalar(tag, value, step)

    def histogram(self, tag, values, step):
        self.writer.add_histogram(tag, values, step)  # bins='tensorflow'

    def image(self, tag, pixels, step):
        self.writer.add_image(tag, pixels, step, dataformats="HW")

    def close(self):
        self.writer.close()


class TensorboardWriter:
    """What torch.utils.tensorboard.SummaryWriter does, without torch."""

    def __init__(self, logdir):
        from tensorboard.compat.proto import event_pb2, summary_pb2
        from tensorboard.summary.writer.event_file_writer import EventFileWriter

        self.event_pb2, self.summary_pb2 = event_pb2, summary_pb2
        self.writer = EventFileWriter(logdir)
        # torch's SummaryWriter.__init__ (and tensorboardX's): TensorFlow's default bucket limits.
        v, buckets, negative = 1e-12, [], []
        while v < 1e20:
            buckets.append(v)
            negative.append(-v)
            v *= 1.1
        self.default_bins = negative[::-1] + [0] + buckets

    def _add_summary(self, summary, step):
        # torch FileWriter.add_summary → add_event
        event = self.event_pb2.Event(summary=summary)
        event.wall_time = time.time()
        event.step = int(step)
        self.writer.add_event(event)

    def scalar(self, tag, value, step):
        summary = self.summary_pb2.Summary(value=[self.summary_pb2.Summary.Value(tag=tag, simple_value=float(value))])
        self._add_summary(summary, step)

    def _converted(self, summary):
        return self.summary_pb2.Summary.FromString(summary.SerializeToString())

    def histogram(self, tag, values, step):
        from tensorboardX.summary import histogram

        self._add_summary(self._converted(histogram(tag, values, self.default_bins)), step)

    def image(self, tag, pixels, step):
        from tensorboardX.summary import image

        self._add_summary(self._converted(image(tag, pixels, dataformats="HW")), step)

    def close(self):
        self.writer.close()


class TFSummary:
    def __init__(self, logdir):
        import tensorflow as tf

        self.tf = tf
        self.writer = tf.summary.create_file_writer(logdir)
        self.context = self.writer.as_default()
        self.context.__enter__()

    def scalar(self, tag, value, step):
        self.tf.summary.scalar(tag, value, step=step)

    def histogram(self, tag, values, step):
        self.tf.summary.histogram(tag, values, step=step)

    def image(self, tag, pixels, step):
        self.tf.summary.image(tag, pixels.reshape(1, *pixels.shape, 1), step=step)

    def close(self):
        self.context.__exit__(None, None, None)
        self.writer.close()


PEERS = {"tbx": TensorboardX, "tb": TensorboardWriter, "tf": TFSummary}


def count_events(logdir):
    """Summary values in every event file under logdir, by kind, read with TensorBoard's loader."""
    from tensorboard.backend.event_processing.event_file_loader import LegacyEventFileLoader

    counts = {"scalars": 0, "histograms": 0, "images": 0}
    for path in glob.glob(os.path.join(logdir, "**", "events.out.tfevents.*"), recursive=True):
        for event in LegacyEventFileLoader(path).Load():
            for value in event.summary.value:
                kind = value.WhichOneof("value")
                plugin = value.metadata.plugin_data.plugin_name
                if kind == "simple_value" or plugin == "scalars":
                    counts["scalars"] += 1
                elif kind == "histo" or plugin == "histograms":
                    counts["histograms"] += 1
                elif kind == "image" or plugin == "images":
                    counts["images"] += 1
    return counts


def check(logdir, kind, expected):
    found = count_events(logdir)[kind]
    if found != expected:
        sys.exit(f"peers.py: expected {expected} {kind} in {logdir}, found {found}")


# --- W1, W2: the hot loop ------------------------------------------------------------------------


def hot_loop(writer, batches):
    """4 scalars per batch, as the Keras callback writes them with update_freq='batch'. Returns
    the median cost of one batch's calls, in nanoseconds, over blocks of 64 batches."""
    block = 64
    means = []
    loss = 2.3
    clock = time.perf_counter_ns
    batch = 0
    while batch < batches:
        end = min(batches, batch + block)
        start = clock()
        while batch < end:
            loss *= 0.999999
            for k, name in enumerate(METRICS):
                writer.scalar("batch_" + name, loss + k, batch)
            batch += 1
        means.append((clock() - start) / block)
    means.sort()
    return means[len(means) // 2]


def w1(args):
    logdir = os.path.join(args.work, f"w1-{args.peer}")
    shutil.rmtree(logdir, ignore_errors=True)
    writer = PEERS[args.peer](logdir)
    start = time.perf_counter()
    call_ns = hot_loop(writer, args.batches)
    writer.close()
    elapsed = time.perf_counter() - start
    check(logdir, "scalars", 4 * args.batches)
    report("W1", args.peer, "call_ns", call_ns)
    report("W1", args.peer, "seconds", elapsed)
    report("W1", args.peer, "scalars_per_second", 4 * args.batches / elapsed)


def w2_rank(peer, logdir, batches, ready, go, results):
    writer = PEERS[peer](logdir)
    ready.release()
    go.wait()
    call_ns = hot_loop(writer, batches)
    writer.close()
    # perf_counter is CLOCK_MONOTONIC, one clock for every process: the parent stops its clock at
    # the last close(), not at the interpreters' exits (TensorFlow's teardown takes seconds).
    results.put((call_ns, time.perf_counter()))


def w2(args):
    # One writer per process, each in its own directory: two writers in one directory would write
    # two event files of one run, which TensorBoard reads as a single out-of-order stream.
    context = multiprocessing.get_context("spawn")
    ready, go, results = context.Semaphore(0), context.Event(), context.Queue()
    root = os.path.join(args.work, f"w2-{args.peer}-{args.procs}")
    shutil.rmtree(root, ignore_errors=True)
    processes = [
        context.Process(target=w2_rank, args=(args.peer, os.path.join(root, f"rank_{rank}"), args.batches, ready, go, results))
        for rank in range(args.procs)
    ]
    for process in processes:
        process.start()
    for _ in processes:
        ready.acquire()
    start = time.perf_counter()
    go.set()
    reports = [results.get() for _ in processes]
    calls = [call for call, _ in reports]
    elapsed = max(end for _, end in reports) - start
    for process in processes:
        process.join()
        if process.exitcode != 0:
            sys.exit(f"peers.py: a w2 process exited with {process.exitcode}")
    check(root, "scalars", 4 * args.batches * args.procs)
    workload = f"W2-K{args.procs}"
    report(workload, args.peer, "call_ns", sorted(calls)[len(calls) // 2])
    report(workload, args.peer, "seconds", elapsed)
    report(workload, args.peer, "scalars_per_second", 4 * args.batches * args.procs / elapsed)


# --- W3, W4: weights at epoch end ----------------------------------------------------------------


def image_pixels(weight):
    """TensorFlow's float → uint8 rule for image summaries (as the Keras callback's images get it),
    so every peer encodes the same pixels Ringboard does."""
    finite = weight[np.isfinite(weight)]
    low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 0.0)
    if low < 0:
        bound = max(abs(low), abs(high))
        scale, offset = (127.0 / bound if bound >= 1e-6 else 0.0), 128.0
    else:
        scale, offset = (255.0 / high if high >= 1e-6 else 0.0), 0.0
    pixels = (weight * np.float32(scale) + np.float32(offset)).astype(np.uint8)
    pixels[~np.isfinite(weight)] = 0
    return pixels


def weights_at_epoch_end(args, images):
    workload = "W4" if images else "W3"
    layers = 1 if images else args.layers
    rng = np.random.default_rng(42)
    shape = (args.side, args.side) if images else (1024, args.values // 1024)
    weights = [(0.05 * rng.standard_normal(shape)).astype(np.float32) for _ in range(layers)]
    logdir = os.path.join(args.work, f"{workload.lower()}-{args.peer}")
    shutil.rmtree(logdir, ignore_errors=True)
    writer = PEERS[args.peer](logdir)
    start = time.perf_counter()
    epoch_ms = []
    for epoch in range(args.epochs):
        call = time.perf_counter()
        writer.scalar("epoch_loss", 1.0 / (epoch + 1), epoch)
        for index, weight in enumerate(weights):
            writer.histogram(f"dense_{index}/kernel_0", weight, epoch)
            if images:
                # Keras writes a weight's image at every epoch it writes its histogram.
                writer.image(f"dense_{index}/kernel_0/image/0", image_pixels(weight), epoch)
        epoch_ms.append((time.perf_counter() - call) * 1e3)
    writer.close()
    elapsed = time.perf_counter() - start
    check(logdir, "histograms", args.epochs * layers)
    if images:
        check(logdir, "images", args.epochs)
    report(workload, args.peer, "epoch_end_ms", sorted(epoch_ms)[len(epoch_ms) // 2])
    report(workload, args.peer, "seconds", elapsed)
    report(workload, args.peer, "histograms_per_second", args.epochs * layers / elapsed)
    if images:
        report(workload, args.peer, "images_per_second", args.epochs / elapsed)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("workload", choices=["w1", "w2", "w3", "w4"])
    parser.add_argument("--peer", choices=sorted(PEERS), required=True)
    parser.add_argument("--work", required=True)
    parser.add_argument("--batches", type=int, default=20_000)
    parser.add_argument("--procs", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--layers", type=int, default=8)
    parser.add_argument("--values", type=int, default=1 << 20)
    parser.add_argument("--side", type=int, default=512)
    args = parser.parse_args()
    # Import the peer's library before any clock starts, as a trainer has.
    if args.peer == "tf":
        import tensorflow  # noqa: F401
    elif args.peer == "tbx":
        import tensorboardX  # noqa: F401
    {"w1": w1, "w2": w2, "w3": lambda a: weights_at_epoch_end(a, False), "w4": lambda a: weights_at_epoch_end(a, True)}[args.workload](args)


if __name__ == "__main__":
    main()
