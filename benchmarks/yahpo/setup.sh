#!/usr/bin/env bash
# Make the yahpo venv (benchmarks/yahpo/.venv/, gitignored) from the pinned requirements.txt, then
# check it: start server.py on the data and ask for one configuration at epoch 52.
# yahpo-gym 1.0.2 pins numpy<2 and ConfigSpace<=0.6.1, which the project's env cannot have, so the
# surrogate runs in this venv and client.py talks to it over a pipe.
# Usage: bash benchmarks/yahpo/setup.sh   (PYTHON=python3.11 to choose the interpreter;
#        YAHPO_DATA=... for the data folder, default <repo>/../shared/yahpo_data)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
python="${PYTHON:-python3}"
venv="$here/.venv"
data="${YAHPO_DATA:-$repo/../shared/yahpo_data}"
if [ ! -x "$venv/bin/python" ]; then
    "$python" -m venv "$venv"
fi
"$venv/bin/pip" install -q --disable-pip-version-check -r "$here/requirements.txt"
if [ ! -f "$data/lcbench/model.onnx" ]; then
    echo "setup.sh: the venv is ready, but there is no lcbench surrogate in $data;" >&2
    echo "setup.sh: set YAHPO_DATA to the yahpo_data folder (v1.0.2) and run this again" >&2
    exit 1
fi
query='{"op": "query", "task": "126029", "queries": [[0, 52]], "configs": [{"batch_size": 64,
 "learning_rate": 0.001, "max_dropout": 0.1, "max_units": 256, "momentum": 0.9, "num_layers": 2,
 "weight_decay": 0.001}]}'
answer="$(echo "$query" | tr -d '\n' | "$venv/bin/python" "$here/server.py" --data "$data" 2>/dev/null \
    | tail -n 1)"
case "$answer" in
    *'"ok": true'*val_accuracy*) echo "setup.sh: lcbench surrogate OK in $venv: ${answer:0:160}" ;;
    *) echo "setup.sh: the lcbench server failed: $answer" >&2; exit 1 ;;
esac
