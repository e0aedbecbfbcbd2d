import ExchangeConfig

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
