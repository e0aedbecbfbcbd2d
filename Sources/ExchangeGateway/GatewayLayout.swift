import ExchangeConfig
import ExchangeRuntime

/// The gateway's memory layout and limits (independent of its clock).
public enum GatewayLayout {
    /// Bytes per connection for unsequenced packets (Login Accepted, Debug, Heartbeat, …).
    static let controlBytes = 256
    /// SoupBinTCP packets a client may send are at most this long (length field value): a
    /// Debug packet with up to 1,023 characters of text; anything longer is a malformed frame.
    public static let maximumInboundPacket = 1_024

    /// The memory the gateway needs from its region: session logs, token history, receive
    /// buffers and control buffers.
    public static func requiredBytes(settings: GatewaySettings, accounts: Int) -> Int {
        Regions(settings: settings, accounts: accounts).totalBytes
    }

    /// Submission slots of the gateway's io_uring: a receive and a send per connection can be
    /// prepared in one turn (at least 256, at most 4,096, a power of two).
    public static func ringEntries(settings: GatewaySettings) -> UInt32 {
        var entries: UInt32 = 256
        while entries < UInt32(min(settings.maxConnections * 2, 4_096)) { entries <<= 1 }
        return entries
    }

    /// What the gateway maps for its io_uring and its receive buffers' ring (kernel-shared
    /// memory outside its region; the buffers themselves are in the region).
    public static func ringBytes(settings: GatewaySettings) -> (ioUring: Int, bufferRing: Int) {
        (IOUring.plannedBytes(entries: Int(ringEntries(settings: settings))), ProvidedBuffers.ringBytes(count: settings.receiveBufferCount))
    }

    /// Where each part of the gateway's region starts.
    struct Regions {
        let logs: Int
        let tokens: Int
        let receiveBuffers: Int
        let control: Int
        let totalBytes: Int

        init(settings: GatewaySettings, accounts: Int) {
            func aligned(_ n: Int) -> Int { (n + 4_095) & ~4_095 }
            logs = 0
            let tokensAt = aligned(AccountBook.logMemoryBytes(accounts: accounts, historyMessages: settings.sessionHistoryMessages))
            tokens = tokensAt
            receiveBuffers = tokensAt + aligned(TokenHistory.requiredBytes(capacity: settings.tokenHistory))
            control = receiveBuffers + aligned(settings.receiveBufferCount * settings.receiveBufferSize)
            totalBytes = control + aligned(settings.maxConnections * GatewayLayout.controlBytes)
        }
    }
}
