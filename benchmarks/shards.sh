#!/usr/bin/env bash
# Shards side by side (docs/SHARDS.md): Enter → Accepted wire-to-wire and order-entry
# throughput with ONE shard (alpha alone, one rtes-loadgen) against TWO shards (alpha and beta
# as two trading_exchange processes from configs/shards.dev.json, one rtes-loadgen per shard at
# the same time), the two set-ups alternating round by round. Each rtes-loadgen: 2 connections,
# closed loop, window 4, COUNT requests, resting orders and cancels of one symbol of its shard.
# Durability async (journal in $BENCH_DIR, a disk), shared threading mode as in the dev profile.
# Run from the repository root after `swift build -c release --product trading_exchange
# --product rtes-loadgen` (or make build):
#
#   benchmarks/shards.sh [ROUNDS] [COUNT]
#
# Loopback only; every exchange is stopped by its pid (SIGTERM) after its run. BENCH_DIR,
# BENCH_PIN ("1": pin shard alpha and its loadgen to CPU 0, beta and its loadgen to CPU 1, in both
# set-ups, so that one shard is measured exactly as each of the two: a shard and its generator
# sharing a CPU; across CPUs every parked wake-up is an IPI in this VM, 4-5x slower) are
# not RTES_* names (trading_exchange refuses unknown RTES_* variables).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-2}
count=${2:-40000}
work=${BENCH_DIR:-/var/tmp/rtes-shards-bench}
bin=.build/release
export RTES_API_KEYS_FILE=configs/api_keys.dev.json
for b in trading_exchange rtes-loadgen; do
    [[ -x $bin/$b ]] || { echo "shards.sh: $bin/$b is not built" >&2; exit 1; }
done
for port in 8888 8898; do
    # A port already taken would send the load to whatever holds it (an exchange left over
    # from an earlier run once answered every order of this one with duplicate-token rejects).
    if (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null; then
        echo "shards.sh: port $port is already in use on 127.0.0.1 (another exchange?); stop it first" >&2; exit 1
    fi
done
rm -rf "$work" && mkdir -p "$work"
pids=()
# The exchanges' logs and the generators' outputs stay in $work when the run fails.
cleanup() {
    local status=$?
    for p in "${pids[@]:-}"; do [[ -n $p ]] && kill -TERM "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    if [[ $status == 0 ]]; then rm -rf "$work"; else echo "shards.sh: failed; logs kept in $work" >&2; fi
}
trap cleanup EXIT
raw=benchmarks/results/shards.txt
: >"$raw"
echo "== host: $(uname -r), $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); pin=${BENCH_PIN:-0}" | tee -a "$raw"

pin() { # CPU command...
    local cpu=$1; shift
    if [[ ${BENCH_PIN:-0} == 1 ]]; then taskset -c "$cpu" "$@"; else "$@"; fi
}

start() { # shard cpu
    local shard=$1 cpu=$2
    # exec: $! is the exchange itself (with taskset exec'ing it), so stop_all's signal reaches it.
    # (A function run with & is a subshell whose child the exchange was: it outlived the run.)
    (
        export RTES_DURABILITY_DIRECTORY="$work/journal" RTES_RISK_MAX_ORDERS_PER_SECOND=1000000 RTES_TRADING_DAY_ENABLED=false
        if [[ ${BENCH_PIN:-0} == 1 ]]; then exec taskset -c "$cpu" $bin/trading_exchange "configs/config.shard-$shard.json" --counters "$work/$shard.counters"; fi
        exec $bin/trading_exchange "configs/config.shard-$shard.json" --counters "$work/$shard.counters"
    ) >"$work/$shard.log" 2>&1 &
    local pid=$!
    pids+=($pid)
    local port; port=$([[ $shard == alpha ]] && echo 8888 || echo 8898)
    for _ in $(seq 1 200); do
        kill -0 "$pid" 2>/dev/null || break
        (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && return 0
        sleep 0.05
    done
    echo "shards.sh: shard $shard did not open port $port" >&2; cat "$work/$shard.log" >&2; exit 1
}

stop_all() {
    for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
    pids=()
    for port in 8888 8898; do
        if (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null; then echo "shards.sh: port $port still open after the exchanges stopped" >&2; exit 1; fi
    done
    rm -rf "$work/journal"
}

load() { # shard symbol@price accounts cpu tag
    local shard=$1 symbol=$2 first=$3 cpu=$4 tag=$5
    pin "$cpu" $bin/rtes-loadgen --shard-map configs/shards.dev.json --shard "$shard" --symbol "$symbol" \
        --account "LOAD$first" --account "LOAD$((first + 1))" --password-file configs/agents.dev.passwords \
        --window 4 --count "$count" --token-prefix "$(printf 'S%s%02d' "${shard:0:1}" "$round" | tr a-z A-Z)" \
        --no-hgrm >"$work/$tag.out" 2>&1
    { echo "-- $tag"; grep -E "requests/s achieved|replies:|rejects by reason|order → Accepted|FAILED|unaccounted" "$work/$tag.out"; } | tee -a "$raw"
}

for round in $(seq 1 "$rounds"); do
    echo "== round $round: one shard" | tee -a "$raw"
    start alpha 0
    load alpha AAPL@230.00 1 0 "r$round-one-alpha"   # the same CPU as in the two-shard set-up
    stop_all
    echo "== round $round: two shards" | tee -a "$raw"
    start alpha 0
    start beta 1
    load alpha AAPL@230.00 1 0 "r$round-two-alpha" &
    l1=$!
    load beta GOOGL@170.00 3 1 "r$round-two-beta" &
    l2=$!
    wait $l1 $l2
    stop_all
done
echo "raw results in $raw"
