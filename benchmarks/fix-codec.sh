#!/usr/bin/env bash
# A quick measurement of the FIX 4.4 codec's cost per message (not a benchmark with
# percentiles: one loop each, thread CPU time, so other processes on a shared host do not
# count). Builds ExchangeCore and ExchangeFIX with swiftc -O -wmo (which also checks the
# @_noLocks/@_noAllocation proofs in Sources/ExchangeFIX/ProvenHotPaths.swift) into
# .build/fix-codec-bench/, then runs, pinned with taskset when it is there:
#   decode: frame + CheckSum + parse + Price and OrderQty of a 156-byte NewOrderSingle
#   encode: the ExecutionReport (New) body from an engine event + header, BodyLength, CheckSum
#
#   benchmarks/fix-codec.sh [CPU]     CPU to pin to, default 1
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
out=.build/fix-codec-bench
cpu=${1:-1}
mkdir -p "$out/CCPUHints"
printf 'module CCPUHints {\n    header "%s/CShims/CCPUHints/include/cpu_hints.h"\n    export *\n}\n' "$repo" >"$out/CCPUHints/module.modulemap"
c=(-O -wmo -parse-as-library -swift-version 6 -I "$out" -I "$out/CCPUHints" -Xcc -fmodule-map-file="$out/CCPUHints/module.modulemap")
swiftc "${c[@]}" -module-name ExchangeCore -emit-module -emit-module-path "$out/ExchangeCore.swiftmodule" \
    -emit-library -static -o "$out/libExchangeCore.a" Sources/ExchangeCore/*.swift
swiftc "${c[@]}" -module-name ExchangeFIX -emit-module -emit-module-path "$out/ExchangeFIX.swiftmodule" \
    -emit-library -static -o "$out/libExchangeFIX.a" Sources/ExchangeFIX/*.swift
cat >"$out/main.swift" <<'SWIFT'
import ExchangeCore
import ExchangeFIX
import Glibc

func nowNs() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}
func msg(_ f: String) -> [UInt8] {
    let body = Array(f.split(separator: "|", omittingEmptySubsequences: false).joined(separator: "\u{01}").utf8)
    var m = Array("8=FIX.4.4\u{01}9=\(body.count)\u{01}".utf8) + body
    let sum = m.reduce(UInt8(0), &+)
    m += Array("10=".utf8) + [sum / 100 + 48, sum / 10 % 10 + 48, sum % 10 + 48, 1]
    return m
}
let nos = msg("35=D|49=CLIENT1|56=RTES|34=2|52=20261207-09:00:00.000|11=ORD-000001|55=AAPL|54=1|38=100|40=2|44=150.25|59=0|60=20261207-09:00:00.000|")
let n = 300_000
var message = FIXMessage()
var sink = 0
var app = FIXApplication(configuration: FIXApplicationConfiguration(client: 1, firm: .blank, execIDPrefix: 1, midnight: 0))
let body = UnsafeMutableRawBufferPointer.allocate(byteCount: 1024, alignment: 64)
let out = UnsafeMutableRawBufferPointer.allocate(byteCount: 1024, alignment: 64)
// Decode: frame + parse + field reads of a NewOrderSingle.
nos.withUnsafeBytes { b in
    for round in 0..<2 {
        let start = nowNs()
        for _ in 0..<n {
            guard case .message(let l) = FIXFrameReader.next(b, maximumLength: 4096) else { fatalError() }
            _ = message.parse(UnsafeRawBufferPointer(rebasing: b[0..<l]))
            sink &+= Int(FIXNumbers.price(message.value(44)!)!) &+ Int(FIXNumbers.shares(message.value(38)!)!)
        }
        if round == 1 { print("decode NewOrderSingle (frame+checksum+parse+price/qty): \(Double(nowNs() - start) / Double(n)) ns/msg (thread CPU time), \(nos.count) bytes") }
    }
}
// Encode: ExecutionReport body (application mapping) + header/trailer (writer).
let enter = EnterOrder(timestamp: 1, client: 1, token: FIXOrderTable.token(1), side: .buy, shares: 100, symbol: Symbol("AAPL")!, price: 1_502_500, firm: .blank)
let clOrdID = Array("ORD-1".utf8)
_ = clOrdID.withUnsafeBytes { app.orders.add($0, kind: .order) }
let ev = EngineEvent.accepted(OrderAccepted(timestamp: 1, client: 1, token: enter.token, reference: 42, instrument: 0, side: .buy, orderType: .limit, shares: 100, price: 1_502_500, timeInForce: .marketHours, firm: .blank, display: .anonymous, capacity: .agency, intermarketSweep: .notEligible, minimumQuantity: 0, crossType: .continuous, state: .live))
let compA = Array("RTES".utf8), compB = Array("CLIENT1".utf8)
for round in 0..<2 {
    let start = nowNs()
    var bytes = 0
    for i in 0..<n {
        let (_, len) = app.report(ev, body: body)!
        var w = FIXWriter(out)
        w.msgType(.executionReport)
        compA.withUnsafeBytes { w.field(49, $0) }
        compB.withUnsafeBytes { w.field(56, $0) }
        w.field(34, UInt64(i))
        w.timestamp(52, 1_796_634_000_000_000_000 &+ UInt64(i), precision: .microseconds)
        w.raw(UnsafeRawBufferPointer(rebasing: body[0..<len]))
        bytes = w.finish()!
        sink &+= bytes
    }
    if round == 1 { print("encode ExecutionReport New (mapping+header+BodyLength+CheckSum): \(Double(nowNs() - start) / Double(n)) ns/msg (thread CPU time), \(bytes) bytes") }
}
print(sink & 1)
SWIFT
swiftc -O -swift-version 6 -I "$out" -I "$out/CCPUHints" -Xcc -fmodule-map-file="$out/CCPUHints/module.modulemap" \
    "$out/main.swift" "$out/libExchangeFIX.a" "$out/libExchangeCore.a" -o "$out/fix-codec-bench"
if command -v taskset >/dev/null; then exec taskset -c "$cpu" "$out/fix-codec-bench"; else exec "$out/fix-codec-bench"; fi
