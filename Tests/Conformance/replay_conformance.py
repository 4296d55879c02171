#!/usr/bin/env python3
"""Replay generated traces through `ringboard replay` and compare each log directory with the
TF 2.0 reference model.

    python replay_conformance.py --ringboard BIN --seed N --count M --work DIR [--procs K]

With --procs K every trace is replayed by K processes, rank r of K each, under its rank policy.

For every trace keras_traces.py generates: `ringboard replay` into a fresh ring directory and log
root, keras_reference.py on the same trace, and compare_replay.py between the two. Malformed
traces (keras_traces.py's bad/ folder) must be refused with the expected line number, leaving no
event file. Prints one line per failure and ends with `N passed, M failed`; exits 1 on any failure.
"""

import argparse
import glob
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def run(command, timeout=120, cwd=None):
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=cwd)


def replay(ringboard, trace, out, extra=()):
    """`ringboard replay` confined to OUT/logs, from there: a relative log_dir is relative to the
    working directory, as Keras takes it."""
    out = os.path.abspath(out)
    logs = os.path.join(out, "logs")
    os.makedirs(logs, exist_ok=True)
    return run([ringboard, "replay", os.path.abspath(trace), "--ring-dir", os.path.join(out, "rings"),
                "--logdir", logs] + list(extra), cwd=logs)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ringboard", required=True)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--count", type=int, default=20)
    parser.add_argument("--work", required=True)
    parser.add_argument("--procs", type=int, default=1, help="replay each trace as K processes")
    args = parser.parse_args()

    traces = os.path.join(args.work, "traces")
    generated = run([sys.executable, os.path.join(HERE, "keras_traces.py"), "--seed", str(args.seed),
                     "--count", str(args.count), "--out", traces])
    if generated.returncode != 0:
        print(f"keras_traces.py failed: {generated.stderr[-500:]}")
        return 1

    passed = failed = 0
    good = sorted(glob.glob(os.path.join(traces, "*.jsonl")))
    if len(good) != args.count:
        failed += 1
        print(f"keras_traces.py wrote {len(good)} traces, not {args.count}")
    for trace in good:
        name = os.path.splitext(os.path.basename(trace))[0]
        out = os.path.join(args.work, name)
        os.makedirs(out, exist_ok=True)
        with open(trace) as f:
            header = json.loads(f.readline())
        log_dir = header["tensorboard"].get("log_dir", "logs")
        procs = ["--procs", str(args.procs)] if args.procs > 1 else []
        replayed = replay(args.ringboard, trace, out, procs)
        if replayed.returncode != 0:
            failed += 1
            print(f"{name}: replay failed: {replayed.stderr.strip()[-300:]}")
            continue
        expected = os.path.join(out, "expected.json")
        reference = run([sys.executable, os.path.join(HERE, "keras_reference.py"), trace, "--out", expected] + procs)
        if reference.returncode != 0:
            failed += 1
            print(f"{name}: reference failed: {reference.stderr.strip()[-300:]}")
            continue
        compared = run([sys.executable, os.path.join(HERE, "compare_replay.py"), "--logdir",
                        os.path.join(out, "logs", log_dir), "--expected", expected])
        if compared.returncode == 0:
            passed += 1
        else:
            failed += 1
            print(f"{name}: " + " | ".join(compared.stdout.strip().splitlines()[:4])[:600])

    for trace in sorted(glob.glob(os.path.join(traces, "bad", "*.jsonl"))) if args.procs == 1 else []:
        name = "bad/" + os.path.splitext(os.path.basename(trace))[0]
        out = os.path.join(args.work, name.replace("/", "_"))
        expect_file = os.path.splitext(trace)[0] + ".expect"
        expectation = json.load(open(expect_file)) if os.path.exists(expect_file) else {}
        replayed = replay(args.ringboard, trace, out)
        written = glob.glob(os.path.join(out, "logs", "**", "*tfevents*"), recursive=True)
        line = expectation.get("line")
        if replayed.returncode == 0 or written or (line and f"line {line}:" not in replayed.stderr):
            failed += 1
            print(f"{name}: expected a refusal at line {line} ({expectation.get('reason')}), got status {replayed.returncode}, "
                  f"{len(written)} event files: {replayed.stderr.strip()[:200]}")
        else:
            passed += 1

    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
