import CExchangeShim
import Glibc

/// The connection layer every TCP service sits on (order entry, snapshots; later the
/// replication link, FIX, drop copy): a listener with a multishot accept, a preallocated
/// table of slots with a generation each, provided-buffer receives, one send in flight per
/// connection with a bounded backlog, and close-and-drain. The service keeps its protocol
/// state per slot in `sessions` (a `Session` value the table resets on accept and release)
/// and does its protocol's part of each `ConnectionEvent`; the table owns descriptors,
/// tags, generations, buffers, pre-login accounting and the close.
///
/// A turn of the owning agent:
/// ```
/// let n = ring.takeCompletions(into: batch)
/// for c in batch[..<n] where table.owns(c) {
///     switch table.handle(c, ring: ring) { case .received(let slot, let bytes): … }
/// }
/// table.finishBatch()                 // provided buffers go back to the kernel
/// … table.send(slot, bytes: p, count: n, ring: ring) …
/// ring.submitAndPoll()                // one io_uring_enter for everything prepared
/// ```
/// Rules (each has a test in ConnectionTableTests):
/// - a completion whose generation is not its slot's current one is ignored (counted);
/// - when every slot is taken, or connections not yet logged in hold `preLoginLimit` slots,
///   or connections not yet logged in from the new one's source address hold
///   `preLoginPerAddressLimit`, an accepted socket is closed at once and the refusal
///   counted by reason (the peer's address is read with one `getpeername` per accepted
///   connection, only when a per-address limit is set);
/// - a multishot accept that stops is re-armed at once after a success, and at the next
///   `tick` after a failure (a lasting EMFILE cannot spin);
/// - a receive stopped by ENOBUFS is counted and re-armed (submitted after `finishBatch`
///   hands the buffers back);
/// - `close` shuts the socket down; the descriptor is closed and the slot freed (generation
///   moved on) only when no receive or send of the kernel's refers to it any more;
/// - `admitBacklog` says when a connection's unsent bytes pass its send bound (a slow
///   consumer, to be closed);
/// - `pauseReceiving` stops taking a connection's bytes (TCP back-pressure reaches the
///   peer): its receive is cancelled, what still arrives is parked in its provided buffers
///   and handed out in order by `nextParked`, and `resumeReceiving` re-arms it
///   (ConnectionTable+Pausing.swift).
/// Nothing here allocates, locks or logs after `init`.
public struct ConnectionTable<Session>: ~Copyable {
    /// Sizes and tags of one table.
    public struct Configuration: Sendable {
        /// Connections served at once.
        public var capacity: Int
        /// Slots that connections not yet logged in may hold (at most `capacity`).
        public var preLoginLimit: Int
        /// Slots that connections not yet logged in from one source IPv4 address may hold
        /// (at most `preLoginLimit`, which means no limit of its own): one host cannot take
        /// the whole pre-login share.
        public var preLoginPerAddressLimit: Int
        /// The provided-buffer ring receives land in: `receiveBufferCount` (a power of two)
        /// buffers of `receiveBufferSize` bytes, in memory the owner provides
        /// (`receiveBufferBytes`), registered as buffer group `bufferGroup`.
        public var receiveBufferCount: Int
        public var receiveBufferSize: Int
        public var bufferGroup: UInt16
        /// The table tags its operations with kinds `tagBase` (accept), `tagBase + 1`
        /// (receive) and `tagBase + 2` (send); other users of the same ring use other kinds.
        public var tagBase: UInt8
        /// TCP_NODELAY on accepted sockets.
        public var noDelay: Bool
        /// The send bound of a new connection (`setSendBound` changes it per connection).
        public var sendBoundBytes: UInt64

        public init(capacity: Int, preLoginLimit: Int? = nil, preLoginPerAddressLimit: Int? = nil, receiveBufferCount: Int,
                    receiveBufferSize: Int, bufferGroup: UInt16 = 1, tagBase: UInt8 = 1, noDelay: Bool = true,
                    sendBoundBytes: UInt64 = .max) {
            self.capacity = capacity
            self.preLoginLimit = min(capacity, preLoginLimit ?? capacity)
            self.preLoginPerAddressLimit = min(self.preLoginLimit, preLoginPerAddressLimit ?? capacity)
            self.receiveBufferCount = receiveBufferCount
            self.receiveBufferSize = receiveBufferSize
            self.bufferGroup = bufferGroup
            self.tagBase = tagBase
            self.noDelay = noDelay
            self.sendBoundBytes = sendBoundBytes
        }

        /// Bytes of receive buffers the owner provides.
        public var receiveBufferBytes: Int { receiveBufferCount * receiveBufferSize }
    }

    /// The layer's part of a slot.
    @usableFromInline
    struct Slot {
        @usableFromInline var fd: Int32 = -1
        @usableFromInline var generation: UInt32 = 0
        @usableFromInline var state: ConnectionState = .free
        @usableFromInline var loggedIn = false
        /// The peer's IPv4 address (host byte order) when a per-address limit is set, else 0.
        @usableFromInline var address: UInt32 = 0
        /// The multishot receive is armed (its last completion has not arrived).
        @usableFromInline var receiving = false
        /// Bytes of the send in flight (0: none).
        @usableFromInline var sendInFlight: Int32 = 0
        @usableFromInline var sendBound: UInt64 = .max
        /// Receives are paused (`pauseReceiving`): nothing is re-armed, arrivals are parked.
        @usableFromInline var paused = false
        /// Accepted on the second listener (`init(…secondListener:…)`).
        @usableFromInline var viaSecond = false
        /// Parked provided buffers, oldest first, linked through `parkedNext` (-1: none).
        @usableFromInline var parkedHead: Int32 = -1
        @usableFromInline var parkedTail: Int32 = -1
        @usableFromInline init() {}
    }

    public let capacity: Int
    public let preLoginLimit: Int
    /// The service's state per slot.
    public let sessions: UnsafeMutablePointer<Session>
    @usableFromInline let emptySession: Session
    @usableFromInline let slots: UnsafeMutablePointer<Slot>
    @usableFromInline let freeSlots: UnsafeMutablePointer<Int32>
    @usableFromInline var freeCount: Int
    /// Open or closing slots whose connection has not logged in.
    @usableFromInline var preLogin = 0
    @inlinable public var preLoginCount: Int { preLogin }
    public let preLoginPerAddressLimit: Int
    /// Connections not yet logged in per source address (kept only with a per-address limit).
    @usableFromInline var preLoginByAddress: AddressCounts
    @inlinable var limitsAddresses: Bool { preLoginPerAddressLimit < preLoginLimit }
    /// Connections not yet logged in from `address` (IPv4, host byte order); 0 for every
    /// address when no per-address limit is set.
    @inlinable public func preLoginCount(from address: UInt32) -> Int { preLoginByAddress.count(of: address) }
    /// The source address of `slot`'s connection (0 when no per-address limit is set).
    @inlinable public func address(_ slot: Int) -> UInt32 { slots[slot].address }
    @usableFromInline var buffers: ProvidedBuffers
    /// Per provided buffer: the next parked buffer of the same slot (-1: the last), and the
    /// bytes it holds. A buffer is parked by at most one slot at a time.
    @usableFromInline let parkedNext: UnsafeMutablePointer<Int32>
    @usableFromInline let parkedBytes: UnsafeMutablePointer<Int32>
    /// The buffer of the last `.received` event, recycled at the next `handle`/`finishBatch`.
    @usableFromInline var pendingBuffer: Int32 = -1
    @usableFromInline var listener: TCPListener?
    @usableFromInline var listenerFD: Int32
    /// The multishot accept is armed.
    @usableFromInline var accepting = false
    /// A second listener whose connections share the table (the FIX port's drop-copy
    /// listener): its accept is tagged `tagBase + 3`, and `acceptedOnSecondListener` tells
    /// its connections apart.
    @usableFromInline var secondListener: TCPListener?
    @usableFromInline var secondListenerFD: Int32
    @usableFromInline var secondAccepting = false
    /// Tag kinds the table owns from `tagBase` (3, or 4 with a second listener).
    @usableFromInline let ownedKinds: UInt8
    /// New connections are taken (false after `stopAccepting`).
    @usableFromInline var admitting = false
    @usableFromInline let tagBase: UInt8
    @usableFromInline let noDelay: Bool
    @usableFromInline let defaultSendBound: UInt64
    @usableFromInline var counted = ConnectionStats()
    /// What the table counted since start.
    @inlinable public var stats: ConnectionStats { counted }

    /// - Parameters:
    ///   - listener: where connections come from; nil for a table that only serves
    ///     connections it is given another way (none today).
    ///   - ring: the ring the table's operations go through (the buffer group is registered
    ///     with it; it may still be disabled).
    ///   - bufferMemory: `configuration.receiveBufferBytes` bytes, alive as long as the table.
    ///   - emptySession: the service's state of a slot without a connection.
    ///   - secondListener: another listener whose connections this table serves too (nil: none).
    public init(configuration c: Configuration, listener: consuming TCPListener?, ring: borrowing IOUring,
                bufferMemory: UnsafeMutableRawPointer, emptySession: Session,
                secondListener: consuming TCPListener? = nil) throws(SystemError) {
        precondition(c.capacity > 0 && c.capacity < Int(Int32.max), "a connection table needs at least one slot")
        buffers = try ProvidedBuffers(ring: ring, group: c.bufferGroup, count: c.receiveBufferCount, size: c.receiveBufferSize,
                                      memory: bufferMemory)
        capacity = c.capacity
        preLoginLimit = c.preLoginLimit
        preLoginPerAddressLimit = c.preLoginPerAddressLimit
        preLoginByAddress = AddressCounts(maximumCounted: Self.addressesCounted(c))
        tagBase = c.tagBase
        noDelay = c.noDelay
        defaultSendBound = c.sendBoundBytes
        self.emptySession = emptySession
        sessions = .allocate(capacity: c.capacity)
        sessions.initialize(repeating: emptySession, count: c.capacity)
        slots = .allocate(capacity: c.capacity)
        slots.initialize(repeating: Slot(), count: c.capacity)
        freeSlots = .allocate(capacity: c.capacity)
        for i in 0..<c.capacity { freeSlots[i] = Int32(c.capacity - 1 - i) }
        freeCount = c.capacity
        parkedNext = .allocate(capacity: c.receiveBufferCount)
        parkedNext.initialize(repeating: -1, count: c.receiveBufferCount)
        parkedBytes = .allocate(capacity: c.receiveBufferCount)
        parkedBytes.initialize(repeating: 0, count: c.receiveBufferCount)
        switch listener {
        case .some(let l):
            listenerFD = l.descriptor
            listeningPort = l.port
        case .none:
            listenerFD = -1
            listeningPort = 0
        }
        self.listener = listener
        switch secondListener {
        case .some(let l):
            secondListenerFD = l.descriptor
            secondListeningPort = l.port
            ownedKinds = 4
        case .none:
            secondListenerFD = -1
            secondListeningPort = 0
            ownedKinds = 3
        }
        self.secondListener = secondListener
    }

    /// Frees the table's memory. Descriptors are the business of `closeAll` (the agent's
    /// `onClose`); the listener, when still held, closes with the table.
    deinit {
        sessions.deinitialize(count: capacity)
        sessions.deallocate()
        slots.deallocate()
        freeSlots.deallocate()
        parkedNext.deallocate()
        parkedBytes.deallocate()
    }

    // MARK: Tags

    @inlinable var acceptTag: CompletionTag { CompletionTag(kind: .init(rawValue: tagBase)) }
    @inlinable var secondAcceptTag: CompletionTag { CompletionTag(kind: .init(rawValue: tagBase &+ 3)) }

    @inlinable
    func receiveTag(_ slot: Int) -> CompletionTag {
        CompletionTag(kind: .init(rawValue: tagBase &+ 1), index: slot, generation: slots[slot].generation)
    }

    @inlinable
    func sendTag(_ slot: Int) -> CompletionTag {
        CompletionTag(kind: .init(rawValue: tagBase &+ 2), index: slot, generation: slots[slot].generation)
    }

    /// Whether `completion` is for one of this table's operations.
    @inlinable
    public func owns(_ completion: Completion) -> Bool {
        completion.tag.kind.rawValue &- tagBase < ownedKinds
    }

    // MARK: Reading a slot

    /// Slots in use (open or closing).
    @inlinable public var occupied: Int { capacity &- freeCount }
    /// Whether the multishot accept is armed.
    @inlinable public var isAccepting: Bool { accepting }
    /// Whether the table has a listener and takes new connections.
    @inlinable public var isListening: Bool { admitting && listenerFD >= 0 }
    /// The listener's port (0 without one).
    public let listeningPort: UInt16
    /// The second listener's port (0 without one).
    public let secondListeningPort: UInt16
    /// Whether `slot`'s connection came through the second listener.
    @inlinable public func acceptedOnSecondListener(_ slot: Int) -> Bool { slots[slot].viaSecond }

    @inlinable public func state(_ slot: Int) -> ConnectionState { slots[slot].state }
    @inlinable public func descriptor(_ slot: Int) -> Int32 { slots[slot].fd }
    @inlinable public func generation(_ slot: Int) -> UInt32 { slots[slot].generation }
    @inlinable public func isLoggedIn(_ slot: Int) -> Bool { slots[slot].loggedIn }
    /// A send of the slot's is in flight (the next waits for its completion).
    @inlinable public func isSending(_ slot: Int) -> Bool { slots[slot].sendInFlight != 0 }
    @inlinable public func isReceiving(_ slot: Int) -> Bool { slots[slot].receiving }

    // MARK: Accepting

    /// Arms the multishot accept (on the agent's thread, in `onStart`). False without a
    /// listener or a submission queue entry (retried by `tick`).
    @inlinable @discardableResult
    public mutating func startAccepting(ring: borrowing IOUring) -> Bool {
        guard listenerFD >= 0 || secondListenerFD >= 0 else { return false }
        admitting = true
        armSecondAccept(ring: ring)
        return armAccept(ring: ring)
    }

    @inlinable @discardableResult
    mutating func armAccept(ring: borrowing IOUring) -> Bool {
        guard admitting, listenerFD >= 0, !accepting else { return accepting }
        accepting = ring.prepareMultishotAccept(listener: listenerFD, tag: acceptTag)
        return accepting
    }

    @inlinable @discardableResult
    mutating func armSecondAccept(ring: borrowing IOUring) -> Bool {
        guard admitting, secondListenerFD >= 0, !secondAccepting else { return secondAccepting }
        secondAccepting = ring.prepareMultishotAccept(listener: secondListenerFD, tag: secondAcceptTag)
        return secondAccepting
    }

    /// The listener's descriptor, -1 once closed (`stopAccepting`) or when there is none.
    public var listenerDescriptor: Int32 { listenerFD }

    /// Stops taking connections: cancels the accept and closes the listener. Connections
    /// still in the backlog's completions are refused (`notAccepting`).
    public mutating func stopAccepting(ring: borrowing IOUring) {
        admitting = false
        if accepting { ring.prepareCancel(acceptTag) }
        if secondAccepting { ring.prepareCancel(secondAcceptTag) }
        listener = nil
        listenerFD = -1
        secondListener = nil
        secondListenerFD = -1
    }

    /// Once per timer tick: re-arms an accept that stopped on a failure.
    @inlinable
    public mutating func tick(ring: borrowing IOUring) {
        if !accepting && admitting { armAccept(ring: ring) }
        if !secondAccepting && admitting { armSecondAccept(ring: ring) }
    }

    // MARK: Completions

    /// Does the table's part of one of its completions (`owns(_:)`) and says what it means
    /// for the service.
    @inlinable
    public mutating func handle(_ completion: Completion, ring: borrowing IOUring) -> ConnectionEvent {
        if pendingBuffer >= 0 {
            buffers.recycle(UInt16(truncatingIfNeeded: pendingBuffer))
            pendingBuffer = -1
        }
        switch completion.tag.kind.rawValue &- tagBase {
        case 0: return accepted(completion, ring: ring)
        case 1: return received(completion, ring: ring)
        case 2: return sent(completion)
        case 3: return accepted(completion, ring: ring, second: true)
        default: return .none
        }
    }

    /// After a batch of completions: hands the provided buffers used back to the kernel
    /// (one release store for all).
    @inlinable
    public mutating func finishBatch() {
        if pendingBuffer >= 0 {
            buffers.recycle(UInt16(truncatingIfNeeded: pendingBuffer))
            pendingBuffer = -1
        }
        buffers.publishRecycled()
    }

    @inlinable
    mutating func accepted(_ c: Completion, ring: borrowing IOUring, second: Bool = false) -> ConnectionEvent {
        if !c.hasMore {
            // Stopped: at once again after a success; after a failure (e.g. EMFILE) at the
            // next tick, so that a lasting one cannot spin.
            if second {
                secondAccepting = false
                if c.result >= 0 { armSecondAccept(ring: ring) }
            } else {
                accepting = false
                if c.result >= 0 { armAccept(ring: ring) }
            }
        }
        guard c.result >= 0 else {
            if c.result == -ECANCELED && !admitting { return .none }  // stopAccepting's cancel
            counted.acceptErrors &+= 1
            return .acceptFailed(errno: -c.result)
        }
        let fd = c.result
        var address: UInt32 = 0
        if limitsAddresses && rtes_socket_peer_ipv4(fd, &address) != 0 { address = 0 }  // gone already: counted as 0.0.0.0
        let refusal: ConnectionRefusal? =
            !admitting ? .notAccepting
            : freeCount == 0 ? .tableFull
            : preLogin >= preLoginLimit ? .preLoginFull
            : limitsAddresses && preLoginByAddress.count(of: address) >= preLoginPerAddressLimit ? .addressLimit
            : nil
        if let refusal { return refuse(fd, refusal) }
        freeCount &-= 1
        let slot = Int(freeSlots[freeCount])
        slots[slot].fd = fd
        slots[slot].state = .open
        slots[slot].loggedIn = false
        slots[slot].address = address
        slots[slot].sendInFlight = 0
        slots[slot].sendBound = defaultSendBound
        slots[slot].paused = false
        slots[slot].viaSecond = second
        sessions[slot] = emptySession
        if noDelay { _ = rtes_tcp_set_nodelay(fd, 1) }
        guard armReceive(slot, ring: ring) else {
            slots[slot].state = .free
            slots[slot].fd = -1
            slots[slot].generation &+= 1
            freeSlots[freeCount] = Int32(slot)
            freeCount &+= 1
            return refuse(fd, .submissionQueueFull)
        }
        preLogin &+= 1
        if limitsAddresses { preLoginByAddress.add(address) }
        counted.accepted &+= 1
        return .accepted(slot: slot)
    }

    @inlinable
    mutating func refuse(_ fd: Int32, _ reason: ConnectionRefusal) -> ConnectionEvent {
        _ = rtes_close(fd)
        switch reason {
        case .tableFull: counted.refusedTableFull &+= 1
        case .preLoginFull: counted.refusedPreLoginFull &+= 1
        case .addressLimit: counted.refusedAddressLimit &+= 1
        case .notAccepting: counted.refusedNotAccepting &+= 1
        case .submissionQueueFull: counted.refusedSubmissionQueueFull &+= 1
        }
        return .refused(reason)
    }

    @inlinable
    mutating func armReceive(_ slot: Int, ring: borrowing IOUring) -> Bool {
        slots[slot].receiving = ring.prepareMultishotReceive(fd: slots[slot].fd, bufferGroup: buffers.group, tag: receiveTag(slot))
        return slots[slot].receiving
    }

    /// The slot a completion names, when it is still that connection's.
    @inlinable
    func currentSlot(_ c: Completion) -> Int? {
        let slot = c.tag.index
        guard slot < capacity, slots[slot].state != .free, c.tag.matches(generation: slots[slot].generation) else { return nil }
        return slot
    }

    @inlinable
    mutating func received(_ c: Completion, ring: borrowing IOUring) -> ConnectionEvent {
        guard let slot = currentSlot(c) else {
            if c.hasBuffer { buffers.recycle(c.bufferID) }
            counted.staleCompletions &+= 1
            return .none
        }
        if !c.hasMore { slots[slot].receiving = false }
        let result = c.result
        if result > 0 { counted.bytesIn &+= UInt64(result) }
        if slots[slot].state == .closing {
            if c.hasBuffer { buffers.recycle(c.bufferID) }
            return releaseIfIdle(slot) ? .released(slot: slot) : .none
        }
        if slots[slot].paused && (result > 0 || result == -ENOBUFS || result == -ECANCELED) {
            // Paused: bytes still on their way when the cancel went in wait, in order, in
            // their buffers (`nextParked`); a receive that stopped stays stopped.
            if result > 0 && c.hasBuffer { park(c.bufferID, bytes: result, slot: slot) }
            return .none
        }
        if result > 0 || result == -ENOBUFS || result == -ECANCELED {
            // -ECANCELED: the cancel of a pause that was lifted before it landed.
            if result == -ENOBUFS { counted.receiveBuffersExhausted &+= 1 }
            // Stopped for want of buffers (or for no stated reason): start again; the entry
            // goes to the kernel after this batch's buffers have gone back.
            if !slots[slot].receiving && !armReceive(slot, ring: ring) {
                if c.hasBuffer { buffers.recycle(c.bufferID) }
                return .failed(slot: slot, errno: EBUSY)
            }
            guard result > 0, c.hasBuffer else { return .none }
            pendingBuffer = Int32(c.bufferID)
            return .received(slot: slot, bytes: UnsafeRawBufferPointer(start: buffers.buffer(c.bufferID), count: Int(result)))
        }
        if c.hasBuffer { buffers.recycle(c.bufferID) }
        return result == 0 ? .peerClosed(slot: slot) : .failed(slot: slot, errno: -result)
    }

    @inlinable
    mutating func sent(_ c: Completion) -> ConnectionEvent {
        guard let slot = currentSlot(c) else {
            counted.staleCompletions &+= 1
            return .none
        }
        slots[slot].sendInFlight = 0
        let result = c.result
        if result > 0 { counted.bytesOut &+= UInt64(result) }
        if slots[slot].state == .closing {
            return releaseIfIdle(slot) ? .released(slot: slot) : .none
        }
        return result > 0 ? .sent(slot: slot, bytes: Int(result)) : .failed(slot: slot, errno: result == 0 ? EPIPE : -result)
    }

    // MARK: Sending

    /// What `send` did.
    public enum SendStart: Equatable, Sendable {
        /// Prepared; goes to the kernel with the turn's submission.
        case started
        /// A send of this slot's is in flight: try again after its completion.
        case busy
        /// The submission queue is full: try again next turn.
        case submissionQueueFull
        /// The slot is not open.
        case notOpen
    }

    /// Prepares a send of `count` bytes at `bytes` on `slot` (never enters the kernel). The
    /// bytes must stay put until its `.sent`/`.failed`/`.released`.
    @inlinable
    public mutating func send(_ slot: Int, bytes: UnsafeRawPointer, count: Int, ring: borrowing IOUring) -> SendStart {
        guard slots[slot].state == .open else { return .notOpen }
        guard slots[slot].sendInFlight == 0 else { return .busy }
        guard ring.prepareSend(fd: slots[slot].fd, bytes: bytes, count: count, tag: sendTag(slot), enteringKernelWhenFull: false) else {
            return .submissionQueueFull
        }
        slots[slot].sendInFlight = Int32(clamping: max(1, count))
        return .started
    }

    /// Sets how many unsent bytes `slot` may have before it is a slow consumer.
    @inlinable
    public mutating func setSendBound(_ slot: Int, bytes: UInt64) { slots[slot].sendBound = bytes }

    /// Checks `slot`'s unsent bytes (what the service holds for it) against its send bound:
    /// false when beyond — a slow consumer (counted), which the service closes with its
    /// reason.
    @inlinable
    public mutating func admitBacklog(_ slot: Int, unsentBytes: UInt64) -> Bool {
        if unsentBytes > counted.sendQueuePeakBytes { counted.sendQueuePeakBytes = unsentBytes }
        guard unsentBytes > slots[slot].sendBound else { return true }
        counted.slowConsumers &+= 1
        return false
    }

    // MARK: Login accounting

    /// The connection on `slot` logged in: it no longer counts against the pre-login share
    /// (nor its address's).
    @inlinable
    public mutating func markLoggedIn(_ slot: Int) {
        guard slots[slot].state != .free, !slots[slot].loggedIn else { return }
        slots[slot].loggedIn = true
        preLogin &-= 1
        if limitsAddresses { preLoginByAddress.remove(slots[slot].address) }
    }

    // MARK: Closing

    /// Shuts `slot`'s socket down; its descriptor closes and the slot is freed once no
    /// operation of the kernel's refers to it — now (returns true, the slot is free) or
    /// with a later completion (`.released`). Nothing happens for a slot not open.
    @inlinable @discardableResult
    public mutating func close(_ slot: Int) -> Bool {
        guard slots[slot].state == .open else { return false }
        slots[slot].state = .closing
        _ = rtes_socket_shutdown(slots[slot].fd)
        return releaseIfIdle(slot)
    }

    @inlinable
    mutating func releaseIfIdle(_ slot: Int) -> Bool {
        guard slots[slot].state == .closing, !slots[slot].receiving, slots[slot].sendInFlight == 0 else { return false }
        _ = rtes_close(slots[slot].fd)
        dropParked(slot)
        if !slots[slot].loggedIn {
            preLogin &-= 1
            if limitsAddresses { preLoginByAddress.remove(slots[slot].address) }
        }
        slots[slot].fd = -1
        slots[slot].state = .free
        slots[slot].loggedIn = false
        slots[slot].generation &+= 1
        sessions[slot] = emptySession
        freeSlots[freeCount] = Int32(slot)
        freeCount &+= 1
        counted.closed &+= 1
        return true
    }

    /// For the owner's `onClose`: stops accepting, shuts every connection down, cancels
    /// what is in flight and handles completions until every slot is free or
    /// `timeoutMilliseconds` have passed; then closes whatever descriptor is left. Other
    /// users' completions on the same ring are consumed and dropped: call it last.
    /// Returns the slots released (for the owner's bookkeeping, through `released`).
    public mutating func closeAll(ring: inout IOUring, timeoutMilliseconds: Int = 500,
                                  released: (Int) -> Void = { _ in }) {
        stopAccepting(ring: ring)
        for slot in 0..<capacity where slots[slot].state != .free {
            if close(slot) { released(slot); continue }
            ring.prepareCancelAll(fd: slots[slot].fd)
        }
        let batch = UnsafeMutableBufferPointer<Completion>.allocate(capacity: 64)
        defer { batch.deallocate() }
        var waited = 0
        while occupied > 0 && waited < timeoutMilliseconds {
            ring.submitAndPoll()
            let n = ring.takeCompletions(into: batch)
            for c in batch[..<n] where owns(c) {
                if case .released(let slot) = handle(c, ring: ring) { released(slot) }
            }
            finishBatch()
            if n == 0 {
                if !ring.waitForCompletion(milliseconds: 5) { waited += 5 }
            }
        }
        // Whatever did not complete in time: close it anyway (the ring goes with the agent).
        for slot in 0..<capacity where slots[slot].state != .free {
            slots[slot].receiving = false
            slots[slot].sendInFlight = 0
            slots[slot].state = .closing
            if releaseIfIdle(slot) { released(slot) }
        }
        ring.submitAndPoll()
    }
}
