#!/usr/bin/env bash
# Durability side by side: the disk's own fdatasync floor (fio), then Enter → Accepted
# wire-to-wire (1 connection, closed loop, window 1) and order-entry throughput (4 connections
# pipelining) with durability.mode none, async and sync, the modes alternating round by round,
# and the journal's bytes per command. `sync` is run twice: with segments zero-filled ahead of
# need (durability.preallocate zeros, the default) and fallocated only (`sync_fallocate`).
# BENCH_MODES picks the modes (default "none async sync sync_fallocate"), BENCH_OUT the
# results file, BENCH_CONFIG the configuration (default configs/config.dev.json) — not RTES_*
# names, which trading_exchange takes as configuration overrides and refuses when unknown.
# Modes sync_dsync and sync_fdatasync are sync with durability.sync_method dsync / fdatasync;
# BENCH_EXCHANGE runs another trading_exchange binary (a base build, for a before/after);
# Writes results/durability.json; RESULTS.md keeps the
# numbers with the host. Run from the repository root after `make build`:
#
#   benchmarks/durability.sh [ROUNDS] [LATENCY_COUNT] [THROUGHPUT_COUNT_PER_CONNECTION]
#
# The journal goes to $BENCH_DIR (default /var/tmp/rtes-durability-bench: a disk, not
# tmpfs), removed at the end. Loopback only; each exchange is stopped (SIGTERM) after its run.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-2}
latency_count=${2:-20000}
throughput_count=${3:-100000}
work=${BENCH_DIR:-/var/tmp/rtes-durability-bench}
bin=.build/release
export RTES_API_KEYS_FILE=configs/api_keys.dev.json
for b in trading_exchange rtes-loadgen rtes-journal; do
    [[ -x $bin/$b ]] || { echo "durability.sh: $bin/$b is not built: run make build" >&2; exit 1; }
done
rm -rf "$work" && mkdir -p "$work"
trap 'pkill -TERM -f "$work/counters" 2>/dev/null || true; rm -rf "$work"' EXIT
out=${BENCH_OUT:-benchmarks/results/durability.json}
raw="$work/raw.txt"
: >"$raw"

echo "== host: $(uname -r), $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)" | tee -a "$raw"
echo "== journal filesystem: $(df -T "$work" | awk 'NR==2 {print $2, $1}')" | tee -a "$raw"
if command -v fio >/dev/null; then
    for direct in 0 1; do
        echo "== fio floor direct=$direct" | tee -a "$raw"
        fio --name=floor --directory="$work" --rw=write --bs=4k --size=16m --fdatasync=1 --ioengine=sync \
            --direct=$direct --output-format=json 2>/dev/null >"$work/fio-$direct.json"
        python3 - "$work/fio-$direct.json" <<'PY' | tee -a "$raw"
import json, sys
j = json.load(open(sys.argv[1]))["jobs"][0]
sync = j.get("sync", {}).get("lat_ns", {}) or j["write"].get("sync", {}).get("lat_ns", {})
pct = sync.get("percentile", {})
def us(ns): return round(ns / 1000, 1)
write = j["write"]["clat_ns"].get("percentile", {})
# An append that is durable costs the write and the fdatasync: both are the floor.
print(f"appends_per_s {round(j['write']['iops'])} write_p50_us {us(write.get('50.000000', 0))} write_p99_us {us(write.get('99.000000', 0))} "
      f"fdatasync_p50_us {us(pct.get('50.000000', 0))} fdatasync_p99_us {us(pct.get('99.000000', 0))}")
PY
    done
fi

run_mode() {  # mode round
    local mode=$1 round=$2 dir="$work/journal-$1-$2" durability=$1 preallocate=zeros
    local -a method=()
    if [[ $mode == sync_fallocate ]]; then durability=sync preallocate=fallocate; fi
    if [[ $mode == sync_dsync ]]; then durability=sync preallocate=fallocate method=(RTES_DURABILITY_SYNC_METHOD=dsync); fi
    if [[ $mode == sync_fdatasync ]]; then durability=sync preallocate=fallocate method=(RTES_DURABILITY_SYNC_METHOD=fdatasync); fi
    env "${method[@]}" RTES_DURABILITY_MODE=$durability RTES_DURABILITY_PREALLOCATE=$preallocate RTES_DURABILITY_DIRECTORY=$dir \
        "${BENCH_EXCHANGE:-$bin/trading_exchange}" "${BENCH_CONFIG:-configs/config.dev.json}" \
        --counters "$work/counters" >"$work/exchange-$mode-$round.log" 2>&1 &
    local pid=$!
    for _ in $(seq 1 600); do  # up to 60 s: a loaded host made a start take 30 s
        curl -sf http://127.0.0.1:8080/ready >/dev/null 2>&1 && break
        sleep 0.1
    done
    (cd "$work" && RTES_LOADGEN_PASSWORD=load1pass "$OLDPWD/$bin/rtes-loadgen" --connections 1 --window 1 \
        --count "$latency_count" --seed "$round" 2>&1) | sed "s/^/[$mode $round latency] /" | tee -a "$raw" | grep -E "Accepted|achieved"
    (cd "$work" && "$OLDPWD/$bin/rtes-loadgen" --connections 4 --window 256 --count "$throughput_count" --seed "$round" 2>&1) \
        | sed "s/^/[$mode $round throughput] /" | tee -a "$raw" | grep -E "achieved"
    kill -TERM "$pid"; wait "$pid" || true
    if [[ -d $dir ]]; then
        "$bin/rtes-journal" stats "$dir"/* 2>&1 | grep -E "^records:" | sed "s/^/[$mode $round journal] /" | tee -a "$raw"
    fi
}
for round in $(seq 1 "$rounds"); do
    for mode in ${BENCH_MODES:-none async sync sync_fallocate}; do run_mode "$mode" "$round"; done
done

python3 - "$raw" "$out" <<'PY'
import json, re, sys
raw = open(sys.argv[1]).read().splitlines()
result = {"raw": raw, "runs": []}
for line in raw:
    m = re.match(r"\[(\w+) (\d+) latency\]\s+order → Accepted\s+(\d+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)", line)
    if m:
        result["runs"].append({"mode": m[1], "round": int(m[2]), "kind": "latency_us", "count": int(m[3]),
                               "p50": float(m[4]), "p90": float(m[5]), "p99": float(m[6]), "p99_9": float(m[7]), "max": float(m[8])})
    m = re.match(r"\[(\w+) (\d+) throughput\].*: (\d+) requests/s achieved", line)
    if m:
        result["runs"].append({"mode": m[1], "round": int(m[2]), "kind": "throughput_requests_per_s", "value": int(m[3])})
    m = re.match(r"\[(\w+) (\d+) journal\] records: (\d+) \((\d+) bytes, ([\d.]+) bytes per record\)", line)
    if m:
        result["runs"].append({"mode": m[1], "round": int(m[2]), "kind": "journal", "records": int(m[3]), "bytes": int(m[4]),
                               "bytes_per_record": float(m[5])})
json.dump(result, open(sys.argv[2], "w"), indent=1, ensure_ascii=False)
print("wrote", sys.argv[2])
PY
