"""`ringboard.SummaryWriter`: torch's `torch.utils.tensorboard.SummaryWriter` (and tensorboardX's)
through the ring.

Each call copies its data once, into this process's shared-memory ring; the aggregator makes the
summary (a histogram's buckets, an image's PNG) and writes the event file, as torch's writer
would. Values may be Python numbers, numpy arrays or anything with `__array__` (torch tensors, JAX
arrays); torch is never imported.

Processes training together (torchrun sets RANK and WORLD_SIZE) may each make a writer on the same
log_dir: one aggregator writes one event file per directory. With `rank_policy="chief"` (the
default) only rank 0's summaries are written and the other ranks send nothing; with "per_rank"
each rank writes `<log_dir>/rank_<r>/`; with "mean" a scalar of a tag and step is written once, the
mean over the ranks that logged it, and other summaries are rank 0's.

No event file is made until the first summary is written: a writer that logs nothing leaves no
file behind.
"""

import json
import os
import socket
import time
from datetime import datetime

import numpy as np

from . import _native
from ._paths import aggregator_executable as _bundled_aggregator

_POLICIES = {"chief": 0, "mean": 1, "per_rank": 2}

# torch's `default_bins` for bins="tensorflow": 1e-12 growing by 1.1 below 1e20, mirrored, 0 between.
_DEFAULT_BINS = None


def _default_bins():
    global _DEFAULT_BINS
    if _DEFAULT_BINS is None:
        v, buckets = 1e-12, []
        while v < 1e20:
            buckets.append(v)
            v *= 1.1
        _DEFAULT_BINS = [-b for b in reversed(buckets)] + [0] + buckets
    return _DEFAULT_BINS


def _step(global_step):
    """torch writes `int(global_step)`, and no step (0) for None."""
    return 0 if global_step is None else int(global_step)


def _wall_time(walltime):
    """A negative wall time tells the library to read the clock (time.time()'s)."""
    return -1.0 if walltime is None else float(walltime)


def _scalar(value):
    """A Python number, a 0-d array, or a one-element tensor as float (torch's `make_np` then float)."""
    try:
        return float(value)
    except TypeError:
        array = np.asarray(value)
        if array.size != 1:
            raise ValueError(f"scalar_value must hold one value, not an array of shape {array.shape}") from None
        return float(array.reshape(()))


def _array(value):
    """numpy's view of a value with `__array__` (a torch tensor on the CPU, say)."""
    if hasattr(value, "detach") and hasattr(value, "cpu"):  # a torch tensor: without its graph, on the CPU
        value = value.detach().cpu()
    return np.asarray(value)


def _make_histogram(values, bins, max_bins=None):
    """torch.utils.tensorboard.summary.make_histogram: numpy's counts, cut to the bins that hold values."""
    if values.size == 0:
        raise ValueError("The input has no element.")
    values = values.reshape(-1)
    counts, limits = np.histogram(values, bins=bins)
    num_bins = len(counts)
    if max_bins is not None and num_bins > max_bins:
        subsampling = num_bins // max_bins
        subsampling_remainder = num_bins % subsampling
        if subsampling_remainder != 0:
            counts = np.pad(counts, pad_width=[[0, subsampling - subsampling_remainder]], mode="constant", constant_values=0)
        counts = counts.reshape(-1, subsampling).sum(axis=-1)
        new_limits = np.empty((counts.size + 1,), limits.dtype)
        new_limits[:-1] = limits[:-1:subsampling]
        new_limits[-1] = limits[-1]
        limits = new_limits
    cum_counts = np.cumsum(np.greater(counts, 0))
    start, end = np.searchsorted(cum_counts, [0, cum_counts[-1] - 1], side="right")
    start = int(start)
    end = int(end) + 1
    counts = counts[start - 1:end] if start > 0 else np.concatenate([[0], counts[:end]])
    limits = limits[start:end + 1]
    if counts.size == 0 or limits.size == 0:
        raise ValueError("The histogram is empty, please file a bug report.")
    return (float(values.min()), float(values.max()), float(len(values)), float(values.sum()), float(values.dot(values)),
            np.ascontiguousarray(limits, dtype=np.float64), np.ascontiguousarray(counts, dtype=np.float64))


def _compute_curve(labels, predictions, num_thresholds, weights=None):
    """torch's compute_curve: true and false positives per threshold from a histogram of the
    predictions, then negatives, precision and recall."""
    minimum_count = 1e-7
    if weights is None:
        weights = 1.0
    bucket_indices = np.int32(np.floor(predictions * (num_thresholds - 1)))
    float_labels = labels.astype(np.float64)
    histogram_range = (0, num_thresholds - 1)
    tp_buckets, _ = np.histogram(bucket_indices, bins=num_thresholds, range=histogram_range, weights=float_labels * weights)
    fp_buckets, _ = np.histogram(bucket_indices, bins=num_thresholds, range=histogram_range, weights=(1.0 - float_labels) * weights)
    tp = np.cumsum(tp_buckets[::-1])[::-1]
    fp = np.cumsum(fp_buckets[::-1])[::-1]
    tn = fp[0] - fp
    fn = tp[0] - tp
    precision = tp / np.maximum(minimum_count, tp + fp)
    recall = tp / np.maximum(minimum_count, tp + fn)
    return np.stack((tp, fp, tn, fn, precision, recall))


def _make_grid(images, ncols=8):
    """torch's make_grid: NCHW images tiled into one CHW image, 8 to a row."""
    if images.shape[1] == 1:
        images = np.concatenate([images, images, images], 1)
    if not (images.ndim == 4 and images.shape[1] in (3, 4)):
        raise ValueError(f"images must have 1, 3 or 4 channels, not shape {images.shape}")
    count, height, width = images.shape[0], images.shape[2], images.shape[3]
    ncols = min(count, ncols)
    nrows = int(np.ceil(float(count) / ncols))
    canvas = np.zeros((images.shape[1], height * nrows, width * ncols), dtype=images.dtype)
    i = 0
    for y in range(nrows):
        for x in range(ncols):
            if i >= count:
                break
            canvas[:, y * height:(y + 1) * height, x * width:(x + 1) * width] = images[i]
            i += 1
    return canvas


def _to_hwc(tensor, dataformats):
    """torch's convert_to_HWC, with its checks as ValueErrors."""
    dataformats = dataformats.upper()
    if len(set(dataformats)) != len(dataformats) or not set(dataformats) <= set("NCHW"):
        raise ValueError(f"dataformats {dataformats!r} must be letters of NCHW, each once")
    if tensor.ndim != len(dataformats):
        raise ValueError(f"an image of shape {tensor.shape} does not match dataformats {dataformats!r}")
    if len(dataformats) == 4:
        return _make_grid(tensor.transpose([dataformats.find(c) for c in "NCHW"])).transpose(1, 2, 0)
    if len(dataformats) == 3:
        hwc = tensor.transpose([dataformats.find(c) for c in "HWC"])
        if hwc.shape[2] == 1:
            hwc = np.concatenate([hwc, hwc, hwc], 2)
        return hwc
    if len(dataformats) == 2:
        hw = tensor.transpose([dataformats.find(c) for c in "HW"])
        return np.stack([hw, hw, hw], 2)
    raise ValueError(f"dataformats {dataformats!r} must have 2, 3 or 4 letters")


def _image_bytes(tensor, dataformats):
    """torch's image(): HWC, then uint8 as is and anything else times 255, clipped to 0..255."""
    hwc = _to_hwc(_array(tensor), dataformats)
    if hwc.shape[2] not in (3, 4):
        raise ValueError(f"an image has 1, 3 or 4 channels, not {hwc.shape[2]}")
    scale = 1 if hwc.dtype == np.uint8 else 255
    return np.ascontiguousarray((hwc.astype(np.float32) * scale).clip(0, 255).astype(np.uint8))


def _figure_to_image(figures, close=True):
    """torch's figure_to_image: each figure drawn by Agg, its RGBA buffer cut to RGB, as CHW uint8."""
    import matplotlib.backends.backend_agg as backend_agg
    import matplotlib.pyplot as plt

    def render(figure):
        canvas = backend_agg.FigureCanvasAgg(figure)
        canvas.draw()
        data = np.frombuffer(canvas.buffer_rgba(), dtype=np.uint8)
        width, height = figure.canvas.get_width_height()
        image = np.moveaxis(data.reshape([height, width, 4])[:, :, 0:3], source=2, destination=0)
        if close:
            plt.close(figure)
        return image

    if isinstance(figures, list):
        return np.stack([render(figure) for figure in figures])
    return render(figures)


class SummaryWriter:
    """torch's `SummaryWriter(log_dir, comment, purge_step, max_queue, flush_secs, filename_suffix)`.

    Beyond torch's arguments: `rank` and `world_size` (default: $RANK and $WORLD_SIZE, else 0 of 1),
    `rank_policy` ("chief", "per_rank" or "mean"), `ring_directory`, `start_aggregator` and
    `aggregator_executable`, as for `ringboard.keras.TensorBoard`.

    `max_queue` and `flush_secs` are accepted and not needed: the aggregator writes what a call
    sends within 100 ms. `flush()` waits until everything sent is in the event files.
    """

    def __init__(self, log_dir=None, comment="", purge_step=None, max_queue=10, flush_secs=120, filename_suffix="", *,
                 rank=None, world_size=None, rank_policy="chief", ring_directory=None, start_aggregator=True,
                 aggregator_executable=None):
        if purge_step is not None:
            raise ValueError("purge_step is not supported by ringboard.SummaryWriter yet")
        if filename_suffix:
            raise ValueError("filename_suffix is not supported by ringboard.SummaryWriter yet")
        if rank_policy not in _POLICIES:
            raise ValueError(f"rank_policy must be one of {sorted(_POLICIES)}, not {rank_policy!r}")
        if not log_dir:
            current_time = datetime.now().strftime("%b%d_%H-%M-%S")
            log_dir = os.path.join("runs", current_time + "_" + socket.gethostname() + comment)
        rank = int(os.environ.get("RANK", 0)) if rank is None else int(rank)
        world_size = int(os.environ.get("WORLD_SIZE", 1)) if world_size is None else int(world_size)
        if aggregator_executable is None:
            aggregator_executable = _bundled_aggregator()
        self._closed = False
        self._writer = _native.Writer(os.fspath(log_dir), rank, world_size, _POLICIES[rank_policy], ring_directory,
                                      aggregator_executable, bool(start_aggregator))
        self.log_dir = self._writer.log_dir
        for warning in filter(None, self._writer.warnings.split("\n")):
            import warnings
            warnings.warn(warning, RuntimeWarning, stacklevel=2)

    def get_logdir(self):
        """The directory the event files go in."""
        return self.log_dir

    def add_scalar(self, tag, scalar_value, global_step=None, walltime=None, new_style=False, double_precision=False):
        if new_style:
            raise ValueError("new_style scalars are not supported by ringboard.SummaryWriter yet")
        try:
            # Python numbers, numpy scalars and an int or None step, converted by the extension.
            self._writer.add_scalar(tag, scalar_value, global_step, walltime)
        except TypeError:
            # Arrays, tensors, a float step: converted as torch converts them.
            self._writer.add_scalar(tag, _scalar(scalar_value), _step(global_step), _wall_time(walltime))

    def add_scalars(self, main_tag, tag_scalar_dict, global_step=None, walltime=None, *, same_run=False):
        """Each value under `main_tag`, in `<log_dir>/<main_tag with / as _>_<key>/`, as torch writes them
        (a directory per key, each a run of its own in TensorBoard). With `same_run=True` each value is
        a scalar `<main_tag>/<key>` of this writer's own run instead: no directories."""
        walltime = time.time() if walltime is None else walltime
        step, wall_time = _step(global_step), _wall_time(walltime)
        if same_run:
            for key, value in tag_scalar_dict.items():
                self._writer.add_scalar(f"{main_tag}/{key}", _scalar(value), step, wall_time)
            return
        prefix = main_tag.replace("/", "_") + "_"
        for key, value in tag_scalar_dict.items():
            self._writer.add_scalar(main_tag, _scalar(value), step, wall_time, prefix + key)

    def add_histogram(self, tag, values, global_step=None, bins="tensorflow", walltime=None, max_bins=None):
        """With bins="tensorflow" (the default) the aggregator counts the values (float32 ones of any number,
        float64 ones as many as a ring record holds); other bins, and more float64 values, are counted
        here with numpy, as torch counts them."""
        array = _array(values)
        if array.dtype != np.float32:
            array = array.astype(np.float64)
        array = np.ascontiguousarray(array).reshape(-1)
        if array.size == 0:
            raise ValueError("The input has no element.")
        step, wall_time = _step(global_step), _wall_time(walltime)
        if (isinstance(bins, str) and bins == "tensorflow" and max_bins is None
                and array.size <= self._writer.max_histogram_values(array.itemsize)):
            self._writer.add_histogram(tag, array, step, wall_time)
            return
        if isinstance(bins, str) and bins == "tensorflow":
            bins = _default_bins()
        if not np.isfinite(array).all():
            raise ValueError(f"NaN or infinity in histogram {tag}")
        self._writer.add_histogram_raw(tag, *_make_histogram(array.astype(np.float64), bins, max_bins), step, wall_time)

    def add_histogram_raw(self, tag, min, max, num, sum, sum_squares, bucket_limits, bucket_counts, global_step=None, walltime=None):
        limits = np.ascontiguousarray(_array(bucket_limits), dtype=np.float64).reshape(-1)
        counts = np.ascontiguousarray(_array(bucket_counts), dtype=np.float64).reshape(-1)
        if len(limits) != len(counts):
            raise ValueError("len(bucket_limits) != len(bucket_counts), see the document.")
        self._writer.add_histogram_raw(tag, float(min), float(max), float(num), float(sum), float(sum_squares), limits, counts,
                                       _step(global_step), _wall_time(walltime))

    def add_image(self, tag, img_tensor, global_step=None, walltime=None, dataformats="CHW"):
        self._writer.add_image(tag, _image_bytes(img_tensor, dataformats), _step(global_step), _wall_time(walltime))

    def add_images(self, tag, img_tensor, global_step=None, walltime=None, dataformats="NCHW"):
        self._writer.add_image(tag, _image_bytes(img_tensor, dataformats), _step(global_step), _wall_time(walltime))

    def add_figure(self, tag, figure, global_step=None, close=True, walltime=None):
        """A matplotlib figure (or a list of them, as a grid) rendered to RGB, as torch renders it."""
        if isinstance(figure, list):
            self.add_image(tag, _figure_to_image(figure, close), global_step, walltime, dataformats="NCHW")
        else:
            self.add_image(tag, _figure_to_image(figure, close), global_step, walltime, dataformats="CHW")

    def add_hparams(self, hparam_dict, metric_dict, hparam_domain_discrete=None, run_name=None, global_step=None, *,
                    same_run=False):
        """torch's add_hparams: the HParams plugin's data and each metric as a scalar, in a run of its own
        (`<log_dir>/<run_name>`, by default named after the time). With `same_run=True` they go into this
        writer's own directory instead, so that the HParams dashboard links them to the run's scalars."""
        if not isinstance(hparam_dict, dict) or not isinstance(metric_dict, dict):
            raise TypeError("hparam_dict and metric_dict should be dictionary.")
        hparam_domain_discrete = hparam_domain_discrete or {}
        if not isinstance(hparam_domain_discrete, dict):
            raise TypeError("parameter: hparam_domain_discrete should be a dictionary.")
        for key, values in hparam_domain_discrete.items():
            if key not in hparam_dict or not isinstance(values, list) or not all(isinstance(d, type(hparam_dict[key])) for d in values):
                raise TypeError(f"parameter: hparam_domain_discrete[{key}] should be a list of same type as hparam_dict[{key}].")

        def value(v):
            # As torch: a bool is an int, so a number.
            if isinstance(v, (int, float)):
                return {"n": float(v)}
            if isinstance(v, str):
                return {"s": v}
            if hasattr(v, "__array__"):
                return {"n": float(_array(v).reshape(-1)[0])}
            raise ValueError("value should be one of int, float, str, bool, or torch.Tensor")

        pairs = [[key, value(v)] for key, v in hparam_dict.items() if v is not None]
        discrete = {key: [value(d) for d in values] for key, values in hparam_domain_discrete.items() if hparam_dict[key] is not None}
        directory = None if same_run else (run_name or str(time.time()))
        step = _step(global_step)
        self._writer.add_hparams(json.dumps({"hparams": pairs, "discrete": discrete, "metrics": list(metric_dict)}), directory, step, -1.0)
        for key, metric in metric_dict.items():
            self._writer.add_scalar(key, _scalar(metric), step, -1.0, directory)

    def add_custom_scalars(self, layout):
        """The custom scalars dashboard's layout: {category: {chart title: ["Multiline", [tags]] or
        ["Margin", [value, lower, upper]]}}, as torch takes it."""
        categories = []
        for category, charts in layout.items():
            entries = []
            for title, (kind, tags) in charts.items():
                if kind == "Margin" and len(tags) != 3:
                    raise ValueError(f"a margin chart takes 3 tags (value, lower, upper), not {len(tags)}")
                entries.append([title, "Margin" if kind == "Margin" else "Multiline", [str(tag) for tag in tags]])
            categories.append([category, entries])
        self._writer.add_custom_scalars(json.dumps(categories), 0, -1.0)

    def add_custom_scalars_multilinechart(self, tags, category="default", title="untitled"):
        self.add_custom_scalars({category: {title: ["Multiline", tags]}})

    def add_custom_scalars_marginchart(self, tags, category="default", title="untitled"):
        if len(tags) != 3:
            raise ValueError(f"a margin chart takes 3 tags (value, lower, upper), not {len(tags)}")
        self.add_custom_scalars({category: {title: ["Margin", tags]}})

    def add_pr_curve(self, tag, labels, predictions, global_step=None, num_thresholds=127, weights=None, walltime=None):
        """torch's add_pr_curve: the counts computed here with numpy (torch's compute_curve), the rest as add_pr_curve_raw."""
        num_thresholds = min(num_thresholds, 127)
        data = _compute_curve(_array(labels), _array(predictions), num_thresholds, weights)
        self._writer.add_pr_curve(tag, np.ascontiguousarray(data, dtype=np.float32), num_thresholds, _step(global_step), _wall_time(walltime))

    def add_pr_curve_raw(self, tag, true_positive_counts, false_positive_counts, true_negative_counts, false_negative_counts,
                         precision, recall, global_step=None, num_thresholds=127, weights=None, walltime=None):
        num_thresholds = min(num_thresholds, 127)
        rows = [np.asarray(_array(row), dtype=np.float64).reshape(-1) for row in
                (true_positive_counts, false_positive_counts, true_negative_counts, false_negative_counts, precision, recall)]
        if len({len(row) for row in rows}) != 1:
            raise ValueError("the six PR curve arrays must have the same length")
        self._writer.add_pr_curve(tag, np.ascontiguousarray(np.stack(rows), dtype=np.float32), num_thresholds, _step(global_step),
                                  _wall_time(walltime))

    def add_text(self, tag, text_string, global_step=None, walltime=None):
        self._writer.add_text(tag, str(text_string), _step(global_step), _wall_time(walltime))

    def _not_yet(name):
        def method(self, *args, **kwargs):
            raise NotImplementedError(f"SummaryWriter.{name} is not supported by ringboard yet")
        method.__name__ = name
        return method

    add_audio = _not_yet("add_audio")
    add_embedding = _not_yet("add_embedding")
    add_graph = _not_yet("add_graph")
    add_mesh = _not_yet("add_mesh")
    add_video = _not_yet("add_video")
    add_image_with_boxes = _not_yet("add_image_with_boxes")
    del _not_yet

    def flush(self, timeout=60.0):
        """Waits until everything sent is in the event files (at most `timeout` seconds); False if not."""
        return self._writer.wait_written(float(timeout))

    def close(self):
        """Flushes and frees the writer; calls after it raise ValueError."""
        if self._closed:
            return
        self._closed = True
        try:
            self._writer.wait_written(60.0)
        finally:
            self._writer.close()

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc_value, traceback):
        self.close()
