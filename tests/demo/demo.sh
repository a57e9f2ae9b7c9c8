#!/usr/bin/env bash
# make demo: a simulated Acumatica instance, the plugin loaded by the
# reference host, sign-in, every flow (see demo.py).
set -euo pipefail
exec python3 "$(dirname "$0")/demo.py" "${1:-build/release}"
