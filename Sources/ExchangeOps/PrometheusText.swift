/// The Prometheus text exposition format (version 0.0.4), written metric by metric: a HELP
/// and a TYPE line, then one line per sample.
struct PrometheusText {
    private(set) var text = ""

    mutating func metric(_ name: String, _ type: String, _ help: String, _ samples: [(labels: String, value: String)]) {
        text += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
        for sample in samples { text += "\(name)\(sample.labels) \(sample.value)\n" }
    }

    /// A metric with one unlabelled sample.
    mutating func one(_ name: String, _ type: String, _ help: String, _ value: UInt64) {
        metric(name, type, help, [("", String(value))])
    }

    /// A sample value: the number, or NaN when there is none.
    static func number(_ value: Double) -> String { value.isFinite ? String(value) : "NaN" }
}
