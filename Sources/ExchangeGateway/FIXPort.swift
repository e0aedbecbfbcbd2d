import ExchangeClock
import ExchangeConfig
import Glibc
import ExchangeCore
import ExchangeFIX
import ExchangeWire

/// The FIX 4.4 acceptor's memory, allocated once at start (`fix.*` settings): per FIX
/// connection an inbound and an outbound buffer; per FIX session — one for each account that
/// logs on over FIX in the day, at most `fix.max_sessions` — the session layer (`FIXSession`
/// with its resend store) and the application mapping (`FIXApplication` with its ClOrdID
/// table). A session is bound to its account at the account's first Logon and kept for the
/// day, so a reconnect continues its sequence numbers and can ask for what it missed.
/// The connections themselves are the gateway's second `ConnectionTable` (GatewayAgent+FIX.swift).
struct FIXPort {
    /// Logon answers of the authenticator carry FIX slots from here (OUCH slots are below).
    static let loginSlotBase = 1 << 24
    /// The longest FIX message a client may send (bytes); longer: Logout and disconnect.
    static let maximumMessage = 4_096
    static let inboundBytes = 2 * maximumMessage
    /// Room an outbound buffer must have before a message is written into it (the longest
    /// message the session or the mapping writes is well below this).
    static let outboundReserve = 4_096
    static let bodyBytes = 1_024
    static let storeSlotBytes = 512
    /// Token numbers one process's sessions may use each (`fix.max_cl_ord_ids` is below it):
    /// a process's tokens are `FX` and start second × this + the ClOrdID's entry.
    static let tokensPerStart = 10_000_000

    /// The ExecID prefix of `account`'s session: unique per account and process start.
    func execIDPrefix(account: Int) -> UInt64 { startSecond &* 100_000 &+ UInt64(account &+ 1) }

    let capacity: Int
    let sessionCapacity: Int
    // The drop copy (`fix.drop_copy_port`, GatewayAgent+DropCopy.swift): one session per
    // account entitled to it (`drop_copy` in the keys file), bound at start, after the order
    // entry's sessions in `sessions` (index `sessionCapacity + n`), so that the transport,
    // the timers and the journal's `outbound` facts treat it as any FIX session.
    /// Facts of drop-copy sessions name client `dropCopyClientBase + account`.
    static let dropCopyClientBase: ClientID = 1 << 30
    let dropCopyOn: Bool
    /// Drop-copy sessions (entitled accounts; 0 without a drop-copy port).
    let dropCount: Int
    /// Per account: its own drop-copy session (an index of `sessions`), -1 not entitled.
    let dropSessionOfAccount: UnsafeMutablePointer<Int32>
    /// Per account: where the drop-copy sessions of its firm are listed in `dropFan`, and how many.
    let dropFanStart: UnsafeMutablePointer<Int32>
    let dropFanCount: UnsafeMutablePointer<Int32>
    let dropFan: UnsafeMutablePointer<Int32>
    /// The reports' mapping and the live orders of firms with a drop copy.
    let dropCopy: UnsafeMutablePointer<FIXDropCopy>
    /// An OUCH token as a ClOrdID (14 bytes, trailing spaces cut), and an OrigClOrdID.
    let tokenText: UnsafeMutableRawBufferPointer
    /// Sessions of both kinds.
    var allSessions: Int { sessionCapacity &+ dropCount }
    var sessionsBound = 0
    let sessions: UnsafeMutablePointer<FIXSession<FIXMessageRing>>
    let applications: UnsafeMutablePointer<FIXApplication>
    let storeMemory: UnsafeMutableRawPointer
    /// Per account: its session, -1 none yet today.
    let sessionOfAccount: UnsafeMutablePointer<Int32>
    /// Per session: the connection slot bound to it, -1 none.
    let slotOfSession: UnsafeMutablePointer<Int32>
    /// The keys file's usernames, by account (a Logon's Username is looked up here).
    let usernames: UnsafeMutablePointer<SoupUsername>
    let accountCount: Int
    let inbound: UnsafeMutableRawPointer
    let outbound: UnsafeMutableRawPointer
    let outboundBytes: Int
    /// An application message's body, between the mapping and the session.
    let body: UnsafeMutableRawBufferPointer
    /// Where a session writes when no connection takes its bytes (its account is not
    /// connected, or its connection is being closed): what matters — the sequence number and
    /// the resend store — is kept; the bytes are not sent.
    let discard: UnsafeMutableRawBufferPointer
    /// A Logon read before any session is bound (its Username, its CompIDs).
    let logon: UnsafeMutablePointer<FIXMessage>
    /// Connections with bytes to send, listed once each.
    let dirtySlots: UnsafeMutablePointer<Int32>
    var dirtyCount = 0
    /// Connections whose input is held for room in the command ring (`FIXConnection.inputHeld`).
    var heldConnections = 0
    let receiveBuffers: UnsafeMutableRawPointer
    let receiveBufferCount: Int
    let receiveBufferSize: Int
    /// UTC midnight before the gateway's clock started, nanoseconds since the epoch: the
    /// gateway's time plus this is FIX's SendingTime and TransactTime.
    let epochMidnight: UInt64
    /// Our SenderCompID, for Logouts written before any session is bound.
    let senderCompID: UnsafeMutableRawBufferPointer

    // Journaling modes: what the journal must learn of each session (`FIXSessionFact`), so
    // that a restart recovers it (GatewayAgent+FIXJournal.swift).
    /// Per session: the MsgSeqNum replay would give the next message, and the ExecIDs it
    /// would have used, from the facts written so far and the engine's events.
    let accountedOutbound: UnsafeMutablePointer<UInt64>
    let accountedExecIDs: UnsafeMutablePointer<UInt64>
    /// Facts waiting for room in the command ring, oldest first (a ring of `factCapacity`).
    let pendingFacts: UnsafeMutablePointer<FIXSessionFact>
    let factCapacity: Int
    var factHead = 0
    var factCount = 0
    /// Replay found a fact that does not fit the session it names (counted; should stay 0).
    var replayMismatches = 0
    /// Replay: the answer (`FIXSessionFact.reply`) being put together from its chunks.
    let replyBody: UnsafeMutableRawBufferPointer
    var replySequence: UInt64 = 0
    var replyMsgType: UInt16 = 0
    var replyLength = 0
    var replyReceived = 0
    var replySendingTime: UInt64 = 0

    /// - Parameter settings: nil (no FIX port): the least memory that keeps the code paths whole.
    /// What makes this process's ExecIDs and engine tokens its own within the day (a restart
    /// continues the day with orders of the earlier process resting in the engine): the
    /// second of the day the gateway started, in the ExecID prefix and the token base.
    let startSecond: UInt64

    /// - Parameter startNanoseconds: the gateway clock at start (nanoseconds since midnight).
    init(settings given: FIXSettings?, accounts: APIKeys, sendQueueBytes: Int, epochMidnight: UInt64, startNanoseconds: UInt64) {
        startSecond = startNanoseconds / 1_000_000_000 % 86_400
        var settings = given ?? FIXSettings()
        if given == nil {
            settings.maxConnections = 1
            settings.maxSessions = 1
            settings.resendStoreMessages = 16
            settings.maxClOrdIDs = 16
        }
        capacity = settings.maxConnections
        sessionCapacity = settings.maxSessions
        accountCount = accounts.accounts.count
        dropCopyOn = (given?.dropCopyPort ?? 0) != 0
        let entitled = dropCopyOn ? accounts.accounts.indices.filter { accounts.accounts[$0].dropCopy } : []
        dropCount = entitled.count
        let total = sessionCapacity + entitled.count
        self.epochMidnight = epochMidnight
        senderCompID = .allocate(byteCount: settings.senderCompID.utf8.count, alignment: 1)
        senderCompID.copyBytes(from: settings.senderCompID.utf8)
        sessions = .allocate(capacity: total)
        applications = .allocate(capacity: total)
        let storeBytes = FIXMessageRing.byteCount(slotCount: settings.resendStoreMessages, slotSize: Self.storeSlotBytes)
        storeMemory = .allocate(byteCount: max(1, total * storeBytes), alignment: 64)
        for i in 0..<sessionCapacity {
            var configuration = FIXSessionConfiguration(senderCompID: settings.senderCompID, targetCompID: "NONE")
            configuration.timestampPrecision = .milliseconds
            let store = FIXMessageRing(memory: storeMemory + i * storeBytes, slotCount: settings.resendStoreMessages, slotSize: Self.storeSlotBytes)
            (sessions + i).initialize(to: FIXSession(configuration: configuration, store: store, now: 0))
            var application = FIXApplicationConfiguration(client: 0, firm: Firm(rawValue: 0), execIDPrefix: UInt64(i + 1), midnight: epochMidnight)
            application.maximumClOrdIDs = settings.maxClOrdIDs
            (applications + i).initialize(to: FIXApplication(configuration: application))
            applications[i].orders.tokenBase = Int(startSecond) * Self.tokensPerStart
        }
        dropSessionOfAccount = .allocate(capacity: max(1, accountCount))
        dropSessionOfAccount.initialize(repeating: -1, count: max(1, accountCount))
        for (n, account) in entitled.enumerated() {
            let i = sessionCapacity + n
            let username = accounts.accounts[account].username
            var configuration = FIXSessionConfiguration(senderCompID: settings.senderCompID, targetCompID: username)
            configuration.timestampPrecision = .milliseconds
            let store = FIXMessageRing(memory: storeMemory + i * storeBytes, slotCount: settings.resendStoreMessages, slotSize: Self.storeSlotBytes)
            (sessions + i).initialize(to: FIXSession(configuration: configuration, store: store, now: 0))
            var application = FIXApplicationConfiguration(client: Self.dropCopyClientBase + ClientID(account), firm: accounts.accounts[account].firm,
                                                          execIDPrefix: 0, midnight: epochMidnight)
            application.maximumClOrdIDs = 1
            (applications + i).initialize(to: FIXApplication(configuration: application))
            dropSessionOfAccount[account] = Int32(i)
        }
        dropFanStart = .allocate(capacity: max(1, accountCount))
        dropFanCount = .allocate(capacity: max(1, accountCount))
        dropFan = .allocate(capacity: max(1, accountCount * max(1, entitled.count)))
        var fanned = 0
        for (a, account) in accounts.accounts.enumerated() {
            dropFanStart[a] = Int32(fanned)
            var n = 0
            for e in entitled where accounts.accounts[e].firm == account.firm {
                dropFan[fanned + n] = dropSessionOfAccount[e]
                n += 1
            }
            dropFanCount[a] = Int32(n)
            fanned += n
        }
        dropCopy = .allocate(capacity: 1)
        dropCopy.initialize(to: FIXDropCopy(capacity: dropCopyOn && !entitled.isEmpty ? settings.dropCopyOrders : 1, midnight: epochMidnight))
        tokenText = .allocate(byteCount: 64, alignment: 8)
        sessionOfAccount = .allocate(capacity: max(1, accountCount))
        sessionOfAccount.initialize(repeating: -1, count: max(1, accountCount))
        slotOfSession = .allocate(capacity: total)
        slotOfSession.initialize(repeating: -1, count: total)
        usernames = .allocate(capacity: max(1, accountCount))
        for (i, account) in accounts.accounts.enumerated() {
            (usernames + i).initialize(to: SoupUsername(account.username) ?? SoupUsername(rawValue: 0))
        }
        inbound = .allocate(byteCount: capacity * Self.inboundBytes, alignment: 64)
        outboundBytes = max(4 * Self.outboundReserve, min(sendQueueBytes, 1 << 20))
        outbound = .allocate(byteCount: capacity * outboundBytes, alignment: 64)
        body = .allocate(byteCount: Self.bodyBytes, alignment: 8)
        discard = .allocate(byteCount: 2 * Self.outboundReserve, alignment: 8)
        logon = .allocate(capacity: 1)
        logon.initialize(to: FIXMessage(capacity: 128))
        dirtySlots = .allocate(capacity: 2 * capacity)
        receiveBufferCount = given == nil ? 1 : 64
        receiveBufferSize = 4_096
        receiveBuffers = .allocate(byteCount: receiveBufferCount * receiveBufferSize, alignment: 4_096)
        accountedOutbound = .allocate(capacity: total)
        accountedOutbound.initialize(repeating: 1, count: total)
        accountedExecIDs = .allocate(capacity: total)
        accountedExecIDs.initialize(repeating: 0, count: total)
        factCapacity = 64 * total
        pendingFacts = .allocate(capacity: factCapacity)
        replyBody = .allocate(byteCount: Self.bodyBytes, alignment: 8)
    }

    func deallocate() {
        sessions.deinitialize(count: allSessions)
        sessions.deallocate()
        applications.deinitialize(count: allSessions)
        applications.deallocate()
        storeMemory.deallocate()
        sessionOfAccount.deallocate()
        slotOfSession.deallocate()
        usernames.deallocate()
        inbound.deallocate()
        outbound.deallocate()
        body.deallocate()
        discard.deallocate()
        logon.deinitialize(count: 1)
        logon.deallocate()
        dirtySlots.deallocate()
        receiveBuffers.deallocate()
        senderCompID.deallocate()
        accountedOutbound.deallocate()
        accountedExecIDs.deallocate()
        pendingFacts.deallocate()
        replyBody.deallocate()
        dropSessionOfAccount.deallocate()
        dropFanStart.deallocate()
        dropFanCount.deallocate()
        dropFan.deallocate()
        dropCopy.deinitialize(count: 1)
        dropCopy.deallocate()
        tokenText.deallocate()
    }

    /// Whether `session` (an index of `sessions`) is a drop-copy session.
    @inline(__always) func isDropCopy(_ session: Int) -> Bool { session >= sessionCapacity }

    /// The keys file's username of `account`, as its FIX session's counterparty CompID.
    func username(account: Int) -> [UInt8] {
        var bytes = withUnsafeBytes(of: usernames[account].rawValue.bigEndian) { Array($0.suffix(SoupUsername.width)) }
        while bytes.last == 0x20 { bytes.removeLast() }
        return bytes
    }

    /// UTC midnight before `clock`'s start, nanoseconds since the epoch (the system's
    /// real-time clock now, less how long ago the gateway clock's midnight was).
    static func todaysMidnight<C: Clock>(clock: C) -> UInt64 {
        var t = timespec()
        clock_gettime(CLOCK_REALTIME, &t)
        let wall = UInt64(t.tv_sec) &* 1_000_000_000 &+ UInt64(t.tv_nsec)
        let sinceMidnight = clock.now()
        // To the second: the two readings are microseconds apart, and a restarted process must
        // find the same midnight, or the SendingTime of a report it regenerates from the
        // journal would differ from the one sent (docs/FIX.md, "Across restarts").
        let midnight = wall > sinceMidnight ? wall &- sinceMidnight : 0
        return (midnight &+ 500_000_000) / 1_000_000_000 &* 1_000_000_000
    }

    /// The account whose keys-file username is `username`, or -1.
    func account(named username: SoupUsername) -> Int {
        for i in 0..<accountCount where usernames[i] == username { return i }
        return -1
    }

    @inline(__always) func inboundBuffer(_ slot: Int) -> UnsafeMutableRawPointer { inbound + slot &* Self.inboundBytes }
    @inline(__always) func outboundBuffer(_ slot: Int) -> UnsafeMutableRawPointer { outbound + slot &* outboundBytes }

    /// Packs a FIX Username (553) or Password (554) value as the keys file's fixed-width
    /// fields: 1…`width` printable characters without spaces, space padded; nil otherwise.
    static func pack(_ value: UnsafeRawBufferPointer?, width: Int) -> (high: UInt64, low: UInt64)? {
        guard let value, !value.isEmpty, value.count <= width else { return nil }
        var high: UInt64 = 0
        var low: UInt64 = 0
        for i in 0..<width {
            let b: UInt8 = i < value.count ? value[i] : 0x20
            guard b == 0x20 && i >= value.count || (b > 0x20 && b < 0x7F) else { return nil }
            if i < 8 { high = high << 8 | UInt64(b) } else { low = low << 8 | UInt64(b) }
        }
        return (high, low)
    }
}

/// The memory the FIX port (and its drop copy) allocates at start, for the memory plan
/// (`trading_exchange --check`): each session's resend store and ClOrdID table, each
/// connection's inbound and outbound buffers, the receive buffers, the drop copy's book — the
/// parts that grow with the configuration; a few fixed kilobytes besides are not counted.
public enum FIXMemory {
    /// - Parameter dropCopyAccounts: accounts entitled to a drop copy (`drop_copy` in the keys file).
    public static func heapBytes(settings: FIXSettings, dropCopyAccounts: Int, sendQueueBytes: Int) -> Int {
        let entitled = settings.dropCopyPort != 0 ? dropCopyAccounts : 0
        let sessions = settings.maxSessions + entitled
        let store = FIXMessageRing.byteCount(slotCount: settings.resendStoreMessages, slotSize: FIXPort.storeSlotBytes)
        let outbound = max(4 * FIXPort.outboundReserve, min(sendQueueBytes, 1 << 20))
        var bytes = sessions * store
        bytes += settings.maxSessions * FIXOrderTable.heapBytes(capacity: settings.maxClOrdIDs)
        bytes += entitled * FIXOrderTable.heapBytes(capacity: 1)
        bytes += settings.maxConnections * (FIXPort.inboundBytes + outbound)
        bytes += 64 * 4_096  // receive buffers
        bytes += entitled > 0 ? FIXDropCopyBook.heapBytes(capacity: settings.dropCopyOrders) : 0
        bytes += 64 * sessions * MemoryLayout<FIXSessionFact>.stride
        return bytes
    }
}
