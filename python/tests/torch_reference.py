#!/usr/bin/env python3
"""Checks what ringboard's SummaryWriter wrote for add_audio, add_mesh, add_image_with_boxes and
add_embedding calls against what torch.utils.tensorboard writes for them, computed here the way
torch computes it, from TensorBoard's and tensorboardX's own code where torch uses the same:

- new-style scalars: torch's `summary.scalar(new_style=True)`, the scalars plugin's tensor;
- audio: torch's `summary.audio` (Python's `wave`, samples times 32767 truncated), byte for byte;
- mesh: TensorBoard's `plugins.mesh.metadata` (torch's), each part's tag, plugin data and values;
- image_with_boxes: tensorboardX's `summary.image_boxes` (torch's drawing code), decoded pixels;
- embedding: tensors.tsv, metadata.tsv and projector_config.pbtxt (protobuf's text format of
  TensorBoard's `ProjectorConfig`) byte for byte, and sprite.png's pixels (tensorboardX's
  `make_grid`, torch's).

    python torch_reference.py CALLS.json LOGDIR

Run with the project's .venv (TensorBoard, tensorboardX, Pillow). Prints "torch's: N values, M
embeddings" or the differences.
"""

import io
import json
import math
import os
import sys
import wave

import numpy as np
from PIL import Image
from tensorboard.backend.event_processing import event_file_loader
from tensorboard.plugins.mesh import metadata as mesh_metadata
from tensorboard.plugins.mesh.plugin_data_pb2 import MeshPluginData
from tensorboard.plugins.projector.projector_config_pb2 import ProjectorConfig
from google.protobuf import text_format

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from writer_replay import decode  # noqa: E402


def audio(tag, samples, sample_rate):
    """torch.utils.tensorboard.summary.audio's Summary.Value, serialized."""
    from tensorboard.compat.proto.summary_pb2 import Summary
    array = np.asarray(samples).squeeze()
    if abs(array).max() > 1:
        array = array.clip(-1, 1)
    array = (array * np.iinfo(np.int16).max).astype("<i2")
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sample_rate)
        w.writeframes(array.data)
    value = Summary.Audio(sample_rate=sample_rate, num_channels=1, length_frames=array.shape[-1],
                          encoded_audio_string=out.getvalue(), content_type="audio/wav")
    return Summary.Value(tag=tag, audio=value).SerializeToString()


def mesh(tag, vertices, colors, faces, config_dict):
    """torch's mesh(): [(tag, plugin content, shape, values)] for the parts given."""
    config = "{}" if config_dict is None else json.dumps(config_dict, sort_keys=True)
    parts = [(t, c) for t, c in ((vertices, MeshPluginData.VERTEX), (faces, MeshPluginData.FACE), (colors, MeshPluginData.COLOR))
             if t is not None]
    components = mesh_metadata.get_components_bitmask([c for _, c in parts])
    out = []
    for values, content in parts:
        values = np.asarray(values)
        data = mesh_metadata.create_summary_metadata(tag, None, content, components, values.shape, None, json_config=config)
        out.append((mesh_metadata.get_instance_name(tag, content), data.plugin_data.content, list(values.shape),
                    values.astype(np.float32).reshape(-1).tolist()))
    return out


def boxes(tag, image, box_tensor, dataformats="CHW", labels=None, rescale=1):
    """The pixels torch's image_boxes draws (tensorboardX's code is torch's)."""
    from tensorboardX import summary
    if labels is not None:
        labels = [labels] if isinstance(labels, str) else labels
        if len(labels) != box_tensor.shape[0]:
            labels = None
    value = summary.image_boxes(tag, image, box_tensor, rescale=rescale, dataformats=dataformats, labels=labels).value[0]
    return Image.open(io.BytesIO(value.image.encoded_image_string))


def embedding_files(mat, metadata=None, label_img=None, global_step=None, tag="default", metadata_header=None):
    """torch's add_embedding: {relative path: bytes or an image}, and the config's EmbeddingInfo."""
    from tensorboardX.utils import make_grid
    step = 0 if global_step is None else global_step
    encoded = tag.replace("%", "%25").replace("/", "%2f").replace("\\", "%5c")
    subdir = f"{str(step).zfill(5)}/{encoded}"
    files = {}
    # torch prints each value of its array (float32 here, as ringboard keeps them).
    files[f"{subdir}/tensors.tsv"] = "".join("\t".join(str(v.item()) for v in row) + "\n" for row in np.asarray(mat, np.float32)).encode()
    config = ProjectorConfig().embeddings.add()
    config.tensor_name = f"{tag}:{str(step).zfill(5)}"
    config.tensor_path = f"{subdir}/tensors.tsv"
    if metadata is not None:
        lines = [str(x) for x in metadata] if not metadata_header else \
            ["\t".join(str(e) for e in row) for row in [metadata_header] + list(metadata)]
        files[f"{subdir}/metadata.tsv"] = ("\n".join(lines) + "\n").encode()
        config.metadata_path = f"{subdir}/metadata.tsv"
    if label_img is not None:
        grid = make_grid(np.asarray(label_img), ncols=math.ceil(label_img.shape[0] ** 0.5))
        square = np.zeros((grid.shape[2], grid.shape[2], 3))
        square[:grid.shape[1], :, :] = grid.transpose(1, 2, 0)
        files[f"{subdir}/sprite.png"] = Image.fromarray(np.uint8((square * 255).clip(0, 255)))
        config.sprite.image_path = f"{subdir}/sprite.png"
        config.sprite.single_image_dim.extend([label_img.shape[3], label_img.shape[2]])
    return files, config


def main():
    calls, logdir = json.load(open(sys.argv[1])), sys.argv[2]
    values = []
    for name in sorted(os.listdir(logdir)):
        if name.startswith("events.out.tfevents."):
            for event in event_file_loader.LegacyEventFileLoader(os.path.join(logdir, name)).Load():
                if event.HasField("summary"):
                    values.extend((event.step, value) for value in event.summary.value)
    by_tag = {}
    for step, value in values:
        by_tag.setdefault(value.tag, []).append((step, value))
    problems, checked, embeddings = [], 0, ProjectorConfig()
    for call in calls:
        args = [decode(a) for a in call.get("args", [])]
        kwargs = {k: decode(v) for k, v in call.get("kwargs", {}).items()}
        kwargs.pop("walltime", None)
        method = call["method"]
        if method == "add_audio":
            tag, samples, step = args
            (got_step, got), = by_tag.pop(tag, [(None, None)])
            if got is None or got_step != step or got.SerializeToString() != audio(tag, samples, kwargs.get("sample_rate", 44100)):
                problems.append(f"audio {tag}: not torch's")
            checked += 1
        elif method == "add_scalar" and kwargs.get("new_style"):
            # torch's scalar(new_style=True): a float tensor, or double with double_precision, of the scalars plugin.
            tag, value, step = args
            (got_step, got), = by_tag.pop(tag, [(None, None)])
            from tensorboard.util import tensor_util
            want_dtype = 2 if kwargs.get("double_precision") else 1  # DT_DOUBLE, DT_FLOAT
            want = float(np.float64(value)) if want_dtype == 2 else float(np.float32(value))
            if (got is None or got_step != step or got.metadata.plugin_data.plugin_name != "scalars" or got.tensor.dtype != want_dtype
                    or tensor_util.make_ndarray(got.tensor).tolist() != want or got.tensor.tensor_shape.dim):
                problems.append(f"new-style scalar {tag}: not torch's ({got})")
            checked += 1
        elif method == "add_mesh":
            expected = mesh(args[0], args[1], kwargs.get("colors"), kwargs.get("faces"), kwargs.get("config_dict"))
            for instance, content, shape, flat in expected:
                (got_step, got), = by_tag.pop(instance, [(None, None)])
                from tensorboard.util import tensor_util
                if (got is None or got_step != kwargs.get("global_step", 0) or got.metadata.plugin_data.plugin_name != "mesh"
                        or got.metadata.plugin_data.content != content
                        or tensor_util.make_ndarray(got.tensor).reshape(-1).tolist() != flat
                        or [d.size for d in got.tensor.tensor_shape.dim] != shape):
                    problems.append(f"mesh {instance}: not torch's")
                checked += 1
        elif method == "add_image_with_boxes":
            tag, image, box_tensor, step = args
            want = boxes(tag, image, box_tensor, kwargs.get("dataformats", "CHW"), kwargs.get("labels"), kwargs.get("rescale", 1))
            (got_step, got), = by_tag.pop(tag, [(None, None)])
            picture = Image.open(io.BytesIO(got.image.encoded_image_string)) if got is not None else None
            if (picture is None or got_step != step or picture.tobytes() != want.tobytes() or picture.size != want.size
                    or (got.image.width, got.image.height) != want.size):
                problems.append(f"image with boxes {tag}: not torch's pixels")
            checked += 1
        elif method == "add_embedding":
            files, info = embedding_files(*args, **kwargs)
            embeddings.embeddings.append(info)
            for path, want in files.items():
                full = os.path.join(logdir, path)
                if not os.path.exists(full):
                    problems.append(f"{path}: missing")
                elif isinstance(want, bytes):
                    if open(full, "rb").read() != want:
                        problems.append(f"{path}: not torch's bytes")
                elif np.asarray(Image.open(full)).tobytes() != np.asarray(want).tobytes():
                    problems.append(f"{path}: not torch's pixels")
    if embeddings.embeddings:
        config = open(os.path.join(logdir, "projector_config.pbtxt")).read()
        if config != text_format.MessageToString(embeddings):
            problems.append(f"projector_config.pbtxt:\n{config}\nexpected\n{text_format.MessageToString(embeddings)}")
    if by_tag:
        problems.append(f"values no call made: {sorted(by_tag)}")
    if problems:
        print("\n".join(problems))
        return 1
    print(f"torch's: {checked} values, {len(embeddings.embeddings)} embeddings")
    return 0


if __name__ == "__main__":
    sys.exit(main())
