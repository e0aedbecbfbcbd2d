extension CountersSnapshot {
    /// The counters file for an exchange named `name`: `/dev/shm/rtes.<name>.counters`
    /// (characters other than letters, digits, `.`, `_` and `-` become `_`).
    public static func defaultPath(exchangeName name: String) -> String {
        let safe = String(name.unicodeScalars.map {
            ($0.properties.isAlphabetic && $0.isASCII) || ("0"..."9").contains($0) || "._-".unicodeScalars.contains($0) ? Character($0) : "_"
        })
        return "/dev/shm/rtes.\(safe).counters"
    }

    /// The machinery's lines of a human-readable summary: the rings (depth, capacity, times
    /// full) and the agents (state, CPU, heartbeat, worst duty cycle, errors), one per line.
    /// The modules' counters are summarised by their readers (ExchangeOps'
    /// `CountersSnapshot.text`), which know their names.
    public func machineryLines() -> [String] {
        var lines: [String] = []
        for r in rings {
            lines.append("ring     \(Self.padded(r.slot.metricName, 13)) depth \(Self.grouped(r.depth)) of \(Self.grouped(r.capacity))  full \(Self.grouped(r.full))")
        }
        for a in agents {
            let state = a.startFailed ? "did not start" : a.running ? "running" : "stopped"
            lines.append("agent    \(Self.padded(a.name, 13)) \(state)\(a.cpu.map { " on CPU \($0)" } ?? "")  heartbeat \(Self.grouped(a.heartbeat))  "
                + "worst duty cycle \(Self.duration(a.maxDutyCycleSeconds))  errors \(Self.grouped(a.errors))")
        }
        return lines
    }

    /// `1234567` as `1,234,567`.
    public static func grouped(_ v: UInt64) -> String {
        let digits = Array(String(v))
        var out = ""
        for (i, d) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out += "," }
            out.append(d)
        }
        return out
    }

    /// Seconds as `812 ns`, `12.5 µs` or `1.2 ms`.
    public static func duration(_ seconds: Double) -> String {
        if seconds < 1e-6 { return "\(Int(seconds * 1e9)) ns" }
        if seconds < 1e-3 { return String(Int(seconds * 1e7) / 10) + "." + String(Int(seconds * 1e7) % 10) + " µs" }
        return String(Int(seconds * 1e4) / 10) + "." + String(Int(seconds * 1e4) % 10) + " ms"
    }

    /// `text` padded with spaces to `width` characters.
    public static func padded(_ text: String, _ width: Int) -> String { text + String(repeating: " ", count: max(0, width - text.count)) }
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
