"""ringboard.SummaryWriter against tensorboardX's: the same calls give the same event streams
(compare_writers.py), TensorBoard's data server serves every plugin's data, ranks under each
policy, and bad input is refused at the call."""

import json
import os
import subprocess
import sys
import time

import numpy as np
import pytest

import ringboard
from conftest import HERE, TENSORBOARD_PYTHON, require_torch, run

WALL = 1_765_000_000.0


def array(values, dtype):
    values = np.asarray(values, dtype=dtype)
    return {"array": values.tolist(), "dtype": dtype}


def calls():
    """A call of every supported method, with explicit wall times (the two writers run apart)."""
    rng = np.random.default_rng(7)
    weights = rng.standard_normal(3000).astype(np.float32) * 3
    out = []
    for step in range(5):
        out.append({"method": "add_scalar", "args": ["loss", 1.0 / (step + 1), step], "kwargs": {"walltime": WALL + step}})
        out.append({"method": "add_scalar", "args": ["train/accuracy", array(step / 10, "float64"), step], "kwargs": {"walltime": WALL + step}})
    out.append({"method": "add_scalars", "args": ["curves/lr", {"warm": 0.5, "cold": 0.25}, 3], "kwargs": {"walltime": WALL + 3}})
    out.append({"method": "add_histogram", "args": ["weights/float32", array(weights, "float32"), 1], "kwargs": {"walltime": WALL + 1}})
    out.append({"method": "add_histogram", "args": ["weights/float64", array(rng.uniform(-1e-3, 5, 500), "float64"), 2],
                "kwargs": {"walltime": WALL + 2}})
    out.append({"method": "add_histogram", "args": ["weights/ints", array([0, 1, 1, 2, 3, 5, 8], "int64"), 2], "kwargs": {"walltime": WALL + 2}})
    # More values than a ring record holds: through a weight segment.
    out.append({"method": "add_histogram", "args": ["weights/large", {"normal": 600_000, "seed": 3, "dtype": "float32"}, 2],
                "kwargs": {"walltime": WALL + 2}})
    out.append({"method": "add_histogram", "args": ["weights/auto", array(weights, "float32"), 3], "kwargs": {"bins": "auto", "walltime": WALL + 3}})
    out.append({"method": "add_histogram", "args": ["weights/ten", array(weights, "float32"), 3], "kwargs": {"bins": 10, "walltime": WALL + 3}})
    out.append({"method": "add_histogram_raw", "args": ["raw", -1.0, 2.0, 3, 1.0, 5.0, [0.0, 2.0], [1, 2], 4], "kwargs": {"walltime": WALL + 4}})
    out.append({"method": "add_image", "args": ["image/chw_float", array(rng.uniform(0, 1, (3, 20, 30)), "float32"), 0],
                "kwargs": {"walltime": WALL}})
    out.append({"method": "add_image", "args": ["image/hwc_uint8", array(rng.integers(0, 256, (16, 12, 4)), "uint8"), 1],
                "kwargs": {"dataformats": "HWC", "walltime": WALL + 1}})
    out.append({"method": "add_image", "args": ["image/hw", array(rng.uniform(0, 1, (8, 9)), "float64"), 1],
                "kwargs": {"dataformats": "HW", "walltime": WALL + 1}})
    out.append({"method": "add_images", "args": ["image/batch", array(rng.uniform(0, 1, (10, 1, 6, 5)), "float32"), 2],
                "kwargs": {"walltime": WALL + 2}})
    out.append({"method": "add_figure", "args": ["plot", {"figure": 3}, 4], "kwargs": {"walltime": WALL + 4}})
    out.append({"method": "add_hparams", "args": [{"lr": 0.01, "optimizer": "adam", "layers": 3, "unused": None},
                                                   {"hparam/accuracy": 0.75, "hparam/loss": 0.5}],
                "kwargs": {"run_name": "exp"}})
    out.append({"method": "add_pr_curve", "args": ["pr", array(rng.integers(0, 2, 100), "int64"), array(rng.uniform(0, 1, 100), "float64"), 1],
                "kwargs": {"walltime": WALL + 1, "num_thresholds": 50}})
    out.append({"method": "add_pr_curve_raw", "args": ["pr_raw", [5, 3], [2, 1], [0, 1], [1, 3], [0.7, 0.75], [0.8, 0.5], 2],
                "kwargs": {"walltime": WALL + 2, "num_thresholds": 2}})
    out.append({"method": "add_custom_scalars", "args": [{"Loss": {"both": ["Multiline", ["loss", "train/accuracy"]],
                                                                 "band": ["Margin", ["loss", "loss", "train/accuracy"]]},
                                                        "Other": {"lr": ["Multiline", ["curves/.*"]]}}],
                "kwargs": {}})
    out.append({"method": "add_text", "args": ["notes", "**bold** and `code`, ünïcode", 5], "kwargs": {"walltime": WALL + 5}})
    # Larger than a ring record (2 MiB): through a weight segment, whole.
    out.append({"method": "add_image", "args": ["image/large", {"uniform": [1024, 1024, 3], "seed": 5, "dtype": "uint8"}, 6],
                "kwargs": {"dataformats": "HWC", "walltime": WALL + 6}})
    out.append({"method": "add_histogram", "args": ["weights/large64", {"normal": 400_000, "seed": 4, "dtype": "float64"}, 6],
                "kwargs": {"walltime": WALL + 6}})
    out.append({"method": "add_image_with_boxes", "args": ["boxes", array(rng.uniform(0, 1, (3, 48, 64)), "float32"),
                                                          array([[4, 5, 40, 30], [20, 10, 60, 44]], "float32"), 5],
                "kwargs": {"labels": ["cat", "dog"], "walltime": WALL + 5}})
    return out


def graph_def():
    """A GraphDef of two nodes, serialized by hand: node { name op input* }."""
    def field(number, text):
        return bytes([number << 3 | 2, len(text)]) + text.encode()

    nodes = [field(1, "input") + field(2, "Placeholder"), field(1, "dense/MatMul") + field(2, "MatMul") + field(3, "input")]
    return b"".join(bytes([0x0A, len(node)]) + node for node in nodes)


def torch_calls():
    """Calls tensorboardX writes otherwise than torch (audio with libsndfile, mesh tags by number, its
    own sprite layout), checked against torch's way by torch_reference.py; and a graph."""
    rng = np.random.default_rng(11)
    t = np.linspace(0, 1, 4000)
    return [
        {"method": "add_audio", "args": ["sound/f32", array(np.sin(2 * np.pi * 440 * t) * 1.3, "float32"), 1],
         "kwargs": {"sample_rate": 16000, "walltime": WALL + 1}},
        {"method": "add_audio", "args": ["sound/f64", array(rng.uniform(-1, 1, 3001), "float64"), 2],
         "kwargs": {"sample_rate": 22050, "walltime": WALL + 2}},
        {"method": "add_mesh", "args": ["mesh", array([[[1, 1, 1], [-1, -1, 1], [1, -1, -1], [-1, 1, -1]]], "float32")],
         "kwargs": {"colors": array([[[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 0, 255]]], "int32"),
                    "faces": array([[[0, 2, 3], [0, 3, 1], [0, 1, 2], [1, 3, 2]]], "int32"),
                    "config_dict": {"camera": {"cls": "PerspectiveCamera", "fov": 75}}, "global_step": 3, "walltime": WALL + 3}},
        {"method": "add_mesh", "args": ["cloud", array(rng.uniform(-1, 1, (2, 50, 3)), "float32")],
         "kwargs": {"global_step": 4, "walltime": WALL + 4}},
        {"method": "add_image_with_boxes", "args": ["boxes_hwc", array(rng.integers(0, 256, (30, 40, 3)), "uint8"),
                                                    array([[1.5, 2, 20, 25]], "float64"), 6],
         "kwargs": {"dataformats": "HWC", "rescale": 2, "labels": "one", "walltime": WALL + 6}},
        {"method": "add_embedding", "args": [array(rng.standard_normal((30, 5)), "float32")],
         "kwargs": {"metadata": [f"w{i}" for i in range(30)], "label_img": array(rng.uniform(0, 1, (30, 3, 8, 10)), "float32"),
                    "global_step": 7}},
        {"method": "add_embedding", "args": [array(rng.standard_normal((4, 3)), "float32")],
         "kwargs": {"metadata": [["a", 1], ["b", 2], ["c", 3], ["d", 4]], "metadata_header": ["name", "n"], "tag": "with/slash",
                    "global_step": 8}},
        {"method": "add_graph", "args": [{"hex": graph_def().hex()}]},
        {"method": "add_scalar", "args": ["tensor/float", 0.1, 9], "kwargs": {"new_style": True, "walltime": WALL + 9}},
        {"method": "add_scalar", "args": ["tensor/double", 0.1, 9], "kwargs": {"new_style": True, "double_precision": True,
                                                                              "walltime": WALL + 9}},
    ]


def replay(which, spec, logdir, ring_dir=None, env=None):
    # torch's writer runs here, beside ringboard's (with TensorBoard, which it imports); tensorboardX's in .venv.
    python = sys.executable if which in ("ringboard", "torch") else TENSORBOARD_PYTHON
    arguments = [python, os.path.join(HERE, "writer_replay.py"), which, spec, logdir] + ([ring_dir] if ring_dir else [])
    status, out, err = run(arguments, env=env)
    assert status == 0 and out.strip().endswith("done"), f"{which} failed ({status}):\n{out}\n{err}"


def test_the_same_calls_give_tensorboardx_event_streams(tmp_path):
    spec = str(tmp_path / "calls.json")
    json.dump(calls(), open(spec, "w"))
    ours, theirs = str(tmp_path / "ours"), str(tmp_path / "theirs")
    replay("ringboard", spec, ours, str(tmp_path / "rings"))
    replay("tensorboardX", spec, theirs)
    # tensorboardX's add_scalars directories are `<main_tag>/<key>`; torch's, which ringboard follows, these.
    status, out, err = run([TENSORBOARD_PYTHON, os.path.join(HERE, "compare_writers.py"), ours, theirs,
                            "curves/lr/cold=curves_lr_cold", "curves/lr/warm=curves_lr_warm", "--any-wall-time=exp",
                            "--any-wall-time-tag=custom_scalars__config__"])
    assert status == 0, f"{out}\n{err}"
    assert out.strip() == "same: 36 events in 4 runs"
    # One event file per directory, none for a writer's own process beyond them.
    files = sorted(os.path.relpath(os.path.join(d, f), ours) for d, _, fs in os.walk(ours) for f in fs if f.startswith("events."))
    assert sorted(os.path.dirname(f) for f in files) == ["", "curves_lr_cold", "curves_lr_warm", "exp"]


def test_audio_mesh_boxes_and_embeddings_are_written_as_torch_writes_them(tmp_path):
    spec = str(tmp_path / "calls.json")
    json.dump(torch_calls(), open(spec, "w"))
    logdir = str(tmp_path / "logs")
    with pytest.warns(RuntimeWarning, match="auto clipped"):
        replay_in_process(torch_calls(), logdir, str(tmp_path / "rings"))
    status, out, err = run([TENSORBOARD_PYTHON, os.path.join(HERE, "torch_reference.py"), spec, logdir])
    assert status == 0, f"{out}\n{err}"
    assert out.strip() == "torch's: 9 values, 2 embeddings"
    # An embedding logged again (a replay, or the same step twice) keeps one config entry.
    with ringboard.SummaryWriter(logdir, ring_directory=str(tmp_path / "rings")) as writer:
        writer.add_embedding(np.ones((2, 2)), global_step=8, tag="with/slash", metadata=[["a", 1], ["b", 2]], metadata_header=["name", "n"])
    assert open(os.path.join(logdir, "projector_config.pbtxt")).read().count("embeddings {") == 2


def test_the_same_calls_give_torchs_event_streams_and_files(tmp_path):
    require_torch(sys.executable)
    # torch's add_graph takes a module (below), and states an image's size before `rescale`.
    spec_calls = [call for call in calls() + torch_calls()
                  if call["method"] != "add_graph" and call.get("kwargs", {}).get("rescale", 1) == 1]
    spec = str(tmp_path / "calls.json")
    json.dump(spec_calls, open(spec, "w"))
    ours, theirs = str(tmp_path / "ours"), str(tmp_path / "theirs")
    replay("ringboard", spec, ours, str(tmp_path / "rings"))
    replay("torch", spec, theirs)
    status, out, err = run([TENSORBOARD_PYTHON, os.path.join(HERE, "compare_writers.py"), ours, theirs, "--any-wall-time=exp",
                            "--any-wall-time-tag=custom_scalars__config__"])
    assert status == 0, f"{out}\n{err}"
    assert out.strip() == "same: 44 events in 4 runs"
    # The projector's files: the same bytes (the sprite: the same pixels).
    files = sorted(os.path.relpath(os.path.join(d, f), theirs) for d, _, fs in os.walk(theirs) for f in fs if not f.startswith("events."))
    assert files == ["00007/default/metadata.tsv", "00007/default/sprite.png", "00007/default/tensors.tsv",
                     "00008/with%2fslash/metadata.tsv", "00008/with%2fslash/tensors.tsv", "projector_config.pbtxt"]
    for name in files:
        mine, torchs = os.path.join(ours, name), os.path.join(theirs, name)
        if name.endswith(".png"):
            from matplotlib import image
            assert (image.imread(mine) == image.imread(torchs)).all(), name
        else:
            assert open(mine, "rb").read() == open(torchs, "rb").read(), name


def test_add_graph_of_a_torch_module_is_torchs(tmp_path):
    require_torch(sys.executable)
    ours, theirs = str(tmp_path / "ours"), str(tmp_path / "theirs")
    for which, extra in (("ringboard", [str(tmp_path / "rings")]), ("torch", [])):
        status, out, err = run([sys.executable, os.path.join(HERE, "torch_graph.py"), which, ours if which == "ringboard" else theirs] + extra)
        assert status == 0 and out.strip() == "done", err
    # torch serializes the GraphDef's attr maps in no fixed order: compared as parsed messages.
    code = ("import os, sys\nfrom tensorboard.backend.event_processing import event_file_loader\n"
            "from tensorboard.compat.proto.graph_pb2 import GraphDef\n"
            "def read(d):\n"
            "    f = [n for n in os.listdir(d) if n.startswith('events.')]\n"
            "    assert len(f) == 1, f\n"
            "    es = [e for e in event_file_loader.LegacyEventFileLoader(os.path.join(d, f[0])).Load() if not e.file_version]\n"
            "    return [(e.WhichOneof('what'), GraphDef.FromString(e.graph_def) if e.graph_def else e.tagged_run_metadata) for e in es]\n"
            "a, b = read(sys.argv[1]), read(sys.argv[2])\n"
            "print('same' if a == b else f'{a}\\n!=\\n{b}', [k for k, _ in a], len(a[0][1].node))\n")
    status, out, err = run([TENSORBOARD_PYTHON, "-c", code, ours, theirs])
    assert status == 0, err
    assert out.strip().startswith("same ['graph_def', 'tagged_run_metadata']"), out
    # TensorBoard's Graphs dashboard, in headless Chromium, draws the graph and its profile (step1).
    status, out, err = run([TENSORBOARD_PYTHON, os.path.join(HERE, "..", "..", "Tests", "Conformance", "graphs_dashboard_check.py"),
                            "--logdir", ours, "--nodes", "input,Sequential,output"], timeout=300)
    assert status == 0, f"{out}\n{err}"
    assert "step1: profile" in out, out


@pytest.mark.parametrize("policy", ["chief", "per_rank", "mean"])
def test_ranks_of_a_torch_distributed_job_on_gloo(tmp_path, policy):
    require_torch(sys.executable)
    rings, logdir = str(tmp_path / "rings"), str(tmp_path / "logs")
    status, out, err = run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
                            os.path.join(HERE, "torch_ranks.py"), logdir, rings, policy], timeout=300)
    assert status == 0 and out.count("done") == 2, f"{out}\n{err}"
    status, out, err = run([TENSORBOARD_PYTHON, "-c", SCALARS, logdir])
    assert status == 0, err
    scalars = json.loads(out)
    mean = [[step, float(50 + step)] for step in range(30)]  # all-reduced: (step + 100 + step) / 2
    if policy == "chief":
        assert scalars == {".": {"loss": [[step, float(step)] for step in range(30)], "mean_loss": mean}}
    elif policy == "mean":
        assert scalars == {".": {"loss": mean, "mean_loss": mean}}
    else:
        assert scalars == {f"rank_{r}": {"loss": [[step, float(r * 100 + step)] for step in range(30)], "mean_loss": mean} for r in range(2)}


def replay_in_process(spec, logdir, ring_dir):
    import writer_replay
    with ringboard.SummaryWriter(logdir, ring_directory=ring_dir) as writer:
        for call in spec:
            getattr(writer, call["method"])(*[writer_replay.decode(a) for a in call.get("args", [])],
                                            **{k: writer_replay.decode(v) for k, v in call.get("kwargs", {}).items()})


def test_tensorboard_serves_every_plugins_data(tmp_path):
    spec = str(tmp_path / "calls.json")
    json.dump(calls() + torch_calls(), open(spec, "w"))
    logdir = str(tmp_path / "logs")
    replay("ringboard", spec, logdir, str(tmp_path / "rings"))
    status, out, err = run([TENSORBOARD_PYTHON, os.path.join(HERE, "served_plugins.py"), logdir], timeout=180)
    assert status == 0, f"{out}\n{err}"
    # Scalars: 6 simple values and a new-style float32 one; the Rust data server leaves out
    # double_precision ones (torch's too).
    assert out.strip() == ("served: runs ., curves_lr_cold, curves_lr_warm, exp; scalars 7 series; histograms 8 tags; "
                           "distributions 8 tags; images 8 tags; text 1 tag; hparams layers, lr, optimizer / hparam/accuracy, hparam/loss; "
                           "custom scalars Loss, Other; PR curves 2; audio 2; mesh 2; graphs .; projector 2")


def test_purge_step_drops_what_a_restart_rewrites_in_tensorboards_loader(tmp_path):
    logdir, rings = str(tmp_path / "logs"), str(tmp_path / "rings")
    with ringboard.SummaryWriter(logdir, ring_directory=rings) as writer:
        for step in range(10):
            writer.add_scalar("loss", float(step), step)
    # Restarted from the checkpoint of step 5: steps 5 on are logged again.
    with ringboard.SummaryWriter(logdir, ring_directory=rings, purge_step=5) as writer:
        for step in range(5, 8):
            writer.add_scalar("loss", 100.0 + step, step)
    code = ("import sys\nfrom tensorboard.backend.event_processing import event_accumulator\n"
            "a = event_accumulator.EventAccumulator(sys.argv[1]); a.Reload()\n"
            "print([(e.step, e.value) for e in a.Scalars('loss')])")
    status, out, err = run([TENSORBOARD_PYTHON, "-c", code, logdir])
    assert status == 0, err
    assert out.strip() == str([(s, float(s)) for s in range(5)] + [(s, 100.0 + s) for s in range(5, 8)])


def test_float_images_are_scaled_and_clipped_as_torch_does():
    # torch clips to 0..255 after scaling by 255 (tensorboardX does not clip: -0.1 wraps to 231).
    pixels = ringboard.writer._image_bytes(np.array([[[-0.1, 0.5, 1.1]]], dtype=np.float32), "CHW")
    assert pixels.shape == (1, 3, 3) and pixels[0, :, 0].tolist() == [0, 127, 255]
    assert ringboard.writer._image_bytes(np.array([[7, 9]], dtype=np.uint8), "HW").tolist() == [[[7, 7, 7], [9, 9, 9]]]


def test_the_fixed_add_scalars_and_add_hparams_write_into_the_writers_own_run(tmp_path):
    logdir = str(tmp_path / "logs")
    with ringboard.SummaryWriter(logdir, ring_directory=str(tmp_path / "rings")) as writer:
        writer.add_scalars("loss", {"train": 1.0, "test": 2.0}, 3, same_run=True)
        writer.add_hparams({"lr": 0.1}, {"hparam/accuracy": 0.5}, same_run=True)
    directories = sorted(os.path.relpath(d, logdir) for d, _, fs in os.walk(logdir) if any(f.startswith("events.") for f in fs))
    assert directories == ["."]
    status, out, err = run([TENSORBOARD_PYTHON, "-c", SCALARS, logdir])
    assert status == 0, err
    scalars = json.loads(out)["."]
    assert scalars["loss/train"] == [[3, 1.0]] and scalars["loss/test"] == [[3, 2.0]] and scalars["hparam/accuracy"] == [[0, 0.5]]
    assert sorted(tag for tag in scalars if tag.startswith("_hparams_")) == [
        "_hparams_/experiment", "_hparams_/session_end_info", "_hparams_/session_start_info"]


def test_a_writer_that_logs_nothing_leaves_no_file(tmp_path):
    logdir = tmp_path / "quiet"
    with ringboard.SummaryWriter(str(logdir), ring_directory=str(tmp_path / "rings")) as writer:
        assert writer.get_logdir() == str(logdir)
    assert not logdir.exists() or not any(logdir.iterdir())


@pytest.mark.parametrize("policy", ["chief", "per_rank", "mean"])
def test_ranks(tmp_path, policy):
    rings, logdir = str(tmp_path / "rings"), str(tmp_path / "logs")
    script = ("import sys, ringboard\n"
              "w = ringboard.SummaryWriter(sys.argv[1], ring_directory=sys.argv[2], rank_policy=sys.argv[3])\n"
              "rank = int(__import__('os').environ['RANK'])\n"
              "for step in range(50):\n"
              "    w.add_scalar('loss', rank * 100 + step, step)\n"
              "w.close()\nprint('done')\n")
    processes = [subprocess.Popen([sys.executable, "-c", script, logdir, rings, policy], env=dict(os.environ, RANK=str(rank), WORLD_SIZE="2"),
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for rank in range(2)]
    for process in processes:
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0 and out.strip() == "done", err
    status, out, err = run([TENSORBOARD_PYTHON, "-c", SCALARS, logdir])
    assert status == 0, err
    scalars = json.loads(out)
    if policy == "chief":
        assert scalars == {".": {"loss": [[step, float(step)] for step in range(50)]}}
    elif policy == "mean":
        # (step + (100 + step)) / 2 at each step, written once.
        assert scalars == {".": {"loss": [[step, float(50 + step)] for step in range(50)]}}
    else:
        assert scalars == {f"rank_{r}": {"loss": [[step, float(r * 100 + step)] for step in range(50)]} for r in range(2)}


SCALARS = """
import json, os, sys
from tensorboard.backend.event_processing import event_file_loader
out = {}
for directory, _, files in sorted(os.walk(sys.argv[1])):
    for name in sorted(f for f in files if f.startswith("events.out.tfevents.")):
        for event in event_file_loader.LegacyEventFileLoader(os.path.join(directory, name)).Load():
            for value in event.summary.value:
                out.setdefault(os.path.relpath(directory, sys.argv[1]), {}).setdefault(value.tag, []).append([event.step, value.simple_value])
print(json.dumps(out))
"""


def test_a_writer_made_before_fork_is_refused_in_the_child_and_nothing_is_lost(tmp_path):
    rings, logdir = str(tmp_path / "rings"), str(tmp_path / "logs")
    writer = ringboard.SummaryWriter(logdir, ring_directory=rings)
    writer.add_scalar("parent", 1.0, 0)
    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            writer.add_scalar("child", 2.0, 0)
            code = 3
        except ringboard.RingboardError as error:
            code = 0 if "before fork()" in str(error) else 4
        try:
            with ringboard.SummaryWriter(logdir, ring_directory=rings) as own:
                own.add_scalar("child", 2.0, 1)
        except Exception:
            code = 5
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert status == 0
    writer.add_scalar("parent", 3.0, 1)
    writer.close()
    status, out, err = run([TENSORBOARD_PYTHON, "-c", SCALARS, logdir])
    assert status == 0, err
    assert json.loads(out) == {".": {"parent": [[0, 1.0], [1, 3.0]], "child": [[1, 2.0]]}}
    assert "corrupt" not in open(os.path.join(rings, "aggregator.log")).read()


def test_bad_input_is_refused_at_the_call(tmp_path):
    with ringboard.SummaryWriter(str(tmp_path / "logs"), ring_directory=str(tmp_path / "rings")) as writer:
        with pytest.raises(ValueError, match="cannot convert float NaN to integer"):
            writer.add_scalar("loss", 1.0, float("nan"))
        with pytest.raises(ValueError, match="control character"):
            writer.add_scalar("bad\ntag", 1.0, 0)
        with pytest.raises(ValueError, match="1 to 4096 bytes"):
            writer.add_scalar("", 1.0, 0)
        with pytest.raises(ValueError, match="walltime"):
            writer.add_scalar("loss", 1.0, 0, walltime=float("inf"))
        with pytest.raises(ValueError, match="NaN or infinity"):
            writer.add_histogram("h", np.array([1.0, np.nan]), 0)
        with pytest.raises(ValueError, match="no element"):
            writer.add_histogram("h", np.array([], dtype=np.float32), 0)
        with pytest.raises(ValueError, match="does not match dataformats"):
            writer.add_image("i", np.zeros((3, 4), dtype=np.uint8), 0)
        with pytest.raises(ValueError, match="1, 3 or 4 channels"):
            writer.add_image("i", np.zeros((2, 4, 4), dtype=np.uint8), 0)
        with pytest.raises(ValueError, match="len\\(bucket_limits\\)"):
            writer.add_histogram_raw("r", 0, 1, 1, 1, 1, [1.0, 2.0], [1.0], 0)
        with pytest.raises(ValueError, match="does not name a directory below the log directory"):
            writer.add_scalars("main", {"/..": 1.0}, 0)
        with pytest.raises(ValueError, match="one channel"):
            writer.add_audio("a", np.zeros((2, 10)), 0)
        with pytest.raises(ValueError, match="NaN or infinity at sample 1"):
            writer.add_audio("a", np.array([0.5, np.nan], dtype=np.float32), 0)
        with pytest.raises(ValueError, match="sample_rate"):
            writer.add_audio("a", np.zeros(10), 0, sample_rate=0)
        with pytest.raises(ValueError, match="shape \\(batch, count, 3\\)"):
            writer.add_mesh("m", np.zeros((4, 3)))
        with pytest.raises(ValueError, match="colors must have the vertices' shape"):
            writer.add_mesh("m", np.zeros((1, 4, 3)), colors=np.zeros((1, 3, 3)))
        with pytest.raises(ValueError, match="not a serialized GraphDef"):
            writer.add_graph(b"\x0a\xff")
        with pytest.raises(ValueError, match="#labels"):
            writer.add_embedding(np.zeros((3, 2)), metadata=["a", "b"])
        with pytest.raises(ValueError, match="newline"):
            writer.add_embedding(np.zeros((2, 2)), metadata=["a", "b\nc"])
        with pytest.raises(ValueError, match="box_tensor"):
            writer.add_image_with_boxes("b", np.zeros((3, 4, 4)), np.zeros(4))
        with pytest.raises(NotImplementedError, match="add_video"):
            writer.add_video("v", np.zeros((1, 2, 3, 4, 4)), 0)
    with pytest.raises(ValueError, match="rank_policy must be one of"):
        ringboard.SummaryWriter(str(tmp_path / "logs"), ring_directory=str(tmp_path / "rings"), rank_policy="median")
    # Nothing of the refused calls was written: no event file at all.
    assert not any(f.startswith("events.") for _, _, fs in os.walk(tmp_path / "logs") for f in fs)
