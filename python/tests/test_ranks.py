"""Two trainer processes with torchrun's RANK/WORLD_SIZE, under each rank policy, served by one
aggregator, one event file per run directory. Under "tf2.0" the event files are what TF 2.0's
callback gives under the policy (keras_reference.py --procs 2 models it); under "keras3" what
`ringboard replay --procs 2` of the hooks writes."""

import json
import os
import subprocess

import pytest

from conftest import RINGBOARD, compare, reference, run, same_events, training_command


@pytest.mark.parametrize("semantics", ["tf2.0", "keras3"])
@pytest.mark.parametrize("policy", ["chief", "mean", "per_rank"])
def test_two_ranks(tmp_path, policy, semantics):
    rings = str(tmp_path / "rings")
    processes, traces = [], []
    for rank in range(2):
        trace = str(tmp_path / f"trace-{rank}.jsonl")
        traces.append(trace)
        environment = dict(os.environ, RANK=str(rank), WORLD_SIZE="2")
        command = training_command(str(tmp_path), trace, update_freq="batch", rank_policy=policy, ring_dir=rings,
                                   semantics=semantics)
        processes.append(subprocess.Popen(command, cwd=str(tmp_path), env=environment, stdout=subprocess.PIPE,
                                          stderr=subprocess.PIPE, text=True))
    for process in processes:
        out, err = process.communicate(timeout=300)
        assert process.returncode == 0 and out.strip().endswith("done"), err

    # The ranks trained alike (same seed and data), so one trace with --procs 2 models both.
    hooks = [[json.loads(line) for line in open(trace)][1:] for trace in traces]
    assert hooks[0] == hooks[1]
    header = json.loads(open(traces[0]).readline())
    assert (header["rank"], header["world_size"], header["rank_policy"]) == (0, 2, policy)

    if semantics == "tf2.0":
        expected = reference(traces[0], str(tmp_path / "expected.json"), procs=2)
        compare(str(tmp_path / "logs" / "run"), expected)
    else:
        replayed = tmp_path / "replay"
        replayed.mkdir()
        status, out, err = run([RINGBOARD, "replay", traces[0], "--procs", "2", "--ring-dir", str(tmp_path / "replay-rings")],
                               cwd=str(replayed))
        assert status == 0, f"{out}\n{err}"
        for directory in (["rank_0", "rank_1"] if policy == "per_rank" else ["."]):
            summary = same_events(str(replayed / "logs" / "run" / directory), str(tmp_path / "logs" / "run" / directory))
            assert summary.startswith("same: "), summary
    runs = sorted(os.path.relpath(root, tmp_path / "logs" / "run") for root, _, files in os.walk(tmp_path / "logs" / "run")
                  if any(name.startswith("events.out.tfevents") for name in files))
    want = {"per_rank": ["rank_0/train", "rank_0/validation", "rank_1/train", "rank_1/validation"]}.get(policy, ["train", "validation"])
    assert runs == want
    for directory in runs:
        files = [name for name in os.listdir(tmp_path / "logs" / "run" / directory) if name.startswith("events.out.tfevents")]
        assert len(files) == 1, f"{directory}: {files}"
