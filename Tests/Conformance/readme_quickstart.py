"""The README's quick starts, as a reader takes them.

    readme_quickstart.py extract README LANGUAGE OUT   the README's code blocks in LANGUAGE whose
                                                        info string names a file (```swift Package.swift),
                                                        written to OUT under those names
    readme_quickstart.py check KIND LOGDIR              what that quick start's logs must hold, read by
                                                        TensorBoard's loader (KIND: swift, keras, writer)

Scripts/test-readme.sh builds and runs the Swift one; python/tests/test_readme.py the Python ones.
Exits 1 with one line per difference.
"""

import math
import os
import re
import sys

FENCE = re.compile(r"^```(\w+) (\S+)\n(.*?)^```\n", re.MULTILINE | re.DOTALL)


def extract(readme, language, out):
    with open(readme, encoding="utf-8") as file:
        text = file.read()
    written = []
    for block_language, name, body in FENCE.findall(text):
        if block_language != language:
            continue
        if os.path.isabs(name) or ".." in name.split("/"):
            sys.exit(f"readme_quickstart: {readme} names {name!r}, which is not a path inside the quick start")
        path = os.path.join(out, name)
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        with open(path, "w", encoding="utf-8") as file:
            file.write(body)
        written.append(name)
    if not written:
        sys.exit(f"readme_quickstart: {readme} has no ```{language} <file> blocks")
    print(" ".join(written))


def load(run_directory):
    """{tag: [(step, value or None)]} of one run's scalars, histograms, images and tensors."""
    from tensorboard.backend.event_processing import event_accumulator
    from tensorboard.util import tensor_util

    accumulator = event_accumulator.EventAccumulator(
        run_directory, size_guidance={event_accumulator.SCALARS: 0, event_accumulator.HISTOGRAMS: 0,
                                      event_accumulator.IMAGES: 0, event_accumulator.TENSORS: 0})
    accumulator.Reload()
    tags = accumulator.Tags()
    found = {}
    for tag in tags["scalars"]:
        found[tag] = [(event.step, event.value) for event in accumulator.Scalars(tag)]
    for tag in tags["histograms"]:
        found[tag] = [(event.step, None) for event in accumulator.Histograms(tag)]
    for tag in tags["images"]:
        found[tag] = [(event.step, None) for event in accumulator.Images(tag)]
    for tag in tags["tensors"]:
        values = []
        for event in accumulator.Tensors(tag):
            array = tensor_util.make_ndarray(event.tensor_proto)
            values.append((event.step, float(array) if array.ndim == 0 and array.dtype.kind == "f" else None))
        found[tag] = values
    return found


def check(kind, logdir):
    problems = []

    def expect(condition, message):
        if not condition:
            problems.append(message)

    def steps(run, tag):
        return [step for step, _ in run.get(tag, [])]

    if kind == "swift":
        train, validation = load(os.path.join(logdir, "train")), load(os.path.join(logdir, "validation"))
        expect(steps(train, "batch_loss") == list(range(250)), f"train batch_loss steps {steps(train, 'batch_loss')[:5]}…, not 0…249")
        epoch_steps = [1600 * epoch for epoch in range(1, 6)]
        expect(steps(train, "epoch_loss") == epoch_steps, f"train epoch_loss steps {steps(train, 'epoch_loss')}, not {epoch_steps}")
        expect(steps(validation, "epoch_loss") == epoch_steps, f"validation epoch_loss steps {steps(validation, 'epoch_loss')}")
        for tag in ("dense/kernel_0", "dense/bias_0"):
            expect(steps(train, tag) == list(range(5)), f"train histogram {tag} steps {steps(train, tag)}, not 0…4")
        losses = [value for _, value in train.get("epoch_loss", [])]
        expect(len(losses) == 5 and all(math.isfinite(v) for v in losses) and losses[-1] < losses[0] and losses[-1] < 1e-3,
               f"train epoch_loss {losses} does not fall below 1e-3: the model did not learn y = 3x + 1")
    elif kind == "keras":
        train, validation = load(os.path.join(logdir, "train")), load(os.path.join(logdir, "validation"))
        batches = 3 * 24   # 768 training samples of the 1024, in batches of 32, for 3 epochs
        expect(steps(train, "batch_loss") == list(range(1, batches + 1)), f"train batch_loss steps {steps(train, 'batch_loss')[:5]}…, not 1…{batches}")
        expect(steps(train, "epoch_loss") == [0, 1, 2], f"train epoch_loss steps {steps(train, 'epoch_loss')}, not 0…2")
        expect(steps(validation, "epoch_loss") == [0, 1, 2], f"validation epoch_loss steps {steps(validation, 'epoch_loss')}, not 0…2")
        histograms = sorted(tag for tag in train if tag.endswith("/histogram"))
        expect(len(histograms) == 4 and all(steps(train, tag) == [0, 1, 2] for tag in histograms),
               f"train weight histograms {histograms}: not the 4 weights of the two Dense layers at epochs 0…2")
    elif kind == "writer":
        run = load(logdir)
        expect(steps(run, "loss") == list(range(100)), f"loss steps {steps(run, 'loss')[:5]}…, not 0…99")
        last = [value for _, value in run.get("loss", [])][-1:]
        expect(len(last) == 1 and abs(last[0] - 0.01) < 1e-9, f"last loss {last}, not 0.01 (a float32 simple_value)")
        expect(steps(run, "weights") == [99], f"weights histogram steps {steps(run, 'weights')}, not [99]")
        expect(steps(run, "noise") == [99], f"noise image steps {steps(run, 'noise')}, not [99]")
    else:
        sys.exit(f"readme_quickstart: no quick start {kind!r} (swift, keras, writer)")
    for problem in problems:
        print(f"readme_quickstart {kind}: {problem}")
    if problems:
        sys.exit(1)
    print(f"readme_quickstart {kind}: {logdir} holds what the README says")


def main(arguments):
    if len(arguments) == 4 and arguments[0] == "extract":
        extract(*arguments[1:])
    elif len(arguments) == 3 and arguments[0] == "check":
        check(*arguments[1:])
    else:
        sys.exit(__doc__.strip().splitlines()[0] + "\nusage: readme_quickstart.py extract README LANGUAGE OUT | check KIND LOGDIR")


if __name__ == "__main__":
    main(sys.argv[1:])
