#!/usr/bin/env bash
# The end-to-end benchmarks (issue 6): each starts its own simulator and
# prints a table of figures; nothing passes or fails. They are not part of
# `make test`. Usage: tests/bench/run_all.sh [BUILD_DIR] (default build/release)
#
#   1. bench_pull_curl.py  pull 20,000 sales orders x 5 lines: the plugin against curl
#   2. bench_push.py       push 1,000 orders, writes answered after 50 ms
#   3. bench_throttle.py   50 starts per 5 s: what the server counts
#   4. bench_memory.py     peak RSS pulling 10k..200k customers
#   and map_bench (the mapping engine alone), when built.
#
# The output is also written to BUILD_DIR/bench-figures.txt.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
build="${1:-build/release}"
out="$build/bench-figures.txt"
{
    echo "Benchmarks, $(date -u '+%Y-%m-%d %H:%M UTC'), build $build, commit $(git -C "$here" rev-parse --short HEAD 2>/dev/null || echo '?')"
    python3 "$here/bench_pull_curl.py" "$build" --profile
    python3 "$here/bench_push.py" "$build"
    python3 "$here/bench_throttle.py" "$build"
    python3 "$here/bench_memory.py" "$build"
    if [ -x "$build/tests/bench/map_bench" ]; then
        echo
        echo "== map_bench (the mapping engine alone)"
        "$build/tests/bench/map_bench" 3
    fi
} 2>&1 | tee "$out"
echo "(written to $out)"
