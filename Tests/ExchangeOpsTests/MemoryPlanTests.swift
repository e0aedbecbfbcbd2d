import ExchangeConfig
@testable import ExchangeOps
import ExchangeTestRig
import Foundation
import Testing

/// The memory `--check` prints is what start-up maps: both come from `MemoryPlan`.
@Suite(.serialized) struct MemoryPlanTests {
    @Test func theRegionsAnApplianceMapsAreThePlansRegions() throws {
        let knobs = ExchangeKnobs(demoFlowRate: 0)
        let configuration = try ConfigurationLoader.load(json: knobs.json, source: "knobs.json", environment: [:], host: .current()).configuration
        let plan = MemoryPlan(configuration, accounts: devKeys.accounts.count)
        let exchange = try TestExchange(knobs)
        let mapped = exchange.appliance.regionSizes
        _ = exchange.drain()
        let planned = plan.parts.filter(\.isRegion)
        #expect(mapped.map(\.name) == planned.map(\.name))
        #expect(mapped.map(\.requested) == planned.map(\.bytes))
        #expect(mapped.reduce(0) { $0 + $1.requested } == plan.regionBytes)
        #expect(mapped.allSatisfy { $0.mapped >= $0.requested })
        #expect(plan.regionBytes > 0 && plan.totalBytes > plan.regionBytes)
        #expect(plan.summary.hasPrefix("memory: ") && plan.summary.contains("(\(plan.totalBytes) bytes"))
    }

    @Test func thePlanCountsTheRingsTheKernelMapsAndMarketDatasHeap() throws {
        func plan(_ json: String) throws -> MemoryPlan {
            MemoryPlan(try ConfigurationLoader.load(json: json, source: "t.json", environment: [:], host: HostFacts(cpuCount: 2)).configuration,
                       accounts: 4)
        }
        let symbols = #""symbols": [{"symbol": "AAPL", "reference_price": 150}]"#
        let on = try plan("{\(symbols)}")
        let off = try plan(#"{\#(symbols), "market_data": {"enabled": false}}"#)
        let bigger = try plan(#"{\#(symbols), "performance": {"order_pool_size": 2000000}, "gateway": {"max_connections": 2048}}"#)
        for name in ["gateway_io_uring", "gateway_buffer_ring", "market_data_heap", "market_data_io_uring", "market_data_buffer_ring",
                     "login_rings"] {
            #expect(on.bytes(of: name) > 0, "\(name)")
            #expect(on.parts.first { $0.name == name }?.isRegion == false, "\(name) is no region of the appliance's")
            #expect(on.summary.contains("\(name) "))
        }
        // Kernel mappings are whole pages.
        #expect(on.bytes(of: "gateway_io_uring") % 4_096 == 0 && on.bytes(of: "market_data_io_uring") % 4_096 == 0)
        #expect(off.bytes(of: "market_data_heap") == 0 && off.bytes(of: "market_data_io_uring") == 0)
        #expect(off.bytes(of: "gateway_io_uring") == on.bytes(of: "gateway_io_uring"))
        #expect(off.bytes(of: "login_rings") < on.bytes(of: "login_rings"))  // no snapshot service's channel
        // Market data's heap holds two copies of the books (the publisher's, the snapshot service's).
        #expect(bigger.bytes(of: "market_data_heap") > on.bytes(of: "market_data_heap"))
        #expect(bigger.bytes(of: "gateway_io_uring") > on.bytes(of: "gateway_io_uring"))
        #expect(on.totalBytes - off.totalBytes >= on.bytes(of: "market_data_heap") + on.bytes(of: "market_data_io_uring"))
    }

    /// A journaling mode adds the engine's ring to the journal agent (a region) and the agent's
    /// two write buffers (heap), sized by `durability.ring_capacity` and `group_commit_max_bytes`.
    @Test func aJournalingModeCountsTheJournalRingAndBuffers() throws {
        func plan(_ durability: String) throws -> MemoryPlan {
            let json = #"{"symbols": [{"symbol": "AAPL", "reference_price": 150}], "durability": \#(durability)}"#
            return MemoryPlan(try ConfigurationLoader.load(json: json, source: "t.json", environment: [:], host: HostFacts(cpuCount: 2))
                .configuration, accounts: 4)
        }
        let none = try plan("{}")
        let sync = try plan(#"{"mode": "sync", "ring_capacity": 65536, "group_commit_max_bytes": 1048576}"#)
        let bigger = try plan(#"{"mode": "async", "ring_capacity": 262144, "group_commit_max_bytes": 4194304}"#)
        #expect(none.bytes(of: "ring_journal") == 0 && none.bytes(of: "journal_buffers") == 0)
        #expect(sync.parts.first { $0.name == "ring_journal" }?.isRegion == true)
        #expect(sync.parts.first { $0.name == "journal_buffers" }?.isRegion == false)
        #expect(sync.bytes(of: "ring_journal") >= 65_536 * 64 && sync.bytes(of: "journal_buffers") >= 2 * 1_048_576)
        #expect(bigger.bytes(of: "ring_journal") > sync.bytes(of: "ring_journal"))
        #expect(bigger.bytes(of: "journal_buffers") > sync.bytes(of: "journal_buffers"))
        // And the journal archive (a scratch engine, chunks) and the snapshot agent's replica (a
        // second engine): each at least an engine, heap, only with a journal.
        let engine = sync.bytes(of: "engine")
        #expect(none.bytes(of: "journal_archive") == 0 && none.bytes(of: "snapshot_replica") == 0)
        #expect(sync.bytes(of: "journal_archive") > engine + 4 * 262_144, "an engine and 4 chunks of 256 KiB at the defaults")
        #expect(sync.bytes(of: "snapshot_replica") > engine)
        #expect(sync.parts.filter { ["journal_archive", "snapshot_replica"].contains($0.name) }.allSatisfy { !$0.isRegion })
        #expect(sync.totalBytes - none.totalBytes == sync.bytes(of: "ring_journal") + sync.bytes(of: "journal_buffers")
            + sync.bytes(of: "journal_archive") + sync.bytes(of: "snapshot_replica"))
        let chunks = try plan(#"{"mode": "sync", "archive_max_requests": 8, "archive_chunk_bytes": 1048576}"#)
        #expect(chunks.bytes(of: "journal_archive") - sync.bytes(of: "journal_archive") >= 8 * 1_048_576 - 4 * 262_144)
    }

    @Test func thePlanGrowsWithWhatTheConfigurationAsksFor() throws {
        func plan(_ performance: String) throws -> MemoryPlan {
            let json = #"{"symbols": [{"symbol": "AAPL", "reference_price": 150}], "performance": \#(performance)}"#
            return MemoryPlan(try ConfigurationLoader.load(json: json, source: "t.json", environment: [:], host: HostFacts(cpuCount: 2)).configuration,
                              accounts: 4)
        }
        let small = try plan(#"{"order_pool_size": 1000, "queue_capacity": 1024}"#)
        let pool = try plan(#"{"order_pool_size": 100000, "queue_capacity": 1024}"#)
        let rings = try plan(#"{"order_pool_size": 1000, "queue_capacity": 65536}"#)
        #expect(pool.bytes(of: "engine") > small.bytes(of: "engine"))
        #expect(pool.bytes(of: "ring_commands") == small.bytes(of: "ring_commands"))
        #expect(rings.bytes(of: "ring_commands") > small.bytes(of: "ring_commands"))
        #expect(rings.bytes(of: "ring_control") > small.bytes(of: "ring_control"))  // 4096 at most: 1024 → 4096
        #expect(rings.bytes(of: "ring_control") < rings.bytes(of: "ring_commands"))
    }
}

extension MemoryPlanTests {
    /// The order gateway's heap: per connection its frame reader and held input, and with
    /// gateway.tls on each connection's ciphertext buffer (about 33 KB).
    @Test func thePlanCountsTheGatewaysHeapPerConnectionAndForTLS() throws {
        func plan(_ gateway: String) throws -> MemoryPlan {
            let json = #"{"symbols": [{"symbol": "AAPL", "reference_price": 150}], "gateway": \#(gateway)}"#
            return MemoryPlan(try ConfigurationLoader.load(json: json, source: "t.json", environment: [:], host: HostFacts(cpuCount: 2)).configuration,
                              accounts: 4)
        }
        let small = try plan(#"{"max_connections": 100}"#)
        let large = try plan(#"{"max_connections": 1000}"#)
        let tls = try plan(#"{"max_connections": 1000, "tls": "on"}"#)
        let perConnection = (large.bytes(of: "gateway_heap") - small.bytes(of: "gateway_heap")) / 900
        // A reader's packet buffer (1 KB) and held input (a receive buffer and a packet) at least.
        #expect(perConnection >= 1_024 + 4_096 + 1_024, "\(perConnection) bytes per connection")
        #expect(tls.bytes(of: "gateway_heap") - large.bytes(of: "gateway_heap") >= 1_000 * 2 * (16 * 1_024 + 512))
        #expect(!large.parts.first { $0.name == "gateway_heap" }!.isRegion)
    }

    /// With a FIX port the plan counts its memory (more with drop copies), off the regions.
    @Test func thePlanCountsTheFIXPortAndItsDropCopies() throws {
        func plan(_ json: String, dropCopyAccounts: Int = 0) throws -> MemoryPlan {
            MemoryPlan(try ConfigurationLoader.load(json: json, source: "t.json", environment: [:], host: HostFacts(cpuCount: 2)).configuration,
                       accounts: 4, dropCopyAccounts: dropCopyAccounts)
        }
        let symbols = #""symbols": [{"symbol": "AAPL", "reference_price": 150}]"#
        let without = try plan("{\(symbols)}")
        let fix = try plan(#"{\#(symbols), "fix": {"port": 9878}}"#)
        let dropCopy = try plan(#"{\#(symbols), "fix": {"port": 9878, "drop_copy_port": 9879}}"#, dropCopyAccounts: 2)
        #expect(without.bytes(of: "fix") == 0)
        #expect(fix.bytes(of: "fix") > 4 << 20, "8 sessions of 8,192 stored messages and 65,536 ClOrdIDs each: \(fix.bytes(of: "fix"))")
        #expect(dropCopy.bytes(of: "fix") > fix.bytes(of: "fix"))
        #expect(fix.parts.first { $0.name == "fix" }?.isRegion == false)
        #expect(fix.totalBytes == without.totalBytes + fix.bytes(of: "fix"))
        #expect(fix.summary.contains("fix "))
    }
}
