import ExchangeCore
import ExchangeRuntime
import ExchangeTools

/// Renders a counters snapshot in the Prometheus text exposition format (version 0.0.4).
public enum MetricsRenderer {
    /// The order-latency histogram's bucket bounds in seconds (`le`), 1 µs to 100 ms.
    static let latencyBounds: [Double] = [0.000_001, 0.000_002_5, 0.000_005, 0.000_01, 0.000_025, 0.000_05, 0.000_1,
                                          0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.1]

    public static func render(_ s: CountersSnapshot) -> String {
        var out = PrometheusText()
        let number = PrometheusText.number
        out.one("rtes_up", "gauge", "1 while the exchange process runs its agents.", s.state == .running ? 1 : 0)
        out.metric("rtes_build_info", "gauge", "Always 1; the version label is what every RTES executable prints for --version.",
                   [(#"{version="\#(RTESVersion.current)"}"#, "1")])
        out.one("rtes_commands_total", "counter", "Commands the engine processed.", s.engine["commands"] ?? 0)
        out.one("rtes_orders_received_total", "counter", "Enter and replace messages that reached the engine.", s.engine["orders_received"] ?? 0)
        out.one("rtes_orders_accepted_total", "counter", "Orders accepted.", s.engine["orders_accepted"] ?? 0)
        out.metric("rtes_orders_rejected_total", "counter",
               "Orders, replaces, cancels and modifies rejected, by reason (risk, matching and gateway checks).",
               s.rejectsByReason.map { (#"{reason="\#($0.reason)"}"#, String($0.count)) })
        out.one("rtes_order_rejects_total", "counter",
                "Enter Order and Replace messages rejected, every reason, the gateway's refusals included (cancels and modifies are not), plus messages answered at once because the ring to the engine was full.",
                (s.engine["rejects"] ?? 0) &+ (s.gateway["backpressure_rejects"] ?? 0))
        out.one("rtes_trades_total", "counter", "Executions (one per fill).", s.engine["trades"] ?? 0)
        out.one("rtes_shares_traded_total", "counter", "Shares executed.", s.engine["shares_traded"] ?? 0)
        out.one("rtes_events_total", "counter", "Events the engine emitted.", s.engine["events"] ?? 0)
        latencyHistogram(s, into: &out)
        out.one("rtes_active_connections", "gauge", "Order-entry TCP connections open.", s.gateway["active_connections"] ?? 0)
        out.one("rtes_gateway_sessions_active", "gauge", "Accounts logged in.", s.gateway["active_sessions"] ?? 0)
        out.one("rtes_gateway_listening", "gauge", "1 while the order gateway accepts connections.", s.gateway["listening"] ?? 0)
        out.one("rtes_gateway_connections_total", "counter", "Connections accepted.", s.gateway["accepted_connections"] ?? 0)
        out.metric("rtes_gateway_disconnects_total", "counter", "Connections closed, by reason (docs/GATEWAY.md).",
               s.disconnectsByReason.map { (#"{reason="\#($0.reason)"}"#, String($0.count)) })
        out.metric("rtes_gateway_logins_total", "counter", "Login Requests by outcome.",
               [(#"{outcome="accepted"}"#, String(s.gateway["logins_accepted"] ?? 0)),
                (#"{outcome="not_authorized"}"#, String(s.gateway["logins_rejected_not_authorized"] ?? 0)),
                (#"{outcome="session_not_available"}"#, String(s.gateway["logins_rejected_session"] ?? 0))])
        out.one("rtes_gateway_packets_in_total", "counter", "SoupBinTCP packets received from clients.", s.gateway["messages_in"] ?? 0)
        out.one("rtes_gateway_messages_out_total", "counter", "Sequenced messages written to sessions.", s.gateway["messages_out"] ?? 0)
        out.one("rtes_gateway_bytes_in_total", "counter", "Bytes received from clients.", s.gateway["bytes_in"] ?? 0)
        out.one("rtes_gateway_bytes_out_total", "counter", "Bytes sent to clients.", s.gateway["bytes_out"] ?? 0)
        out.one("rtes_gateway_phase_commands_total", "counter",
                "Phase commands sent to the engine (the trading day's schedule, operators' halts and resumes).", s.gateway["phase_commands"] ?? 0)
        out.one("rtes_gateway_operator_commands_total", "counter",
                "Other commands operators sent to the engine through the admin plane (kill switches, reinstatements, mass cancels, "
                    + "start and end of day, notes of who and why).", s.gateway["operator_commands"] ?? 0)
        out.one("rtes_gateway_protocol_errors_total", "counter", "Disconnects for protocol violations.", s.gateway["protocol_errors"] ?? 0)
        out.one("rtes_gateway_replayed_messages_total", "counter", "Sequenced messages sent again on re-login.", s.gateway["replayed_messages"] ?? 0)
        out.one("rtes_gateway_heartbeats_sent_total", "counter", "Server Heartbeats sent.", s.gateway["heartbeats_sent"] ?? 0)
        out.one("rtes_gateway_receive_buffers_exhausted_total", "counter", "Times every receive buffer was in use.",
            s.gateway["receive_buffers_exhausted"] ?? 0)
        out.one("rtes_gateway_send_queue_peak_bytes", "gauge", "Most unsent bytes any connection has had.", s.gateway["send_queue_peak_bytes"] ?? 0)
        out.one("rtes_gateway_unrouted_events_total", "counter", "Order events for clients that are not gateway accounts (demo flow).",
            s.gateway["unrouted_events"] ?? 0)
        out.one("rtes_gateway_submit_failures_total", "counter", "Failed io_uring submissions.", s.gateway["submit_failures"] ?? 0)
        out.one("rtes_gateway_accept_errors_total", "counter", "Accepts that failed (client gone first, out of descriptors).",
            s.gateway["accept_errors"] ?? 0)
        out.one("rtes_gateway_logins_busy_total", "counter", "Logins rejected at once: the ring to the authenticator was full.",
            s.gateway["logins_rejected_busy"] ?? 0)
        out.one("rtes_gateway_input_holds_total", "counter", "Connections whose input waited for room in the ring to the engine (durability async/sync).",
            s.gateway["input_holds"] ?? 0)
        out.one("rtes_gateway_archive_sessions_total", "counter", "Logins older than the session history served from the journal archive.",
            s.gateway["archive_sessions"] ?? 0)
        out.one("rtes_gateway_archive_requests_total", "counter", "Chunks asked of the journal archive.", s.gateway["archive_requests"] ?? 0)
        out.one("rtes_gateway_archive_messages_total", "counter", "Messages sent from the journal archive.", s.gateway["archive_messages"] ?? 0)
        out.one("rtes_gateway_archive_refusals_total", "counter", "Logins refused: the journal archive was busy (the session's earlier request, or every chunk).",
            s.gateway["archive_refusals"] ?? 0)
        out.one("rtes_gateway_archive_failures_total", "counter", "Journal archive requests that failed (the session was closed, journal_archive).",
            s.gateway["archive_failures"] ?? 0)
        out.one("rtes_fix_connections_total", "counter", "FIX connections accepted on fix.port.", s.gateway["fix_connections_accepted"] ?? 0)
        out.one("rtes_fix_connections_refused_total", "counter", "FIX connections closed at once: table or pre-login share full.",
            s.gateway["fix_connections_refused"] ?? 0)
        out.one("rtes_fix_active_connections", "gauge", "FIX connections open.", s.gateway["fix_active_connections"] ?? 0)
        out.one("rtes_fix_logons_total", "counter", "FIX Logons accepted.", s.gateway["fix_logons"] ?? 0)
        out.one("rtes_fix_messages_in_total", "counter", "Whole FIX messages received.", s.gateway["fix_messages_in"] ?? 0)
        out.one("rtes_fix_messages_out_total", "counter", "FIX application messages written to sessions.", s.gateway["fix_messages_out"] ?? 0)
        out.one("rtes_fix_disconnects_total", "counter", "FIX connections closed (by reason in rtes_gateway_disconnects_total).",
            s.gateway["fix_disconnects"] ?? 0)
        out.one("rtes_fix_drop_copy_connections_total", "counter", "Connections accepted on fix.drop_copy_port.",
            s.gateway["drop_copy_connections_accepted"] ?? 0)
        out.one("rtes_fix_drop_copy_logons_total", "counter", "Drop-copy Logons accepted.", s.gateway["drop_copy_logons"] ?? 0)
        out.one("rtes_fix_drop_copy_active_sessions", "gauge", "Drop-copy sessions logged on.", s.gateway["drop_copy_active_sessions"] ?? 0)
        out.one("rtes_fix_drop_copy_messages_out_total", "counter", "ExecutionReports written to drop-copy sessions (logged on or not).",
            s.gateway["drop_copy_messages_out"] ?? 0)
        out.one("rtes_fix_drop_copy_rejects_total", "counter", "Application messages sent on the drop copy, refused with BusinessMessageReject.",
            s.gateway["drop_copy_rejects"] ?? 0)
        out.one("rtes_fix_drop_copy_untracked_total", "counter", "Drop-copy reports of orders beyond fix.drop_copy_orders (event fields only).",
            s.gateway["drop_copy_untracked"] ?? 0)
        out.one("rtes_engine_journal_full_total", "counter", "Engine turns that took no command: the journal's ring was full (durability async/sync).",
            s.engineJournalFull)
        let auth = s.block("auth")
        out.metric("rtes_auth_logins_total", "counter", "Logins the authenticator decided, by outcome (docs/GATEWAY.md, \"Logins\").",
               ["accepted", "not_authorized", "throttled", "locked_out"].map { (#"{outcome="\#($0)"}"#, String(auth?[$0] ?? 0)) })
        out.one("rtes_auth_lockouts_total", "counter", "Accounts or source addresses locked out.", auth?["lockouts"] ?? 0)
        out.one("rtes_auth_verifications_total", "counter", "scrypt password checks made.", auth?["verifications"] ?? 0)
        out.one("rtes_auth_cache_hits_total", "counter", "Logins accepted from the cache of verified credentials.", auth?["cache_hits"] ?? 0)
        out.one("rtes_auth_delayed_answers", "gauge", "Login answers held until a backoff ends.", auth?["delayed_answers"] ?? 0)
        out.one("rtes_auth_tracked_addresses", "gauge", "Source addresses with failed logins remembered.", auth?["tracked_addresses"] ?? 0)
        out.one("rtes_auth_address_evictions_total", "counter", "Remembered addresses dropped to make room.", auth?["address_evictions"] ?? 0)
        out.one("rtes_auth_answers_dropped_total", "counter", "Login answers dropped: answer ring and held list full.",
            auth?["answers_dropped"] ?? 0)
        out.one("rtes_auth_reject_notices_dropped_total", "counter",
            "Rejected order messages left out of the debug log: the ring of reject notices was full.", auth?["reject_notices_dropped"] ?? 0)
        out.metric("rtes_auth_worst_check_seconds", "gauge", "Longest single password check.",
               [("", number(Double(auth?["worst_check_ns"] ?? 0) / 1e9))])
        out.one("rtes_order_pool_used", "gauge", "Orders resting in the book.", s.engine["resting_orders"] ?? 0)
        out.one("rtes_order_pool_capacity", "gauge", "Orders that can rest at once.", s.poolCapacity)
        out.metric("rtes_queue_depth", "gauge", "Messages waiting in each ring.",
               s.rings.map { (#"{ring="\#($0.slot.metricName)"}"#, String($0.depth)) })
        out.metric("rtes_ring_full_total", "counter", "Times a producer found its ring full: on commands the gateway refused the message (system_busy); on the others the producer waited. Nothing is dropped.",
               s.rings.map { (#"{ring="\#($0.slot.metricName)"}"#, String($0.full)) })
        out.metric("rtes_agent_max_duty_cycle_seconds", "gauge", "Longest single doWork() of each agent since start.",
               s.agents.map { (#"{agent="\#($0.slot.metricName)"}"#, number($0.maxDutyCycleSeconds)) })
        out.metric("rtes_agent_heartbeat_total", "counter", "Loop iterations of each agent (advances while it runs).",
               s.agents.map { (#"{agent="\#($0.slot.metricName)"}"#, String($0.heartbeat)) })
        MarketDataMetrics.render(s, into: &out)
        if s.block("replication") != nil { renderReplication(s, into: &out) }
        return out.text
    }

    /// Block `replication` (docs/FAILOVER.md): each cell as `rtes_replication_<name>`, counters
    /// with `_total`, with the help its descriptor gives.
    static func renderReplication(_ s: CountersSnapshot, into out: inout PrometheusText) {
        guard let block = s.block("replication") else { return }
        for descriptor in ReplicationCounters.block.counters {
            let value = block[descriptor.name] ?? 0
            let counter = descriptor.kind == .counter
            out.one("rtes_replication_\(descriptor.name)\(counter ? "_total" : "")", counter ? "counter" : "gauge", descriptor.help, value)
        }
    }

    /// `rtes_order_latency_seconds` as a Prometheus histogram, cumulative since start, from
    /// the engine's log-linear histogram: an engine bucket counts toward `le` when every value
    /// it holds is at most `le` (so a bucket's count may show one bound late, never early).
    static func latencyHistogram(_ s: CountersSnapshot, into out: inout PrometheusText) {
        let histogram = s.latency
        let ticks = Double(max(1, s.ticksPerSecond))
        var samples: [(labels: String, value: String)] = []
        var bucket = 0
        var cumulative: UInt64 = 0
        for bound in latencyBounds {
            let limit = bound * ticks
            while bucket < histogram.buckets.count && Double(LatencyHistogram.lowerBound(of: bucket + 1)) - 1 <= limit {
                cumulative &+= histogram.buckets[bucket]
                bucket += 1
            }
            samples.append((#"_bucket{le="\#(bound)"}"#, String(cumulative)))
        }
        let total = histogram.buckets.reduce(0, &+)
        samples.append((#"_bucket{le="+Inf"}"#, String(total)))
        samples.append(("_sum", PrometheusText.number(Double(histogram.sum) / ticks)))
        samples.append(("_count", String(total)))
        out.metric("rtes_order_latency_seconds", "histogram",
                   "Time from a command entering the engine's ring to the end of its processing (Enter, Replace, Cancel, Modify).",
                   samples)
    }
}
