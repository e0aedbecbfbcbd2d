#!/usr/bin/env bash
# FIX 4.4 and TLS on the order path, side by side in one gateway-bench run (rounds alternate):
#   floor     the C io_uring echo server: what loopback TCP costs this host (latency only)
#   rtes      OUCH Enter Order → Accepted on trading_exchange's SoupBinTCP port
#   rtes-fix  NewOrderSingle → ExecutionReport (New) on the same exchange's FIX port
#   quickfix  the same FIX messages answered by QuickFIX's own C++ acceptor (quickfix-acceptor/acceptor.cpp)
#   rtes-tls  OUCH over TLS on a second trading_exchange with gateway.tls on
# then 8-connection throughput of each. Writes results/fix.json (with `uptime` before and after),
# each server's latency distribution (results/fix-SERVER-enter.hgrm, -cancel.hgrm) and their plot
# (results/fix-latency.png, gnuplot);
# RESULTS.md keeps the figures with the host. Builds what it needs (release), idempotently:
# trading_exchange (repository root), gateway-bench (here), the QuickFIX acceptor (g++ against
# Debian's libquickfix-dev) and QuickFIX's FIX44.xml (.ci/quickfix); development certificates
# (configs/tls/make-dev-certs.sh) go to a temporary directory, removed at the end.
#
#   benchmarks/fix.sh [GATEWAY-BENCH OPTIONS...]     e.g. --rounds 5 --orders 20000
#
# Client thread on CPU 0, every server on CPU 1 (gateway-bench's defaults; one server runs at a
# time). Loopback only. Do not run it while something else builds: say how loaded the box was.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

echo "== building trading_exchange (release)"
swift build -c release --product trading_exchange
echo "== building gateway-bench (release)"
(cd benchmarks && swift build -c release --product gateway-bench)

echo "== QuickFIX's FIX 4.4 data dictionary"
dictionary=$(.ci/quickfix | tail -n 1)
acceptor=benchmarks/.build/quickfix-acceptor/quickfix-acceptor
source=benchmarks/quickfix-acceptor/acceptor.cpp
if [ ! -x "$acceptor" ] || [ "$source" -nt "$acceptor" ]; then
    echo "== building the QuickFIX acceptor"
    mkdir -p "$(dirname "$acceptor")"
    # QuickFIX 1.15's headers use dynamic exception specifications: C++14, not 17.
    g++ -std=c++14 -O2 -w -pthread -o "$acceptor.tmp" "$source" -lquickfix \
        || { echo "fix.sh: compiling $source failed (is libquickfix-dev installed? .ci/deps installs it)" >&2; exit 1; }
    mv "$acceptor.tmp" "$acceptor"
fi

certificates=$(mktemp -d /tmp/rtes-fix-bench-tls.XXXXXX)
trap 'rm -rf "$certificates"' EXIT
configs/tls/make-dev-certs.sh "$certificates/dev" >/dev/null

load_before=$(uptime)
echo "== load before: $load_before"
cd benchmarks
rm -f results/fix.json
status=0
.build/release/gateway-bench \
    --servers floor rtes rtes-fix quickfix rtes-tls \
    --throughput-servers rtes rtes-fix quickfix rtes-tls \
    --quickfix-acceptor "$root/$acceptor" --fix-data-dictionary "$root/$dictionary" \
    --tls-certificate "$certificates/dev/server.pem" --tls-key "$certificates/dev/server.key" --tls-ca "$certificates/dev/ca.pem" \
    --output results/fix.json --hgrm-prefix results/fix "$@" || status=$?
load_after=$(uptime)
echo "== load after: $load_after"
[ -f results/fix.json ] || exit $status
# The latency distributions side by side (every server measured; gnuplot, plot-hgrm.sh).
plots=()
for server in floor rtes rtes-fix quickfix rtes-tls; do
    [ -f "results/fix-$server-enter.hgrm" ] && plots+=("results/fix-$server-enter.hgrm=$server")
done
if [ ${#plots[@]} -gt 0 ]; then
    ./plot-hgrm.sh --log-y -o results/fix-latency.png \
        -t "NewOrderSingle/Enter Order to its answer, 1 connection ($(nproc) CPUs, $(uname -r))" "${plots[@]}" \
        && echo "drew results/fix-latency.png" || echo "fix.sh: plotting failed (gnuplot-nox installed? .ci/deps installs it)" >&2
fi
python3 - results/fix.json "$load_before" "$load_after" "benchmarks/fix.sh $*" <<'PY'
import json, sys
path, before, after, script = sys.argv[1:5]
result = json.load(open(path))
result["load"] = {"uptime_before": before.strip(), "uptime_after": after.strip()}
result["script"] = script.strip()
json.dump(result, open(path, "w"), indent=2, ensure_ascii=False)
print("added the load to", path)
PY
exit $status
