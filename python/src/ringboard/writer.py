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


def _draw_boxes(image, boxes, labels, rescale):
    """torch's make_image with rois: each box drawn in red with Pillow (and its label on a red ground
    with the default font), then the image resized by `rescale` with Lanczos; HWC uint8 again."""
    try:
        from PIL import Image, ImageDraw, ImageFont
    except ImportError as error:
        raise ImportError("add_image_with_boxes needs Pillow to draw the boxes (pip install pillow)") from error
    if boxes.ndim != 2 or boxes.shape[1] != 4:
        raise ValueError(f"box_tensor must be (N, 4) boxes of (x1, y1, x2, y2), not shape {boxes.shape}")
    height, width = image.shape[0], image.shape[1]
    picture = Image.fromarray(image)
    draw = ImageDraw.Draw(picture)
    font = ImageFont.load_default()
    for index in range(boxes.shape[0]):
        left, top, right, bottom = boxes[index, 0], boxes[index, 1], boxes[index, 2], boxes[index, 3]
        draw.line([(left, top), (left, bottom), (right, bottom), (right, top), (left, top)], width=2, fill="Red")
        text = None if labels is None else labels[index]
        if text:
            box_left, box_top, box_right, box_bottom = font.getbbox(text)
            text_width, text_height = box_right - box_left, box_bottom - box_top
            margin = np.ceil(0.05 * text_height)
            draw.rectangle([(left, bottom - text_height - 2 * margin), (left + text_width, bottom)], fill="Red")
            draw.text((left + margin, bottom - text_height - margin), text, fill="black", font=font)
    picture = picture.resize((int(width * rescale), int(height * rescale)), Image.Resampling.LANCZOS)
    return np.ascontiguousarray(np.asarray(picture))


def _sprite(images):
    """torch's make_sprite: the label images (NCHW, values in [0, 1]) tiled ceil(sqrt(N)) to a row, on a
    black square as wide as the tiles, as RGB bytes."""
    columns = int(np.ceil(images.shape[0] ** 0.5))
    grid = _make_grid(images, ncols=columns)
    if grid.shape[0] != 3:
        raise ValueError("label_img must have 1 or 3 channels")
    side = grid.shape[2]
    if grid.shape[1] > side:
        raise ValueError(f"label images of {images.shape[2]}×{images.shape[3]} tile to {grid.shape[1]}×{side}, taller than the "
                         "square sprite the projector reads")
    square = np.zeros((side, side, 3))
    square[:grid.shape[1], :, :] = grid.transpose(1, 2, 0)
    return np.ascontiguousarray(np.uint8((square * 255).clip(0, 255)))


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
    sends within 100 ms. `flush()` waits until everything sent is in the event files. `purge_step`
    writes torch's SessionLog START, which TensorBoard's Python loader honours (its Rust data
    server does not, for torch's files either).
    """

    def __init__(self, log_dir=None, comment="", purge_step=None, max_queue=10, flush_secs=120, filename_suffix="", *,
                 rank=None, world_size=None, rank_policy="chief", ring_directory=None, start_aggregator=True,
                 aggregator_executable=None):
        if filename_suffix:
            import warnings
            warnings.warn("filename_suffix is not applied: the aggregator names the event files, one per directory for every "
                          "writer of the directory", RuntimeWarning, stacklevel=2)
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
        if purge_step is not None:
            # As torch: a SessionLog START at purge_step, which TensorBoard's Python loader honours.
            self._writer.purge(int(purge_step))
        for warning in filter(None, self._writer.warnings.split("\n")):
            import warnings
            warnings.warn(warning, RuntimeWarning, stacklevel=2)

    def get_logdir(self):
        """The directory the event files go in."""
        return self.log_dir

    def add_scalar(self, tag, scalar_value, global_step=None, walltime=None, new_style=False, double_precision=False):
        if new_style:
            # The scalars plugin's tensor, float32 or with double_precision float64, as torch writes it.
            self._writer.add_tensor_scalar(tag, _scalar(scalar_value), bool(double_precision), _step(global_step), _wall_time(walltime))
            return
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
        """With bins="tensorflow" (the default) the aggregator counts the values, of any number; other bins
        and max_bins are counted here with numpy, as torch counts them."""
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

    def add_image_with_boxes(self, tag, img_tensor, box_tensor, global_step=None, walltime=None, rescale=1, dataformats="CHW",
                             labels=None):
        """torch's add_image_with_boxes: each box (x1, y1, x2, y2) drawn in red on the image with Pillow, and
        its label, as torch draws them; then the image as add_image writes it."""
        boxes = _array(box_tensor)
        if labels is not None:
            if isinstance(labels, str):
                labels = [labels]
            if len(labels) != boxes.shape[0]:
                labels = None
        image = _to_hwc(_array(img_tensor), dataformats)
        scale = 1 if image.dtype == np.uint8 else 255
        pixels = _draw_boxes((image.astype(np.float32) * scale).clip(0, 255).astype(np.uint8), boxes, labels, rescale)
        self._writer.add_image(tag, pixels, _step(global_step), _wall_time(walltime))

    def add_audio(self, tag, snd_tensor, global_step=None, sample_rate=44100, walltime=None):
        """torch's add_audio: one channel of samples in [-1, 1] (louder clips are clipped, with a warning),
        written by the aggregator as 16-bit WAV."""
        array = _array(snd_tensor).squeeze()
        if array.ndim != 1:
            raise ValueError(f"audio must be one channel of samples (1 dimensional after squeeze), not shape {array.shape}")
        if array.dtype != np.float32:
            array = array.astype(np.float64)
        array = np.ascontiguousarray(array)
        if array.size and np.abs(array).max() > 1:
            import warnings
            warnings.warn("audio amplitude out of range, auto clipped.", RuntimeWarning, stacklevel=2)
        self._writer.add_audio(tag, array, float(sample_rate), _step(global_step), _wall_time(walltime))

    def add_mesh(self, tag, vertices, colors=None, faces=None, config_dict=None, global_step=None, walltime=None):
        """torch's add_mesh: vertices, colors and faces each of shape (batch, count, 3), written as the mesh
        plugin's float tensors <tag>_VERTEX, <tag>_FACE and <tag>_COLOR, with config_dict as JSON."""
        def part(value):
            return None if value is None else np.ascontiguousarray(_array(value), dtype=np.float32)
        config = "{}" if config_dict is None else json.dumps(config_dict, sort_keys=True)
        self._writer.add_mesh(tag, part(vertices), part(colors), part(faces), config, _step(global_step), _wall_time(walltime))

    def add_graph(self, model, input_to_model=None, verbose=False, use_strict_trace=True):
        """A torch module's graph, made by torch's own graph builder (torch.utils.tensorboard), as torch's
        writer writes it. Also takes a GraphDef message or its serialized bytes, written as they are."""
        if isinstance(model, (bytes, bytearray, memoryview)):
            self._writer.add_graph(bytes(model), b"", -1.0)
            return
        if hasattr(model, "SerializeToString") and not hasattr(model, "forward"):
            self._writer.add_graph(model.SerializeToString(), b"", -1.0)
            return
        try:
            from torch.utils.tensorboard._pytorch_graph import graph
        except ImportError as error:
            raise ImportError("add_graph of a module needs torch, and tensorboard for torch's graph builder "
                              f"(pip install torch tensorboard): {error}") from error
        graph_def, run_metadata = graph(model, input_to_model, verbose, use_strict_trace)
        self._writer.add_graph(graph_def.SerializeToString(), run_metadata.SerializeToString(), -1.0)

    def add_embedding(self, mat, metadata=None, label_img=None, global_step=None, tag="default", metadata_header=None):
        """torch's add_embedding: the aggregator writes <log_dir>/<step, 5 digits>/<tag>/tensors.tsv (and
        metadata.tsv, sprite.png) and adds the embedding to <log_dir>/projector_config.pbtxt."""
        mat = _array(mat)
        if mat.ndim != 2:
            raise ValueError(f"mat should be 2D, where mat.size(0) is the number of data points, not shape {mat.shape}")
        step = _step(global_step)
        text = None
        if metadata is not None:
            if mat.shape[0] != len(metadata):
                raise ValueError("#labels should equal with #data points")
            if not metadata_header:
                lines = [str(x) for x in metadata]
            else:
                if len(metadata_header) != len(metadata[0]):
                    raise ValueError("len of header must be equal to the number of columns in metadata")
                lines = ["\t".join(str(e) for e in row) for row in [metadata_header] + list(metadata)]
            if any("\n" in line for line in lines):
                raise ValueError("metadata holds a newline, which would end its row in metadata.tsv")
            text = "\n".join(lines) + "\n"
        sprite, height, width = None, 0, 0
        if label_img is not None:
            images = _array(label_img)
            if images.ndim != 4 or mat.shape[0] != images.shape[0]:
                raise ValueError(f"label_img must be (N, C, H, W) with one image per data point, not shape {images.shape}")
            sprite, height, width = _sprite(images), images.shape[2], images.shape[3]
        self._writer.add_embedding(tag, np.ascontiguousarray(mat, dtype=np.float32), text, sprite, height, width, step)

    def add_video(self, *args, **kwargs):
        raise NotImplementedError("SummaryWriter.add_video is not supported by ringboard")

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
