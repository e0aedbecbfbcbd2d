import ExchangeRuntime

/// The market-data publisher's Prometheus metrics, from the counters snapshot's
/// `marketData` cells (the `market_data` block, `MarketDataCounters.block` in ExchangeMarketData).
public enum MarketDataMetrics {
    static func render(_ s: CountersSnapshot, into out: inout PrometheusText) {
        let m = s.marketData
        func one(_ name: String, _ type: String, _ help: String, _ key: String) { out.one(name, type, help, m[key] ?? 0) }
        func metric(_ name: String, _ type: String, _ help: String, _ samples: [(labels: String, value: String)]) {
            out.metric(name, type, help, samples)
        }
        func outcomes(_ keys: [(String, String)]) -> [(labels: String, value: String)] {
            keys.map { (#"{outcome="\#($0.0)"}"#, String(m[$0.1] ?? 0)) }
        }
        one("rtes_md_messages_total", "counter", "ITCH messages published on the multicast feed.", "messages")
        one("rtes_md_packets_total", "counter", "MoldUDP64 packets published (heartbeats and End of Session included).", "packets")
        one("rtes_md_bytes_total", "counter", "MoldUDP64 bytes published (UDP payload).", "bytes")
        one("rtes_md_heartbeats_total", "counter", "Heartbeat packets sent after a second of silence.", "heartbeats")
        one("rtes_md_next_sequence", "gauge", "Sequence number the next ITCH message gets.", "next_sequence")
        one("rtes_md_events_total", "counter", "Book events consumed from the engine.", "events")
        one("rtes_md_send_errors_total", "counter", "Sends the kernel failed (receivers recover them by re-request).", "send_errors")
        one("rtes_md_backpressure_total", "counter", "Times every packet slot was in flight and events waited on the ring.", "backpressure")
        one("rtes_md_replica_mismatches_total", "counter", "Book events the snapshot replica disagreed with (0 unless there is a bug).",
            "replica_mismatches")
        one("rtes_md_resting_orders", "gauge", "Displayed orders on the replica's books.", "resting_orders")
        one("rtes_md_history_oldest_sequence", "gauge", "Oldest sequence number the re-request server can resend.", "history_oldest")
        metric("rtes_md_retransmit_requests_total", "counter", "MoldUDP64 re-requests by outcome.",
               outcomes([("answered", "retransmit_answered"), ("malformed", "retransmit_malformed"),
                         ("wrong_session", "retransmit_wrong_session"), ("rate_limited", "retransmit_rate_limited"),
                         ("before_history", "retransmit_before_history"), ("not_yet_published", "retransmit_not_yet_published"),
                         ("answer_dropped", "retransmit_answer_dropped")]))
        one("rtes_md_retransmit_messages_total", "counter", "Messages resent in re-request answers.", "retransmit_messages")
        metric("rtes_md_retransmit_archive_total", "counter", "Re-requests older than the history handed to the journal archive, by outcome.",
               outcomes([("requested", "retransmit_archive_requests"), ("answered", "retransmit_archive_answered"),
                         ("refused", "retransmit_archive_refused"), ("failed", "retransmit_archive_failures")]))
        one("rtes_md_retransmit_archive_messages_total", "counter", "Messages answered from the journal archive.", "retransmit_archive_messages")
        metric("rtes_md_snapshot_connections_total", "counter", "Snapshot service connections by outcome.",
               outcomes([("served", "snapshots_served"), ("login_rejected", "snapshot_logins_rejected"),
                         ("protocol_error", "snapshot_protocol_errors"), ("timed_out", "snapshot_timeouts"),
                         ("refused", "snapshot_refused"), ("stalled", "snapshot_stalled")]))
        one("rtes_md_snapshot_connections_accepted_total", "counter", "Snapshot service connections accepted.", "snapshot_connections")
        one("rtes_md_snapshot_connections_open", "gauge", "Snapshot service connections open.", "snapshot_connections_open")
        one("rtes_md_snapshot_bytes_total", "counter", "Snapshot bytes sent.", "snapshot_bytes")
        one("rtes_md_snapshot_tls_failures_total", "counter",
            "Snapshot connections closed because their TLS failed: handshake refused, not TLS, or a bad record (market_data.snapshot_tls on).",
            "snapshot_tls_failures")
        one("rtes_md_snapshot_chunks_total", "counter", "Snapshot chunks encoded (one per duty cycle at most).", "snapshot_chunks")
        one("rtes_md_snapshot_turn_work_max", "gauge",
            "Most snapshot work one duty cycle did (chunk units or catch-up messages; at most snapshot_work_per_turn).",
            "snapshot_max_turn_work")
        one("rtes_md_snapshot_chunk_max_bytes", "gauge", "Largest snapshot chunk in bytes.", "snapshot_max_chunk_bytes")
        one("rtes_md_snapshot_catch_up_messages_total", "counter", "Messages the snapshot copy of the books applied from the history.",
            "snapshot_catch_up_messages")
        one("rtes_md_snapshot_replica_rebuilds_total", "counter", "Times the snapshot copy fell behind the history and was copied from the live replica.",
            "snapshot_replica_rebuilds")
        one("rtes_md_snapshot_replica_mismatches_total", "counter", "Messages the snapshot copy of the books disagreed with (0).",
            "snapshot_replica_mismatches")
        let ticks = Double(max(1, s.ticksPerSecond))
        out.metric("rtes_md_snapshot_build_max_seconds", "gauge", "Longest duty cycle of snapshot work (a chunk or a catch-up).",
                   [("", PrometheusText.number(Double(m["worst_snapshot_build_ticks"] ?? 0) / ticks))])
    }
}
