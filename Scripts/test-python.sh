#!/usr/bin/env bash
# Tests the Python package as a user gets it: builds the wheel (`pip wheel ./python`, which runs
# Scripts/build-native.sh and bundles libringboard.so and the `ringboard` executable), installs it into
# .venv-keras (Keras 3 on the JAX CPU backend, no TensorFlow: python/requirements-test.txt), checks
# that neither native file needs the Swift runtime, and runs python/tests with the Swift toolchain
# off PATH and LD_LIBRARY_PATH unset. Scripts/setup.sh must have run (the tests read event files
# with .venv's TensorBoard).
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"

# As a user builds it: `pip wheel ./python` with no native parts in the tree, so that setup.py
# runs Scripts/build-native.sh itself (and must put its output into the wheel).
echo "test-python: building the wheel (pip wheel ./python, which runs Scripts/build-native.sh)"
wheels=.build-native/wheels
rm -rf "$wheels" python/build python/src/ringboard/_lib
PIP_NO_INPUT=1 .venv/bin/python -m pip wheel --quiet --disable-pip-version-check --no-deps ./python -w "$wheels" </dev/null
wheel="$(ls "$wheels"/ringboard-*.whl)"
echo "test-python: $(basename "$wheel") ($(du -h "$wheel" | cut -f1))"

venv=.venv-keras
[ -x "$venv/bin/python" ] || { echo "test-python: $venv is missing: run Scripts/setup.sh" >&2; exit 1; }
PIP_NO_INPUT=1 "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --force-reinstall --no-deps "$wheel" </dev/null
if "$venv/bin/python" -c 'import tensorflow' >/dev/null 2>&1; then
    echo "test-python: $venv has TensorFlow; the callback must work without it" >&2
    exit 1
fi

installed="$("$venv/bin/python" -c 'import os, ringboard; print(os.path.dirname(ringboard.__file__))')"
for file in "$installed/_lib/libringboard.so" "$installed/_lib/ringboard" "$installed"/_native*.so; do
    if ldd "$file" | grep -E 'libswift|libFoundation|libdispatch|libBlocksRuntime|not found'; then
        echo "test-python: $file needs a library a machine without Swift lacks" >&2
        exit 1
    fi
done

# No Swift toolchain from here on: only the venv and the system's own directories.
clean_path="$root/$venv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
if env -u LD_LIBRARY_PATH PATH="$clean_path" sh -c 'command -v swift' >/dev/null 2>&1; then
    echo "test-python: swift is still on the clean PATH ($clean_path)" >&2
    exit 1
fi
echo "test-python: python/tests with the wheel, without the Swift toolchain"
cd python/tests
# -rs: a test skipped (torch not installable here) says so, with the reason. -n 2: two workers
# (pytest-xdist); each test has its own directories, rings and aggregator.
env -u LD_LIBRARY_PATH -u RINGBOARD_AGGREGATE_BIN PATH="$clean_path" KERAS_BACKEND=jax \
    "$root/$venv/bin/python" -m pytest -q -rs -p no:cacheprovider -n 2
