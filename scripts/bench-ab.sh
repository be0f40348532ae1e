#!/usr/bin/env bash
# bench-ab.sh compares the benchmarks of one package at two commits on a machine whose speed
# drifts (a shared VM: ±15–20% within minutes here). It builds the package's test binary at the
# old commit (from a temporary `git worktree`) and from the working tree, runs them alternately,
# pair after pair, and prints per sub-benchmark the median and range of each side, using the
# benchmark's cpu-ns/event when it reports one and ns/op otherwise. Alternating puts both sides
# in the same minutes of the host; a single run of each does not (docs/benchmarks.md).
#
#   scripts/bench-ab.sh OLD-REV PACKAGE [BENCH-REGEX] [PAIRS]
#   scripts/bench-ab.sh main~1 ./engine/ '^Benchmark(Decode)?Apply$' 7
#
# BENCHTIME (default 3000000x) is passed as -test.benchtime. Both binaries run the benchmark code
# of their own commit: compare commits whose benchmarks measure the same thing.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [[ $# -lt 2 ]]; then
  sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
fi
old_rev=$1 pkg=$2 re=${3:-.} pairs=${4:-5}
benchtime=${BENCHTIME:-3000000x}
git rev-parse --verify --quiet "$old_rev^{commit}" >/dev/null || { echo "bench-ab.sh: no commit $old_rev" >&2; exit 2; }

work=$(mktemp -d)
trap 'git worktree remove --force "$work/old" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
git worktree add --quiet --detach "$work/old" "$old_rev"
(cd "$work/old" && go test -c -o "$work/old.test" "$pkg")
go test -c -o "$work/new.test" "$pkg"

out="$work/results"
: >"$out"
for i in $(seq "$pairs"); do
  for side in old new; do
    # Each line of a result: name, iterations, then value-unit pairs.
    "$work/$side.test" -test.run='^$' -test.bench="$re" -test.benchtime="$benchtime" 2>&1 |
      awk -v side="$side" '/^Benchmark/ {
          v = ""; u = ""
          for (i = 3; i < NF; i += 2) {
            if ($(i+1) == "cpu-ns/event") { v = $i; u = $(i+1) }
            if ($(i+1) == "ns/op" && u == "") { v = $i; u = $(i+1) }
          }
          if (v != "") print side, $1, v, u
        }' >>"$out"
  done
  echo "bench-ab.sh: pair $i of $pairs done" >&2
done

python3 - "$out" "$old_rev" <<'PY'
import collections, statistics, sys
runs = collections.defaultdict(list)
units = {}
for line in open(sys.argv[1]):
    side, name, value, unit = line.split()
    runs[(name, side)].append(float(value))
    units[name] = unit
names = sorted({name for name, _ in runs})
if not names:
    sys.exit("bench-ab.sh: no benchmark matched")
print(f"old = {sys.argv[2]}, new = working tree; median (min–max) over the pairs")
for name in names:
    o, n = runs.get((name, "old"), []), runs.get((name, "new"), [])
    if not o or not n:
        continue
    mo, mn = statistics.median(o), statistics.median(n)
    print(f"{name:50s} {units[name]:13s} old {mo:9.1f} ({min(o):.1f}–{max(o):.1f})  "
          f"new {mn:9.1f} ({min(n):.1f}–{max(n):.1f})  {100 * (mn - mo) / mo:+.1f}%")
PY
