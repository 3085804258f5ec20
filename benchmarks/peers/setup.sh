#!/usr/bin/env bash
# Make one virtualenv per peer in benchmarks/peers/.venvs/ (gitignored) from the pinned
# requirements-<peer>.txt (their pins conflict: HpBandSter and DEHB need numpy<2, SMAC, Optuna and
# Syne Tune run on numpy 2), then check each one: translate every workload's space and evaluate samples.
# Usage: bash benchmarks/peers/setup.sh [peer ...]   (default: hpbandster dehb smac optuna synetune;
# synetune takes ~3 minutes and 1.2 GB: xgboost pulls nvidia-nccl-cu12)
# Needs python3.11 with venv, and gcc (netifaces, an HpBandSter dependency, builds from source).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
python="${PYTHON:-python3}"
peers=("$@")
[ ${#peers[@]} -eq 0 ] && peers=(hpbandster dehb smac optuna synetune)
for peer in "${peers[@]}"; do
    venv="$here/.venvs/$peer"
    if [ ! -x "$venv/bin/python" ]; then
        "$python" -m venv "$venv"
    fi
    "$venv/bin/pip" install -q --disable-pip-version-check -r "$here/requirements-$peer.txt"
    "$venv/bin/python" "$here/selfcheck.py" "$peer"
done
