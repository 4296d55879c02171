#!/usr/bin/env bash
# Installs what a fresh Debian machine lacks to build and test Ringboard:
#   - the system libraries the package links (zlib, LZ4) and pkg-config;
#   - libpng, which Tests/Conformance/png_reference.py loads (ctypes, libpng16.so)
#     to check that our PNG encoder writes the bytes libpng writes;
#   - Chromium, which Tests/Conformance/graphs_dashboard_check.py runs headless
#     to look at TensorBoard's Graphs dashboard;
#   - .venv, a Python virtual environment with TensorBoard and the other
#     packages pinned in Scripts/requirements.txt, used by Tests/Conformance;
#   - .venv-keras, where the Python package is tested as users get it: Keras 3 on
#     the JAX CPU backend and pytest, no TensorFlow (python/requirements-test.txt;
#     Scripts/test-python.sh installs the wheel into it);
#   - torch's CPU build in .venv-keras, where pip finds it (python/requirements-torch.txt);
#   - with --with-profile, .venv-profile: TensorBoard with its profile plugin, XProf
#     (Scripts/requirements-profile.txt), for Scripts/screenshots.sh.
# Safe to run again: it only installs what is missing or out of date, and does
# nothing slow when everything is in place. Needs no terminal (works in CI).
set -euo pipefail
cd "$(dirname "$0")/.."

with_profile=0
for argument in "$@"; do
    case "$argument" in
        --with-profile) with_profile=1 ;;
        *) echo "setup: unknown argument $argument (only --with-profile)" >&2; exit 2 ;;
    esac
done


as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    else
        sudo "$@"
    fi
}

is_installed() {
    [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ]
}

# --- Debian packages --------------------------------------------------------
missing=()
for package in liblz4-dev zlib1g-dev libpng-dev pkg-config chromium; do
    is_installed "$package" || missing+=("$package")
done
# `python3 -m venv` needs Debian's python3-venv when python3 is the system one.
if ! command -v python3 >/dev/null 2>&1; then
    missing+=(python3 python3-venv)
elif ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
    missing+=(python3-venv)
fi
if [ "${#missing[@]}" -gt 0 ]; then
    echo "setup: installing ${missing[*]}"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq </dev/null
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        "${missing[@]}" </dev/null
else
    echo "setup: system packages present"
fi

# --- Python virtual environments --------------------------------------------
# Makes (or repairs) venv $1 and installs requirements file $2 into it, unless a stamp says it
# is in place already.
python_environment() {
    local venv="$1" requirements="$2"
    local stamp="$venv/.requirements.stamp"
    if [ -d "$venv" ] && ! "$venv/bin/python" -c 'import sys' >/dev/null 2>&1; then
        echo "setup: $venv is broken (its Python does not run); recreating it"
        rm -rf "$venv"
    fi
    if [ ! -d "$venv" ]; then
        echo "setup: creating $venv"
        python3 -m venv "$venv"
    fi
    if [ ! -f "$stamp" ] || [ "$requirements" -nt "$stamp" ]; then
        echo "setup: installing $requirements into $venv"
        PIP_NO_INPUT=1 "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
            -r "$requirements" </dev/null
        touch "$stamp"
    else
        echo "setup: $venv is up to date"
    fi
}

python_environment .venv Scripts/requirements.txt
# The Python package's tests (Scripts/test-python.sh installs the wheel into it).
python_environment .venv-keras python/requirements-test.txt

# torch's CPU build into .venv-keras, where pip finds it (python/requirements-torch.txt says where):
# the tests that need it are skipped without it, saying why, and the rest run.
# (Scripts/bench-python.sh installs it into .venv on its own.)
torch_environment() {
    local venv="$1" requirements=python/requirements-torch.txt
    local stamp="$venv/.torch.stamp"
    if [ -f "$stamp" ] && [ ! "$requirements" -nt "$stamp" ] && "$venv/bin/python" -c 'import torch' >/dev/null 2>&1; then
        echo "setup: torch in $venv is up to date"
        return
    fi
    echo "setup: installing $requirements into $venv"
    if PIP_NO_INPUT=1 "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements" </dev/null; then
        touch "$stamp"
    else
        echo "setup: torch==2.13.0+cpu is not installable here (PyPI has only the CUDA build; set PIP_FIND_LINKS" \
             "or PIP_EXTRA_INDEX_URL=https://download.pytorch.org/whl/cpu): the tests that need torch will be skipped" >&2
        rm -f "$stamp"
    fi
}
torch_environment .venv-keras

if [ "$with_profile" -eq 1 ]; then
    python_environment .venv-profile Scripts/requirements-profile.txt
fi
