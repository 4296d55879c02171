#!/usr/bin/env bash
# The main job on built-in defaults: trains a small model, logs it the way the
# Keras TensorBoard callback does, and summarises the log directory.
#   Scripts/demo.sh [--logdir DIR] [--epochs E] [--steps N]
# Installs what a fresh machine lacks first (Scripts/setup.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v swift >/dev/null 2>&1 && [ -x /opt/swift/usr/bin/swift ]; then
    export PATH="/opt/swift/usr/bin:$PATH"
fi

Scripts/setup.sh
echo "demo: building ringboard (release)"
swift build -c release --product ringboard
exec .build/release/ringboard demo "$@"
