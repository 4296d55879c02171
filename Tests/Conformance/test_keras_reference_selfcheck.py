#!/usr/bin/env python3
"""Self-check of keras_reference.py and keras_traces.py.

    python test_keras_reference_selfcheck.py        (or: python -m pytest test_keras_reference_selfcheck.py)

1. The float to uint8 image rule against TensorFlow's own images
   (Tests/RingboardSummariesTests/Fixtures/tf_images.json; a missing file fails the check).
2. Three small traces worked out by hand from the TF 2.0 rules, written out as asserts.
3. 50 generated traces through the reference, with and without --procs, checked for internal
   consistency; the malformed traces against their .expect files; coverage of every hook and
   argument. Prints how long generating and running the reference took.
"""

import json
import math
import os
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import numpy as np  # noqa: E402

import keras_reference as kr  # noqa: E402
import keras_traces as kt  # noqa: E402

GOLDEN_IMAGES = os.path.join(HERE, "..", "RingboardSummariesTests", "Fixtures", "tf_images.json")
DBL_MAX = sys.float_info.max
F32 = lambda x: float(np.float32(x))  # noqa: E731


def run_trace(lines, procs=None):
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "trace.jsonl")
        with open(path, "w") as handle:
            for line in lines:
                handle.write((line if isinstance(line, str) else json.dumps(line)) + "\n")
        document, status = kr.reference(path, procs)
    json.dumps(document, allow_nan=False)  # everything must be strict JSON
    return document, status


def default_limits():
    """Independent of histogram_reference: 1e-12 times 1.1 while below 1e20, then DBL_MAX."""
    positive, value = [], 1.0e-12
    while value < 1.0e20:
        positive.append(value)
        value *= 1.1
    positive.append(DBL_MAX)
    return [-x for x in reversed(positive)] + [0.0] + positive


def bucket_limit_of(value):
    return next(limit for limit in default_limits() if limit > value)


# ---------------------------------------------------------------- 1. golden images

def test_images_match_tensorflow_golden():
    assert os.path.exists(GOLDEN_IMAGES), f"TensorFlow's images are missing: {os.path.normpath(GOLDEN_IMAGES)}"
    with open(GOLDEN_IMAGES) as handle:
        cases = json.load(handle)["cases"]
    assert cases, f"no cases in {os.path.normpath(GOLDEN_IMAGES)}"
    print(f"  {len(cases)} cases from TensorFlow's images")
    for case in cases:
        values = list(case["values"])
        for index, kind in case["nonfinite"].items():
            values[int(index)] = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}[kind]
        batch = np.array(values, dtype=np.float64).astype(np.float32).reshape(case["shape"])
        got = kr.image_summaries("w", batch, case["max_images"])
        assert len(got) == len(case["images"]), case["name"]
        for (tag, height, width, depth, pixels), want in zip(got, case["images"]):
            assert (tag, height, width, depth) == (want["tag"], want["height"], want["width"], want["colorspace"]), case["name"]
            assert pixels.tolist() == want["pixels"], case["name"]


# ---------------------------------------------------------------- 2. by hand

def test_hand_samples_update_freq_and_profile():
    """update_freq = 10 samples, sizes 4, 4, 3 | missing, 9; profile_batch 2; val_ at epoch end."""
    lines = [
        {"tensorboard": {"log_dir": "logs", "update_freq": 10, "profile_batch": 2, "write_graph": False}},
        {"hook": "set_params", "params": {"do_validation": True}},
        {"hook": "on_train_begin"},
        {"hook": "on_epoch_begin", "epoch": 0},
        {"hook": "on_train_batch_begin", "batch": 0, "logs": {"batch": 0, "size": 4}},
        {"hook": "on_train_batch_end", "batch": 0, "logs": {"batch": 0, "size": 4, "loss": 1.0, "acc": 0.5, "num_steps": 3}},
        {"hook": "on_train_batch_end", "batch": 1, "logs": {"batch": 1, "size": 4, "loss": 0.75, "acc": 0.5}},
        {"hook": "on_train_batch_end", "batch": 2, "logs": {"batch": 2, "size": 3, "loss": 0.5, "acc": 0.625}},
        {"hook": "on_test_begin"},
        {"hook": "on_test_batch_end", "batch": 0, "logs": {"batch": 0, "size": 8, "loss": 7.0}},
        {"hook": "on_test_end"},
        {"hook": "on_epoch_end", "epoch": 0, "logs": {"loss": 0.6, "acc": 0.7, "val_loss": 0.9, "val_acc": 0.6}},
        {"hook": "on_train_batch_end", "batch": 0, "logs": {"batch": 0, "loss": 0.4, "acc": 0.75}},
        {"hook": "on_train_batch_end", "batch": 1, "logs": {"batch": 1, "size": 9, "loss": 0.3, "acc": 0.8}},
        {"hook": "on_predict_begin"},
        {"hook": "on_predict_batch_end", "batch": 0, "logs": {"batch": 0, "size": 2}},
        {"hook": "on_predict_end"},
        {"hook": "on_epoch_end", "epoch": 1, "logs": {"loss": 0.35, "acc": 0.8, "val_loss": 0.8, "val_acc": 0.65}},
        {"hook": "on_train_end"},
    ]
    document, status = run_trace(lines)
    assert status == 0 and document["error"] is None
    runs = document["runs"]
    assert set(runs) == {"train", "validation"}
    train, validation = runs["train"], runs["validation"]
    # samples 4, 8, 11 -> first write when 11 - 0 >= 10, at step total_batches_seen = 2;
    # then 12 (no size: 1), 21 -> 21 - 11 >= 10, at step 4.
    assert train["scalars"]["batch_loss"] == [[2, 0.5], [4, F32(0.3)]]
    assert train["scalars"]["batch_acc"] == [[2, 0.625], [4, F32(0.8)]]
    # update_freq is not "epoch": the epoch step is samples_seen.
    assert train["scalars"]["epoch_loss"] == [[11, F32(0.6)], [21, F32(0.35)]]
    assert train["scalars"]["epoch_acc"] == [[11, F32(0.7)], [21, F32(0.8)]]
    assert validation["scalars"] == {"epoch_loss": [[11, F32(0.9)], [21, F32(0.8)]],
                                     "epoch_acc": [[11, F32(0.6)], [21, F32(0.65)]]}
    assert set(train["scalars"]) == {"batch_loss", "batch_acc", "epoch_loss", "epoch_acc"}  # no batch/size/num_steps
    # profile_batch 2: tracing starts when total_batches_seen reaches 1, is exported after the next
    # batch. Without a model there is no graph for its run metadata: only the trace is written.
    assert train["run_metadata"] == {}
    assert document["profile_traces"] == ["train"]
    assert document["profiles"] == [{"run": "train", "step": 2, "tag": "batch_2", "batch": 1}]
    assert train["histograms"] == {} and train["images"] == {} and train["tensors"] == {} and train["graph"] is False
    assert validation["run_metadata"] == {}
    assert document["projector"] is None


def test_hand_histograms_images_and_set_weights():
    """update_freq epoch, histogram_freq 2, write_images, a NaN in a kernel, set_weights."""
    model = {"name": "m", "layers": [
        {"name": "dense", "class_name": "Dense", "config": {"units": 2},
         "weights": [{"name": "dense/kernel:0", "shape": [3, 2], "values": [1, -2, 3, 0.5, "NaN", 0]},
                     {"name": "dense/bias:0", "shape": [2], "values": [0, 0]}]},
        {"name": "flatten", "class_name": "Flatten"}]}
    lines = [
        {"tensorboard": {"update_freq": "epoch", "histogram_freq": 2, "write_images": True, "profile_batch": 0}},
        {"hook": "set_model", "model": model},
        {"hook": "set_params", "params": {"do_validation": True}},
        {"hook": "on_train_begin"},
        {"hook": "on_batch_end", "batch": 0, "logs": {"batch": 0, "size": 2, "loss": 1.0}},
        {"hook": "on_epoch_end", "epoch": 0, "logs": {"loss": 1.5}},
        {"hook": "on_batch_end", "batch": 0, "logs": {"batch": 0, "size": 2, "loss": 1.0}},
        {"hook": "set_weights", "layers": [{"name": "dense", "weights": [
            {"name": "dense/kernel:0", "shape": [3, 2], "values": [1, 2, 3, 4, 5, 6]},
            {"name": "dense/bias:0", "shape": [2], "values": [-1, 1]}]}]},
        {"hook": "on_epoch_end", "epoch": 1, "logs": {"loss": 1.25}},
        {"hook": "on_test_begin"}, {"hook": "on_test_end"},
        {"hook": "on_epoch_end", "epoch": 2, "logs": {"loss": 1.0}},
        {"hook": "on_train_end"},
    ]
    document, status = run_trace(lines)
    assert status == 0
    assert set(document["runs"]) == {"train"}
    train = document["runs"]["train"]
    assert train["scalars"] == {"epoch_loss": [[0, 1.5], [1, 1.25], [2, 1.0]]}  # step = epoch; no batch_ tags
    # Histograms at epochs 0 and 2 (epoch % 2 == 0); the NaN kernel at epoch 0 is skipped.
    assert [h["step"] for h in train["histograms"]["dense/kernel_0"]] == [2]
    assert [h["step"] for h in train["histograms"]["dense/bias_0"]] == [0, 2]
    assert any("dense/kernel_0" in w and "step 0" in w for w in document["warnings"])
    zeros = train["histograms"]["dense/bias_0"][0]
    assert (zeros["min"], zeros["max"], zeros["num"], zeros["sum"], zeros["sum_squares"]) == (0.0, 0.0, 2.0, 0.0, 0.0)
    # 0 lands in the 1e-12 bucket; the empty runs on either side collapse to one entry each.
    assert zeros["bucket_limit"] == [0.0, 1e-12, DBL_MAX] and zeros["bucket"] == [0.0, 2.0, 0.0]
    kernel = train["histograms"]["dense/kernel_0"][0]
    assert (kernel["min"], kernel["max"], kernel["num"], kernel["sum"], kernel["sum_squares"]) == (1.0, 6.0, 6.0, 21.0, 91.0)
    filled = {limit: count for limit, count in zip(kernel["bucket_limit"], kernel["bucket"]) if count}
    want = {}
    for value in (1, 2, 3, 4, 5, 6):
        want[bucket_limit_of(value)] = want.get(bucket_limit_of(value), 0) + 1.0
    assert filled == want
    bias = train["histograms"]["dense/bias_0"][1]
    assert (bias["min"], bias["max"], bias["num"], bias["sum"], bias["sum_squares"]) == (-1.0, 1.0, 2.0, 0.0, 2.0)
    # Images: the [3, 2] kernel is transposed to [2, 3]; the NaN pixel is red (255 in grey).
    images = train["images"]
    assert set(images) == {"dense/kernel_0/image/0", "dense/bias_0/image/0"}
    k0, k2 = images["dense/kernel_0/image/0"]
    assert (k0["step"], k0["height"], k0["width"], k0["colorspace"]) == (0, 2, 3, 1)
    # [[1, 3, NaN], [-2, 0.5, 0]]: min -2 < 0, scale 127 / 3, offset 128, truncated.
    assert k0["pixels"] == [170, 255, 255, 43, 149, 128]
    # [[1, 3, 5], [2, 4, 6]]: all >= 0, scale 255 / 6 = 42.5.
    assert (k2["step"], k2["pixels"]) == (2, [42, 127, 212, 85, 170, 255])
    b0, b2 = images["dense/bias_0/image/0"]
    assert (b0["height"], b0["width"], b0["pixels"]) == (2, 1, [0, 0])  # max < 1e-6: scale 0
    assert (b2["height"], b2["width"], b2["pixels"]) == (2, 1, [1, 255])  # -1 * 127 + 128, 1 * 127 + 128
    # write_graph defaults to true: the model JSON, made as a Sequential model of the layers.
    keras = train["tensors"]["keras"]
    assert len(keras) == 1 and keras[0]["step"] == 0 and keras[0]["plugin"] == "graph_keras_model"
    assert keras[0]["dtype"] == "DT_STRING" and keras[0]["shape"] == []
    model_json = keras[0]["values"][0]
    assert model_json["class_name"] == "Sequential" and model_json["config"]["name"] == "m"
    assert model_json["config"]["layers"] == [{"class_name": "Dense", "config": {"name": "dense", "units": 2}},
                                              {"class_name": "Flatten", "config": {"name": "flatten"}}]
    assert train["graph"] is True and train["run_metadata"] == {} and document["profile_traces"] == []


def test_hand_ranks_embeddings_profile_one():
    """update_freq batch, profile_batch 1, embeddings with a per-layer metadata object; per_rank
    and mean with two processes, chief with three."""
    def lines(policy):
        return [
            {"tensorboard": {"update_freq": "batch", "profile_batch": 1, "embeddings_freq": 1,
                             "embeddings_metadata": {"emb": "words.tsv"}}, "rank_policy": policy},
            {"hook": "set_model", "model": {"name": "m", "layers": [
                {"name": "emb", "class_name": "Embedding", "config": {"input_dim": 3, "output_dim": 2},
                 "weights": [{"name": "emb/embeddings:0", "shape": [3, 2], "values": [0.5, -0.5, 1, 2, -1, 0]}]},
                {"name": "dense", "class_name": "Dense",
                 "weights": [{"name": "dense/kernel:0", "shape": [2, 1], "values": [0.25, -0.25]}]}]}},
            {"hook": "set_params", "params": {"do_validation": False}},
            {"hook": "on_train_begin"},
            {"hook": "on_train_batch_end", "batch": 0, "logs": {"batch": 0, "size": 5, "loss": 0.875}},
            {"hook": "on_train_batch_end", "batch": 1, "logs": {"batch": 1, "loss": 0.75}},
            {"hook": "on_epoch_end", "epoch": 0, "logs": {"loss": 0.8125}},
            {"hook": "set_weights", "layers": [{"name": "emb", "weights": [
                {"name": "emb/embeddings:0", "shape": [3, 2], "values": [1, 1, 1, 1, 1, 1]}]}]},
            {"hook": "on_train_batch_end", "batch": 0, "logs": {"batch": 0, "size": 5, "loss": 0.5}},
            {"hook": "on_epoch_end", "epoch": 1, "logs": {"loss": 0.5}},
            {"hook": "on_train_end"},
        ]

    def check_run(run, epoch_steps):
        assert run["scalars"]["batch_loss"] == [[0, 0.875], [1, 0.75], [2, 0.5]]
        assert run["scalars"]["epoch_loss"] == [[epoch_steps[0], 0.8125], [epoch_steps[1], 0.5]]
        # profile_batch 1: traced from on_train_begin, exported after the first batch.
        assert run["run_metadata"] == {"batch_1": [1]}
        assert [t["step"] for t in run["tensors"]["keras"]] == [0]
        assert run["histograms"] == {}

    def check_projector(projector, root):
        assert projector["config_path"] == ("projector_config.pbtxt" if root == "." else f"{root}/projector_config.pbtxt")
        assert projector["embeddings"] == {"emb/embeddings": {
            "tensor_name": "emb/embeddings:0", "metadata_path": "words.tsv", "shape": [3, 2],
            "values": [1.0] * 6, "epochs": [0, 1]}}

    # per_rank: each rank alone, under rank_<r>/; samples 5, 6 (missing size counts 1), 11.
    document, status = run_trace(lines("per_rank"), procs=2)
    assert status == 0
    assert set(document["runs"]) == {"rank_0/train", "rank_1/train"}
    for r in (0, 1):
        check_run(document["runs"][f"rank_{r}/train"], [6, 11])
        check_projector(document["projector"][f"rank_{r}"], f"rank_{r}")
    assert document["profile_traces"] == ["rank_0/train", "rank_1/train"]

    # mean: one merged hook per step; size 5 + 5, then 1 + 1 (missing), then 10: samples 10, 12, 22.
    document, status = run_trace(lines("mean"), procs=2)
    assert status == 0 and set(document["runs"]) == {"train"}
    check_run(document["runs"]["train"], [12, 22])
    check_projector(document["projector"]["."], ".")
    assert document["profile_traces"] == ["train"]

    # chief: exactly what rank 0 alone writes, whatever the number of processes.
    single, _ = run_trace(lines("chief"))
    three, _ = run_trace(lines("chief"), procs=3)
    assert single == three and set(single["runs"]) == {"train"}
    check_run(single["runs"]["train"], [6, 11])

    # A metadata object naming a layer that is not an Embedding layer is refused at set_model.
    bad = lines("chief")
    bad[0]["tensorboard"]["embeddings_metadata"] = {"dense": "d.tsv"}
    document, status = run_trace(bad)
    assert status == 1 and document["runs"] == {}
    assert document["error"]["line"] == 2 and "Unrecognized `Embedding` layer names" in document["error"]["message"]


# ---------------------------------------------------------------- 3. generated traces

NOT_WRITTEN = {f"{prefix}_{key}" for prefix in ("batch", "epoch") for key in ("batch", "size", "num_steps")}


def strip_root(document, root):
    """The runs of `root` with the root taken off, to compare per_rank with a single process."""
    prefix = root + "/"
    return {name[len(prefix):]: run for name, run in document["runs"].items() if name.startswith(prefix)}


def check_document(document, features, procs):
    policy = features["rank_policy"] or "chief"
    assert document["error"] is None, document["error"]
    # One profile entry per exported trace, its run metadata tag naming its step.
    assert [p["run"] for p in document["profiles"]] == document["profile_traces"]
    assert all(p["tag"] == f"batch_{p['step']}" for p in document["profiles"])
    runs = document["runs"]
    if policy == "per_rank":
        roots = {name.split("/")[0] for name in runs}
        want = {f"rank_{r}" for r in range(procs)} if procs else None
        if want is not None:
            assert roots == want, (roots, want)
        else:
            assert len(roots) <= 1 and all(r.startswith("rank_") for r in roots)
    else:
        assert all(name in ("train", "validation") for name in runs), list(runs)
    for name, run in runs.items():
        for tag, points in run["scalars"].items():
            assert tag not in NOT_WRITTEN, tag
            steps = [step for step, _ in points]
            if tag.startswith("batch_"):
                assert features["update_freq"] != "epoch", tag
                assert steps == sorted(set(steps)), (tag, steps)
            else:
                assert tag.startswith("epoch_"), tag
                assert steps == sorted(steps), (tag, steps)
                if features["update_freq"] == "epoch":
                    epochs = features["epochs"] * (2 if features["second_fit"] else 1)
                    assert steps == sorted(set(steps)) and set(steps) <= set(range(epochs)), (tag, steps)
                    if tag == "epoch_loss":
                        assert steps == list(range(epochs)), (tag, steps)
            for _, value in points:
                assert isinstance(value, float) or value in ("NaN", "Infinity", "-Infinity", "-0.0")
        for tag, items in run["histograms"].items():
            assert name.endswith("train")
            steps = [h["step"] for h in items]
            assert steps == sorted(set(steps)), (tag, steps)
            assert all(step % features["histogram_freq"] == 0 for step in steps)
            for h in items:
                assert sum(h["bucket"]) == h["num"] and len(h["bucket"]) == len(h["bucket_limit"])
                assert h["bucket_limit"] == sorted(h["bucket_limit"])
        assert features["histogram_freq"] or not run["histograms"]
        for tag, items in run["images"].items():
            assert features["write_images"] and features["histogram_freq"]
            assert tag.rsplit("/", 2)[1] == "image" and int(tag.rsplit("/", 1)[1]) < 3, tag
            for image in items:
                assert image["colorspace"] in (1, 3, 4)
                assert len(image["pixels"]) == image["height"] * image["width"] * image["colorspace"]
                assert all(0 <= p <= 255 for p in image["pixels"])
        if name.endswith("validation"):
            assert not run["histograms"] and not run["images"] and not run["tensors"] and not run["run_metadata"]
        keras = run["tensors"].get("keras", [])
        if name.endswith("train"):
            fits = 2 if features["second_fit"] else 1
            assert len(keras) == (fits if features["write_graph"] else 0)
            assert run["graph"] == features["write_graph"]
    # Profiling: exports follow from profile_batch and where the fits end.
    profile = features["profile_batch"]
    per_fit = features["steps"] * features["epochs"]
    fits = 2 if features["second_fit"] else 1
    ends = [per_fit * (i + 1) for i in range(fits)]
    if profile == 0:
        exports = []
    elif profile == 1:
        exports = [per_fit * i + 1 for i in range(fits)]
    elif profile - 1 <= ends[-1]:
        exports = [profile - 1] if profile - 1 in ends else [profile]
    else:
        exports = []
    for name, run in runs.items():
        if name.endswith("train"):
            got = sorted(step for steps in run["run_metadata"].values() for step in steps)
            assert got == exports, (name, got, exports, features)
            assert all(tag == f"batch_{steps[0]}" and len(steps) == 1 for tag, steps in run["run_metadata"].items())
    # Embeddings.
    if features["embeddings_freq"]:
        assert document["projector"], "embeddings_freq > 0 writes a projector config"
        for root, projector in document["projector"].items():
            for key, entry in projector["embeddings"].items():
                assert entry["tensor_name"] == key + ":0"
                assert entry["epochs"] and entry["epochs"][0] == 0
                assert entry["values"] is not None and len(entry["values"]) == entry["shape"][0] * entry["shape"][1]
    else:
        assert document["projector"] is None


def without_test_and_predict(path, out):
    with open(path) as source, open(out, "w") as target:
        for number, line in enumerate(source):
            if number and json.loads(line)["hook"].startswith(("on_test", "on_predict")):
                continue
            target.write(line)


def test_generated_traces(count=50, seed=20240):
    with tempfile.TemporaryDirectory() as directory:
        started = time.perf_counter()
        manifest = kt.write_all(seed, count, directory)
        generated = time.perf_counter()
        documents = {}
        for features in manifest:
            path = os.path.join(directory, features["file"])
            assert os.path.getsize(path) < 200 * 1024
            documents[features["file"]] = kr.reference(path)
        referenced = time.perf_counter()
        hooks, arguments = set(), set()
        for features in manifest:
            path = os.path.join(directory, features["file"])
            document, status = documents[features["file"]]
            assert status == 0, document["error"]
            check_document(document, features, None)
            hooks.update(features["hooks"])
            with open(path) as handle:
                arguments.update(json.loads(handle.readline())["tensorboard"])
            policy = features["rank_policy"] or "chief"
            for procs in (1, 3):
                ranked, status = kr.reference(path, procs)
                assert status == 0
                check_document(ranked, features, procs)
                if policy == "per_rank":
                    base, _ = kr.reference(path, 1)
                    for r in range(procs):
                        assert strip_root(ranked, f"rank_{r}") == strip_root(base, "rank_0")
            if policy == "chief":
                one, _ = kr.reference(path, 1)
                three, _ = kr.reference(path, 3)
                assert one == three
            if policy == "mean" and features["update_freq"] != "epoch":
                one, _ = kr.reference(path, 1)
                three, _ = kr.reference(path, 3)
                for run in ("train", "validation"):
                    for tag, points in one["runs"].get(run, {}).get("scalars", {}).items():
                        if tag.startswith("epoch_"):
                            assert [3 * s for s, _ in points] == [s for s, _ in three["runs"][run]["scalars"][tag]]
            # test and predict hooks write nothing.
            stripped = path + ".stripped"
            without_test_and_predict(path, stripped)
            assert kr.reference(stripped)[0] == document
        assert hooks == kr.HOOKS, sorted(kr.HOOKS - hooks)
        assert set(kr.KERAS_ARGUMENTS) | set(kr.V1_ARGUMENTS) <= arguments, \
            sorted(set(kr.KERAS_ARGUMENTS) | set(kr.V1_ARGUMENTS) - arguments)
        kinds = {str(f["update_freq"]) for f in manifest}
        assert {"batch", "epoch"} <= kinds and len(kinds) >= 5
        assert {f["histogram_freq"] for f in manifest} == {0, 1, 2}
        assert {f["embeddings_metadata"] for f in manifest} >= {None, "str", "dict"}
        assert {f["size"] for f in manifest} == {"always", "never", "sometimes"}
        assert {f["rank_policy"] for f in manifest} == {None, "chief", "mean", "per_rank"}
        assert any(f["profile_batch"] > f["total_batches"] for f in manifest)
        assert any(f["nonfinite_weight"] for f in manifest) and any(f["second_fit"] for f in manifest)
        assert any(not f["do_validation"] for f in manifest)
        assert any(d["warnings"] for d, _ in documents.values())
        # Malformed traces: the reference names the line and reason their .expect files give.
        bad = os.path.join(directory, "bad")
        names = sorted(n[:-len(".jsonl")] for n in os.listdir(bad) if n.endswith(".jsonl"))
        assert len(names) >= 8
        for name in names:
            expect = json.load(open(os.path.join(bad, name + ".expect")))
            document, status = kr.reference(os.path.join(bad, name + ".jsonl"))
            assert status == 1 and document["runs"] == {}
            assert (document["error"]["line"], document["error"]["reason"]) == (expect["line"], expect["reason"]), name
            if "keras_text" in expect:
                assert expect["keras_text"] in document["error"]["message"]
        print(f"  {count} traces: generated in {generated - started:.2f} s, "
              f"reference in {referenced - generated:.2f} s (in-process, one process each)")


def main():
    tests = [(name, function) for name, function in globals().items() if name.startswith("test_") and callable(function)]
    failures = 0
    for name, function in tests:
        try:
            function()
            print(f"ok    {name}")
        except AssertionError as error:
            failures += 1
            print(f"FAIL  {name}: {error!r}")
            import traceback
            traceback.print_exc()
    print(f"{len(tests) - failures}/{len(tests)} passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
