#!/usr/bin/env bash
# Rebuilds hyperband/report/html/plotly-custom.min.js (and plotly-custom.json beside it) from
# the versions pinned in package-lock.json: plotly.js' core with scatter, bar and parcoords.
# Needs node >= 20 and npm; reaches the npm registry once (npm ci). See README.md.
set -euo pipefail
cd "$(dirname "$0")"
npm ci --no-audit --no-fund
node build.mjs
