import ExchangeClient
import Histogram

/// The summary of a load run, as printed.
struct ReportPrinter {
    let report: LoadReport
    let plan: LoadPlan

    func print() {
        let t = report.tally
        Swift.print("sent \(t.requests) requests (\(t.orders) orders, of which \(t.takingOrders) taking; \(t.cancels) cancels) "
            + "in \(format2(report.sendingSeconds)) s: \(Int(report.achievedRate.rounded())) requests/s achieved"
            + offered())
        if case .openLoop = plan.pacing {
            Swift.print("  latest send behind schedule: \(microseconds(report.maximumSendLagNanoseconds)) µs")
        }
        Swift.print("replies: accepted \(t.accepted) (\(t.acceptedLive) resting), rejected \(t.rejected), "
            + "executions \(t.executions) (\(t.executedShares) shares; \(t.takersFilled) of \(t.takingOrders) takers filled), "
            + "canceled \(t.canceledByReason.values.reduce(0, +)) \(codes(t.canceledByReason, MessageText.cancelReason)), cancel rejects \(t.cancelRejects)")
        if t.rejected > 0 {
            Swift.print("rejects by reason: " + codes(t.rejectsByReason, MessageText.rejectReason)
                + (t.rejectsByReason[0x4F] != nil ? "  (O includes the per-account rate limit)" : ""))
        }
        if t.failovers > 0 || !report.failovers.isEmpty {
            Swift.print("failovers: \(t.failovers); requests in flight when a connection was lost: \(t.inFlightAtFailover), "
                + "answered by the new primary: \(t.inFlightAtFailover - t.unknownOutcome), "
                + "unknown outcome (never answered, never acknowledged): \(t.unknownOutcome)")
            for line in report.failovers { Swift.print("  \(line)") }
        }
        if t.cleanupCancels > 0 { Swift.print("cleanup: \(t.cleanupCancels) resting orders canceled") }
        if t.outstanding > 0 || t.unexpected > 0 || t.resting > 0 || t.unfinished > 0 {
            Swift.print("unaccounted: \(t.outstanding) requests unanswered, \(t.unexpected) unexpected messages, "
                + "\(t.resting) orders still resting, \(t.unfinished) takers without an outcome")
        }
        Swift.print("")
        Swift.print(pad("latency (µs)", 20) + ["count", "p50", "p90", "p99", "p99.9", "max"].map { pad($0, 10, right: true) }.joined())
        row("order → Accepted", report.accepted)
        row("order → Executed", report.executed)
        row("cancel → Canceled", report.canceled)
        if report.connections.count > 1 {
            Swift.print("")
            for (name, c) in report.connections {
                Swift.print("  \(pad(name, 8)) requests \(c.requests), accepted \(c.accepted), rejected \(c.rejected), executions \(c.executions), "
                    + "cancels \(c.cancels)/\(c.cleanupCancels) cleanup")
            }
        }
        for failure in report.failures { Swift.print("FAILED \(failure)") }
    }

    func offered() -> String {
        if case .openLoop(let rate) = plan.pacing { return " (offered \(Int(rate))/s)" }
        return ""
    }

    func row(_ name: String, _ h: Histogram<UInt64>) {
        guard h.totalCount > 0 else {
            Swift.print(pad(name, 20) + pad("0", 10, right: true))
            return
        }
        let values = [50.0, 90, 99, 99.9].map { h.valueAtPercentile($0) } + [h.max]
        Swift.print(pad(name, 20) + pad(String(h.totalCount), 10, right: true) + values.map { pad(microseconds($0), 10, right: true) }.joined())
    }

    func microseconds(_ nanoseconds: UInt64) -> String { format2(Double(nanoseconds) / 1_000) }

    func codes(_ counts: [UInt8: Int], _ name: (UInt8) -> String) -> String {
        guard !counts.isEmpty else { return "" }
        return "(" + counts.sorted { $0.key < $1.key }.map { "\(MessageText.character($0.key)) \(name($0.key)): \($0.value)" }
            .joined(separator: ", ") + ")"
    }

    func pad(_ text: String, _ width: Int, right: Bool = false) -> String {
        let fill = String(repeating: " ", count: max(0, width - text.count))
        return right ? fill + text : text + fill
    }
}
