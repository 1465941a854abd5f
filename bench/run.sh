#!/usr/bin/env bash
# Replay benchmark: poolwatch against mtail, a seed-style Python watcher, `wc -l` and `cat` on
# the same generated log. Checks first that poolwatch, mtail and the Python watcher count the
# same requests and attempts, then runs each program several times and prints the median wall
# time, lines/s, MB/s, CPU seconds (user + sys), peak RSS and the ratios to poolwatch.
#
#   bench/run.sh                      # 1M and 5M lines
#   SIZES=1000000 RUNS=3 bench/run.sh
#
# Environment:
#   POOLWATCH         the binary (default: build-bench/app/poolwatch in this repo)
#   POOLWATCH_BEFORE  a second poolwatch binary to run as "poolwatch-before" (optional)
#   BENCH_DIR         where logs and outputs go (default: $TMPDIR/poolwatch-bench)
#   SIZES             log sizes in lines (default: "1000000 5000000")
#   RUNS              runs of each fast program (poolwatch, wc, cat; default 5)
#   SLOW_RUNS         runs of mtail and the Python watcher (default 3)
#   SEED              generator seed (default 1)
#   SKIP              space-separated programs to leave out, e.g. "mtail python"; "gz" leaves
#                     out poolwatch-gz (replay of the log gzip'd as logrotate does, gzip -6)
#                     and zcat (its decompression alone)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(dirname "$here")"
POOLWATCH="${POOLWATCH:-$repo/build-bench/app/poolwatch}"
POOLWATCH_BEFORE="${POOLWATCH_BEFORE:-}"
BENCH_DIR="${BENCH_DIR:-${TMPDIR:-/tmp}/poolwatch-bench}"
SIZES="${SIZES:-1000000 5000000}"
RUNS="${RUNS:-5}"
SLOW_RUNS="${SLOW_RUNS:-3}"
SEED="${SEED:-1}"
SKIP="${SKIP:-}"

# The benchmark's own install step (CI does not run the benchmark).
missing=()
command -v mtail >/dev/null || missing+=(mtail)
[ -x /usr/bin/time ] || missing+=(time)
command -v python3 >/dev/null || missing+=(python3)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get install -y "${missing[@]}" || { apt-get update && apt-get install -y "${missing[@]}"; }
  else
    echo "missing: ${missing[*]} (apt-get install -y ${missing[*]})" >&2
    exit 1
  fi
fi
if [ ! -x "$POOLWATCH" ]; then
  echo "no poolwatch binary at $POOLWATCH; build it with:" >&2
  echo "  cmake -S $repo -B $repo/build-bench -G Ninja -DCMAKE_BUILD_TYPE=Release && ninja -C $repo/build-bench poolwatch" >&2
  exit 1
fi

mkdir -p "$BENCH_DIR/mtail-progs"
cp "$here/poolwatch.mtail" "$BENCH_DIR/mtail-progs/"
results="$BENCH_DIR/results.tsv"
: >"$results"

skipped() { [[ " $SKIP " == *" $1 "* ]]; }

# run NAME LOG RUNS CMD...: times CMD RUNS times, appends one TSV row per run.
run() {
  local name=$1 log=$2 runs=$3
  shift 3
  local i
  for ((i = 1; i <= runs; i++)); do
    /usr/bin/time -f "%e %U %S %M" -o "$BENCH_DIR/time.out" "$@" >/dev/null 2>"$BENCH_DIR/$name.err" || {
      echo "$name failed:" >&2
      cat "$BENCH_DIR/$name.err" >&2
      exit 1
    }
    read -r wall user sys rss <"$BENCH_DIR/time.out"
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$(wc -l <"$log")" "$(stat -c %s "$log")" \
      "$wall" "$user" "$sys" "$rss" >>"$results"
  done
}

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "poolwatch: $("$POOLWATCH" --version)"
command -v mtail >/dev/null && echo "mtail: $(mtail --version 2>&1 | head -1)"
echo "python: $(python3 --version)"

for lines in $SIZES; do
  log="$BENCH_DIR/access-$lines-seed$SEED.log"
  if [ ! -s "$log" ]; then
    echo "generating $log"
    python3 "$here/gen_log.py" --lines "$lines" --seed "$SEED" --out "$log.tmp"
    mv "$log.tmp" "$log"
  fi
  if ! skipped gz && [ ! -s "$log.gz" ]; then
    gzip -6 -c "$log" >"$log.gz.tmp"  # logrotate's compress: gzip's default level
    mv "$log.gz.tmp" "$log.gz"
  fi
  cat "$log" >/dev/null  # into the page cache: every program reads it from memory
  skipped gz || cat "$log.gz" >/dev/null

  # Same counts first, or the times mean nothing.
  out="$BENCH_DIR/$lines"
  mkdir -p "$out"
  "$POOLWATCH" replay --metrics-out "$out/poolwatch.prom" "$log" >"$out/poolwatch.notifications" 2>/dev/null
  check=("poolwatch=$out/poolwatch.prom")
  if ! skipped mtail; then
    mtail --one_shot --one_shot_format=prometheus --emit_prog_label=false --logtostderr \
      --progs "$BENCH_DIR/mtail-progs" --logs "$log" >"$out/mtail.prom" 2>"$out/mtail.err"
    check+=("mtail=$out/mtail.prom")
  fi
  if ! skipped python; then
    python3 "$here/seed_watcher.py" --metrics-out "$out/python.prom" "$log" >/dev/null
    check+=("python=$out/python.prom")
  fi
  # With mtail and python skipped there is nothing to compare poolwatch with.
  [ ${#check[@]} -lt 2 ] || python3 "$here/check_totals.py" "${check[@]}"
  if ! skipped gz; then
    "$POOLWATCH" replay --metrics-out "$out/poolwatch-gz.prom" "$log.gz" >"$out/poolwatch-gz.notifications" 2>/dev/null
    cmp -s "$out/poolwatch.prom" "$out/poolwatch-gz.prom" &&
      cmp -s "$out/poolwatch.notifications" "$out/poolwatch-gz.notifications" || {
      echo "poolwatch replay of $log.gz differs from the plain log's" >&2
      exit 1
    }
    echo "poolwatch-gz: same exposition and notifications as the plain log"
  fi

  run poolwatch "$log" "$RUNS" "$POOLWATCH" replay --metrics-out "$out/poolwatch.prom" "$log"
  if [ -n "$POOLWATCH_BEFORE" ]; then
    run poolwatch-before "$log" "$RUNS" "$POOLWATCH_BEFORE" replay --metrics-out "$out/before.prom" "$log"
  fi
  # Lines and MB/s of the gzip rows count the plain log, as replay's do.
  skipped gz || run poolwatch-gz "$log" "$RUNS" "$POOLWATCH" replay --metrics-out "$out/poolwatch-gz.prom" "$log.gz"
  skipped gz || run zcat "$log" "$RUNS" zcat "$log.gz"
  run wc-l "$log" "$RUNS" wc -l "$log"
  run cat "$log" "$RUNS" cat "$log"
  skipped mtail || run mtail "$log" "$SLOW_RUNS" mtail --one_shot --one_shot_format=prometheus \
    --emit_prog_label=false --logtostderr --progs "$BENCH_DIR/mtail-progs" --logs "$log"
  skipped python || run python "$log" "$SLOW_RUNS" python3 "$here/seed_watcher.py" "$log"
done

python3 "$here/summarize.py" "$results"
