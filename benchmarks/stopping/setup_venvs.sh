#!/usr/bin/env bash
# Make the peers' own virtualenvs for benchmarks/bench_stopping.py (gitignored):
#   benchmarks/stopping/.venvs/ray   Ray Tune  (requirements-ray.txt)
#   benchmarks/stopping/.venvs/syne  Syne Tune 0.13 (requirements-syne.txt)
#   benchmarks/stopping/.venvs/syne16  Syne Tune 0.16 (requirements-syne16.txt)
# Usage: setup_venvs.sh [NAME ...]  (default: all three; e.g. `setup_venvs.sh syne16`).
# Each also gets this checkout's hyperband package (numpy and attrs only) for the simulator.
# Optuna and NNI run in the project's own venv (extras "bench" and "nni").
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
python="${PYTHON:-python3}"
names=("$@")
if [ ${#names[@]} -eq 0 ]; then
    names=(ray syne syne16)
fi
for name in "${names[@]}"; do
    venv="$here/.venvs/$name"
    if [ ! -x "$venv/bin/python" ]; then
        "$python" -m venv "$venv"
    fi
    "$venv/bin/pip" install -q -r "$here/requirements-$name.txt"
    "$venv/bin/pip" install -q --no-deps -e "$root"
    "$venv/bin/python" -c "import hyperband, sys; print('$name venv ready:', sys.executable)"
done
