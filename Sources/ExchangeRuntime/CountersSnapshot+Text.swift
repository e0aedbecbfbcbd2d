

extension CountersSnapshot {
    /// The counters file for an exchange named `name`: `/dev/shm/rtes.<name>.counters`
    /// (characters other than letters, digits, `.`, `_` and `-` become `_`).
    public static func defaultPath(exchangeName name: String) -> String {
        let safe = String(name.unicodeScalars.map {
            ($0.properties.isAlphabetic && $0.isASCII) || ("0"..."9").contains($0) || "._-".unicodeScalars.contains($0) ? Character($0) : "_"
        })
        return "/dev/shm/rtes.\(safe).counters"
    }

    /// Human-readable counters; with `previous` and `seconds`, rates over the interval too.
    public func text(previous: CountersSnapshot? = nil, seconds: Double = 0) -> String {
        func n(_ v: UInt64) -> String {
            let digits = Array(String(v))
            var out = ""
            for (i, d) in digits.enumerated() {
                if i > 0 && (digits.count - i) % 3 == 0 { out += "," }
                out.append(d)
            }
            return out
        }
        func pad(_ text: String, _ width: Int) -> String { text + String(repeating: " ", count: max(0, width - text.count)) }
        func rate(_ key: String) -> String {
            guard let p = previous, seconds > 0 else { return "" }
            let delta = (engine[key] ?? 0) &- (p.engine[key] ?? 0)
            return " (\(n(UInt64(Double(delta) / seconds)))/s)"
        }
        func duration(_ seconds: Double) -> String {
            if seconds < 1e-6 { return "\(Int(seconds * 1e9)) ns" }
            if seconds < 1e-3 { return String(Int(seconds * 1e7) / 10) + "." + String(Int(seconds * 1e7) % 10) + " µs" }
            return String(Int(seconds * 1e4) / 10) + "." + String(Int(seconds * 1e4) % 10) + " ms"
        }
        var lines: [String] = []
        lines.append("\(name)  pid \(pid)  \(state)")
        lines.append("commands \(n(engine["commands"] ?? 0))\(rate("commands"))  orders \(n(engine["orders_received"] ?? 0))\(rate("orders_received"))  trades \(n(engine["trades"] ?? 0))\(rate("trades"))  rejects \(n(engine["rejects"] ?? 0))")
        var window = latency
        if let p = previous { window = latency.subtracting(p.latency) }
        if window.count > 0 {
            let q = { (x: Double) in duration(self.seconds(ticks: window.quantile(x))) }
            lines.append("latency  p50 \(q(0.5))  p99 \(q(0.99))  p99.9 \(q(0.999))  max≈ \(q(1.0))\(previous == nil ? " (since start)" : "")")
        }
        lines.append("book     resting \(n(engine["resting_orders"] ?? 0)) of \(n(poolCapacity)), peak \(n(engine["peak_resting_orders"] ?? 0))")
        for r in rings {
            lines.append("ring     \(pad(r.slot.metricName, 13)) depth \(n(r.depth)) of \(n(r.capacity))  full \(n(r.full))")
        }
        for a in agents {
            let state = a.startFailed ? "did not start" : a.running ? "running" : "stopped"
            lines.append("agent    \(pad(a.name, 13)) \(state)\(a.cpu.map { " on CPU \($0)" } ?? "")  heartbeat \(n(a.heartbeat))  worst duty cycle \(duration(a.maxDutyCycleSeconds))  errors \(n(a.errors))")
        }
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

extension CountersSnapshot {
    /// Every registered block's counters as the directory names them, one per line:
    /// `block.counter kind value` (a histogram shows its count and sum). Needs no module's layout.
    public func directoryText() -> String {
        blocks.flatMap { block in
            block.counters.map { c in
                let value = c.histogram.map { "count \($0.count) sum \($0.sum)" } ?? String(c.value)
                return "\(block.name).\(c.name) \(c.kind) \(value)"
            }
        }.joined(separator: "\n")
    }
}

extension CountersLayout.State: CustomStringConvertible {
    public var description: String {
        switch self {
        case .starting: "starting"
        case .running: "running"
        case .draining: "draining"
        case .stopped: "stopped"
        }
    }
}
