#!/usr/bin/env bash
# Make the peers' own virtualenvs for benchmarks/bench_stopping.py (gitignored):
#   benchmarks/stopping/.venvs/ray   Ray Tune  (requirements-ray.txt)
#   benchmarks/stopping/.venvs/syne  Syne Tune (requirements-syne.txt)
# Each also gets this checkout's hyperband package (numpy and attrs only) for the simulator.
# Optuna and NNI run in the project's own venv (extras "bench" and "nni").
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
python="${PYTHON:-python3}"
for name in ray syne; do
    venv="$here/.venvs/$name"
    if [ ! -x "$venv/bin/python" ]; then
        "$python" -m venv "$venv"
    fi
    "$venv/bin/pip" install -q -r "$here/requirements-$name.txt"
    "$venv/bin/pip" install -q --no-deps -e "$root"
    "$venv/bin/python" -c "import hyperband, sys; print('$name venv ready:', sys.executable)"
done
