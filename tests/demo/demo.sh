#!/usr/bin/env bash
# make demo: load the plugin through the reference host and show what it is.
# (Later: a simulated Acumatica instance, sign-in and every flow.)
set -euo pipefail
build=${1:-build/release}
host="$build/bin/connector-host"
plugin=$(ls "$build"/plugins/acumatica-*.so | head -n 1)

echo "== Plugins found in $build/plugins"
"$host" plugins --dir "$build/plugins"
echo
echo "== What the plugin says about itself"
"$host" describe --plugin "$plugin"
