#!/usr/bin/env bash
# The pictures of the README: runs the demo (Scripts/demo.sh, two trainer processes and the
# aggregator) into a scratch log directory, serves it with TensorBoard on a loopback port, and
# captures TensorBoard's dashboards in headless Chromium (Debian's chromium, which
# Scripts/setup.sh installs) as docs/images/<dashboard>.png, after checking what they show
# (Tests/Conformance/dashboard_check.py). TensorBoard runs from .venv-profile, with its profile
# plugin (XProf, `Scripts/setup.sh --with-profile`), which first serves the profiled batch's
# trace (Tests/Conformance/xplane.py --served); the profile picture is its trace viewer.
#   Scripts/screenshots.sh [--out DIR]
set -euo pipefail
cd "$(dirname "$0")/.."

out=docs/images
while [ $# -gt 0 ]; do
    case "$1" in
        --out) out="$2"; shift 2 ;;
        -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
        *) echo "screenshots: unknown argument $1 (try --help)" >&2; exit 2 ;;
    esac
done

logs=$(mktemp -d "${TMPDIR:-/tmp}/ringboard-screenshots.XXXXXX")
trap 'rm -rf "$logs"' EXIT
Scripts/setup.sh --with-profile
Scripts/demo.sh --logdir "$logs/demo"
.venv-profile/bin/python Tests/Conformance/xplane.py "$logs/demo" --served
.venv-profile/bin/python Tests/Conformance/dashboard_check.py --logdir "$logs/demo" \
    --runs rank_0/train,rank_0/validation,rank_1/train,rank_1/validation \
    --tags epoch_loss,epoch_accuracy --image-tag dense/kernel_0 \
    --screenshots "$out" --dashboards scalars,histograms,distributions,images,graphs,projector,profile
echo "screenshots: $(ls "$out"/*.png | wc -l) pictures in $out"
