import ExchangeConfig
import ExchangeCore
import ExchangeRuntime
import ExchangeTLS
import ExchangeWire

// What the order gateway takes from the heap at start, besides its region
// (`GatewayLayout`), its io_uring rings and the FIX port (`FIXMemory`): the memory plan
// (`trading_exchange --check`) counts it.
extension GatewayAgent {
    /// The order-entry connection table's configuration. Connections not yet logged in never
    /// take the slots every account's session needs (an account has at most one): logged-in
    /// sessions are never starved.
    static func tableConfiguration(settings: GatewaySettings, accounts: Int, preLoginConnections: Int?, noDelay: Bool)
        -> ConnectionTable<Connection>.Configuration {
        let preLoginShare = settings.maxPreLoginConnections > 0
            ? min(settings.maxPreLoginConnections, max(1, settings.maxConnections - accounts)) : nil
        return ConnectionTable<Connection>.Configuration(
            capacity: settings.maxConnections,
            preLoginLimit: preLoginConnections ?? preLoginShare,
            preLoginPerAddressLimit: settings.maxPreLoginPerAddress > 0 ? settings.maxPreLoginPerAddress : nil,
            receiveBufferCount: settings.receiveBufferCount, receiveBufferSize: settings.receiveBufferSize,
            bufferGroup: 1, tagBase: 1, noDelay: noDelay)
    }

    /// The heap `init` allocates for order entry: the connection table, per connection a
    /// SoupBinTCP frame reader (with its packet buffer), room for held input and its slot
    /// lists; with `gateway.tls` on, the TLS session table (per connection the ciphertext
    /// buffer; OpenSSL's own per-session state, made at each handshake, is not counted); per
    /// account its book entries; and the fixed scratch (completions, counters, symbols).
    public static func heapBytes(settings: GatewaySettings, accounts: Int, symbols: Int, tls: Bool) -> Int {
        let n = settings.maxConnections
        var bytes = ConnectionTable<Connection>.heapBytes(
            configuration: tableConfiguration(settings: settings, accounts: accounts, preLoginConnections: nil, noDelay: true))
        bytes += n * (MemoryLayout<SoupFrameReader>.stride + GatewayLayout.maximumInboundPacket)
        bytes += n * heldInputCapacity(receiveBufferSize: settings.receiveBufferSize)
        bytes += 3 * n * MemoryLayout<Int32>.stride  // dirty slots (two per connection) and held slots
        if tls { bytes += TLSSessionTable.heapBytes(capacity: n, plaintextBytes: settings.receiveBufferSize) }
        bytes += AccountBook.heapBytes(accounts: accounts)
        bytes += completionBatch * MemoryLayout<Completion>.stride + 512 + symbols * MemoryLayout<Symbol>.stride
        bytes += 2 * GatewayCounters.block.cellCount * MemoryLayout<UInt64>.stride
        return bytes
    }
}
