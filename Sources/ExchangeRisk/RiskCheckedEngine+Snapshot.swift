import ExchangeCore

// The risk layer's state beside the engine's in a snapshot: the kill switches and each
// client's rate bucket (its running state), with the limits they were checked against.
// Open notional is the core's (recomputed from the orders on restore), so it is not here.
//
// Risk section, version 1 (little-endian):
//
// ```
// u64 magic "RTESRISK"   u32 version   u32 max clients
// limits: u32 max order shares, u64 max open notional, u32 max orders per second, u8 price collars
// u8 exchange killed
// per client (0 ..< max clients): u8 killed, u64 rate bucket units, u64 last refill,
//   u32 max order shares, u32 max orders per second, u64 max open notional
// u64 risk hash (the risk state alone); u64 end magic "RTESREND"
// ```

extension RiskCheckedEngine {
    /// The risk section's format version this build writes and reads.
    public static let riskSnapshotVersion: UInt32 = 1

    /// Writes the engine section (`MatchingEngine.writeSnapshot`).
    public func writeEngineSnapshot(chunkBytes: Int = 1 << 16, to sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        try engine.writeSnapshot(chunkBytes: chunkBytes, to: sink)
    }

    /// Writes the risk section. Taken at the same command boundary as the engine section.
    public func writeRiskSnapshot(to sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        guard engine.isIdle, engine.events.isEmpty else {
            throw EngineSnapshotError.notAtCommandBoundary("a command is in progress or its events are not drained")
        }
        let checks = self.checks
        try withoutActuallyEscaping(sink) { sink in
            var e = SnapshotEncoder(sink: sink)
            try checks.encodeSnapshot(into: &e)
            try e.flush()
        }
    }

    /// Restores both sections into this engine, which must be fresh and configured (limits
    /// included, per client too) as the one that took them. The risk section is checked
    /// in full before anything changes; a refused engine section leaves the engine fresh.
    public mutating func restoreSnapshot(engine engineBytes: UnsafeRawBufferPointer, risk riskBytes: UnsafeRawBufferPointer) throws(EngineSnapshotError) {
        let risk = try checks.decodeSnapshot(riskBytes)
        try engine.restoreSnapshot(from: engineBytes)
        checks.apply(risk)
    }

    /// The state hash of the engine and the risk layer together (`MatchingEngine.stateHash`
    /// for what the engine's covers): kill switches, rate buckets and limits.
    public func stateHash() -> UInt64 {
        var h = StateHasher()
        h.combine(engine.stateHash())
        checks.hashState(into: &h)
        return h.finalize()
    }
}

/// A risk section read and checked, not yet applied.
struct RiskSnapshot {
    var exchangeKilled: Bool
    var killed: [Bool]
    var buckets: [RateBucket]
}

extension RiskChecks {
    static let snapshotMagic: UInt64 = 0x4B53_4952_5345_5452  // "RTESRISK" little-endian
    static let snapshotEndMagic: UInt64 = 0x444E_4552_5345_5452  // "RTESREND" little-endian

    func encodeSnapshot(into e: inout SnapshotEncoder) throws {
        try e.u64(Self.snapshotMagic)
        try e.u32(RiskCheckedEngine.riskSnapshotVersion)
        try e.u32(maxClients)
        try e.u32(limits.maxOrderShares)
        try e.u64(limits.maxOpenNotional)
        try e.u32(limits.maxOrdersPerSecond)
        try e.bool(limits.priceCollarsEnabled)
        try e.bool(exchangeKilled)
        for client in 0..<Int(maxClients) {
            try e.bool(killed[client])
            try e.u64(buckets[client].units)
            try e.u64(buckets[client].lastRefill)
            try e.u32(clientLimits[client].maxOrderShares)
            try e.u32(clientLimits[client].maxOrdersPerSecond)
            try e.u64(clientLimits[client].maxOpenNotional)
        }
        var h = StateHasher()
        hashState(into: &h)
        try e.u64(h.finalize())
        try e.u64(Self.snapshotEndMagic)
    }

    func hashState(into h: inout StateHasher) {
        hashState(into: &h, exchangeKilled: exchangeKilled, killed: { killed[$0] }, bucket: { buckets[$0] })
    }

    /// The one definition of the risk state's hash, for the live state and a section read.
    func hashState(into h: inout StateHasher, exchangeKilled: Bool, killed: (Int) -> Bool, bucket: (Int) -> RateBucket) {
        h.combine(UInt64(maxClients))
        h.combine(exchangeKilled)
        h.combine(UInt64(limits.maxOrderShares) << 32 | UInt64(limits.maxOrdersPerSecond))
        h.combine(limits.maxOpenNotional)
        h.combine(limits.priceCollarsEnabled)
        for client in 0..<Int(maxClients) {
            let b = bucket(client)
            h.combine(killed(client))
            h.combine(b.units)
            h.combine(b.lastRefill)
            h.combine(UInt64(clientLimits[client].maxOrderShares) << 32 | UInt64(clientLimits[client].maxOrdersPerSecond))
            h.combine(clientLimits[client].maxOpenNotional)
        }
    }

    /// Reads and checks a risk section against this layer's configuration, changing nothing.
    func decodeSnapshot(_ bytes: UnsafeRawBufferPointer) throws(EngineSnapshotError) -> RiskSnapshot {
        var d = SnapshotDecoder(bytes)
        guard try d.u64("the magic number") == Self.snapshotMagic else {
            throw .notASnapshot("the risk section does not start with RTESRISK")
        }
        let version = try d.u32("the format version")
        guard version == RiskCheckedEngine.riskSnapshotVersion else {
            throw .unsupportedVersion(found: version, supported: RiskCheckedEngine.riskSnapshotVersion)
        }
        let clients = try d.u32("max clients")
        guard clients == maxClients else { throw .configurationMismatch("the risk section has \(clients) clients, this engine \(maxClients)") }
        let taken = RiskLimits(
            maxOrderShares: try d.u32("the max order size"), maxOpenNotional: try d.u64("the max open notional"),
            maxOrdersPerSecond: try d.u32("the max orders per second"), priceCollarsEnabled: try d.bool("the price collar flag"))
        guard taken == limits else { throw .configurationMismatch("the snapshot's risk limits are \(taken), this engine's \(limits)") }
        var snapshot = RiskSnapshot(exchangeKilled: try d.bool("the exchange kill switch"), killed: [], buckets: [])
        snapshot.killed.reserveCapacity(Int(clients))
        snapshot.buckets.reserveCapacity(Int(clients))
        for client in 0..<Int(clients) {
            let killed = try d.bool("a client kill switch")
            let bucket = RateBucket(units: try d.u64("a rate bucket"), lastRefill: try d.u64("a rate bucket's refill time"))
            let own = ClientLimits(
                maxOrderShares: try d.u32("a client's max order size"), maxOpenNotional: 0,
                maxOrdersPerSecond: try d.u32("a client's max orders per second"))
            let notional = try d.u64("a client's max open notional")
            let mine = clientLimits[client]
            guard own.maxOrderShares == mine.maxOrderShares, own.maxOrdersPerSecond == mine.maxOrdersPerSecond,
                  notional == mine.maxOpenNotional else {
                throw .configurationMismatch("client \(client)'s limits differ from the snapshot's (size \(own.maxOrderShares), "
                    + "\(own.maxOrdersPerSecond)/s, notional \(notional) there; size \(mine.maxOrderShares), "
                    + "\(mine.maxOrdersPerSecond)/s, notional \(mine.maxOpenNotional) here)")
            }
            guard bucket.units <= UInt64(mine.maxOrdersPerSecond) &* PriceScale.nanosecondsPerSecond else {
                throw .damaged("client \(client)'s rate bucket holds \(bucket.units) units, more than its capacity")
            }
            snapshot.killed.append(killed)
            snapshot.buckets.append(bucket)
        }
        let recorded = try d.u64("the risk hash")
        guard try d.u64("the end magic number") == Self.snapshotEndMagic else { throw .damaged("the risk section does not end with RTESREND") }
        try d.expectEnd()
        var h = StateHasher()
        hashState(into: &h, exchangeKilled: snapshot.exchangeKilled, killed: { snapshot.killed[$0] }, bucket: { snapshot.buckets[$0] })
        guard h.finalize() == recorded else { throw .damaged("the risk section's state does not hash to the hash it recorded") }
        return snapshot
    }

    /// Applies a checked risk section.
    mutating func apply(_ snapshot: RiskSnapshot) {
        exchangeKilled = snapshot.exchangeKilled
        for client in 0..<Int(maxClients) {
            killed[client] = snapshot.killed[client]
            buckets[client] = snapshot.buckets[client]
        }
    }
}
