#!/usr/bin/env bash
# Prints one line per run: the trace hash of every scenario at seeds 1 and 2, of the quickstart
# and of the sim-speed bench. A refactoring that must not change behaviour compares this output
# before and after (`diff`): any changed line is a changed schedule.
#   scripts/trace-hashes.sh [LAB_BINARY] > hashes.txt
set -euo pipefail
cd "$(dirname "$0")/.."
lab=${1:-target/debug/lab}
[ -x "$lab" ] || cargo build -q -p lab
for f in scenarios/*.toml; do
  for s in 1 2; do
    h=$( { "$lab" run "$f" --seed "$s" --json || true; } | python3 -c 'import json,sys; print(json.load(sys.stdin)["trace_hash"])')
    echo "$f seed $s $h"
  done
done
echo "quickstart $("$lab" quickstart | grep -v "^Wall time:" | sha256sum | cut -c1-32)"
