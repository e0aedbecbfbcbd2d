import ExchangeEngine
import ExchangeGateway
import ExchangeMarketData
import ExchangeRuntime

extension CountersSnapshot {
    /// Human-readable counters, as `rtes-stat` prints them and the exchange logs them at the
    /// end: the engine, the rings and agents, the gateway, the feed; with `previous` and
    /// `seconds`, rates over the interval too.
    public func text(previous: CountersSnapshot? = nil, seconds: Double = 0) -> String {
        let n = Self.grouped
        func rate(_ key: String) -> String {
            guard let p = previous, seconds > 0 else { return "" }
            let delta = (engine[key] ?? 0) &- (p.engine[key] ?? 0)
            return " (\(n(UInt64(Double(delta) / seconds)))/s)"
        }
        var lines: [String] = []
        lines.append("\(name)  pid \(pid)  \(state)")
        lines.append("commands \(n(engine["commands"] ?? 0))\(rate("commands"))  orders \(n(engine["orders_received"] ?? 0))\(rate("orders_received"))  trades \(n(engine["trades"] ?? 0))\(rate("trades"))  rejects \(n(engine["rejects"] ?? 0))")
        var window = latency
        if let p = previous { window = latency.subtracting(p.latency) }
        if window.count > 0 {
            let q = { (x: Double) in Self.duration(self.seconds(ticks: window.quantile(x))) }
            lines.append("latency  p50 \(q(0.5))  p99 \(q(0.99))  p99.9 \(q(0.999))  max≈ \(q(1.0))\(previous == nil ? " (since start)" : "")")
        }
        lines.append("book     resting \(n(engine["resting_orders"] ?? 0)) of \(n(poolCapacity)), peak \(n(engine["peak_resting_orders"] ?? 0))")
        lines += machineryLines()
        func g(_ key: String) -> String { n(gateway[key] ?? 0) }
        lines.append("gateway  connections \(g("active_connections")) (sessions \(g("active_sessions")))  accepted \(g("accepted_connections"))  packets in \(g("messages_in"))  messages out \(g("messages_out"))  logins \(g("logins_accepted")) ok, \(n((gateway["logins_rejected_not_authorized"] ?? 0) + (gateway["logins_rejected_session"] ?? 0))) refused")
        func m(_ key: String) -> String { n(marketData[key] ?? 0) }
        if (marketData["next_sequence"] ?? 0) > 0 {
            lines.append("feed     next \(m("next_sequence"))  messages \(m("messages"))  packets \(m("packets"))  heartbeats \(m("heartbeats"))  "
                + "re-requests \(m("retransmit_answered")) answered, \(m("retransmit_rejected")) not  snapshots \(m("snapshots_served"))  "
                + "send errors \(m("send_errors"))")
        }
        let disconnects = disconnectsByReason.filter { $0.count > 0 }
        if !disconnects.isEmpty {
            lines.append("closed   " + disconnects.map { "\($0.reason) \(n($0.count))" }.joined(separator: ", "))
        }
        let rejects = rejectsByReason.filter { $0.count > 0 }
        if !rejects.isEmpty {
            lines.append("rejects  " + rejects.map { "\($0.reason) \(n($0.count))" }.joined(separator: ", "))
        }
        return lines.joined(separator: "\n")
    }
}
