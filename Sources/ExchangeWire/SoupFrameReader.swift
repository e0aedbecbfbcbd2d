// Incremental SoupBinTCP framing for one connection's byte stream.
//
// Layout of a packet: u16 big-endian length (type + payload), type byte, payload.
// The reader keeps at most one partial packet: `headerCount` bytes of the length field
// (0, 1 or 2), then `filled` bytes of type + payload in `storage`, a buffer of
// `maximumPacketLength` bytes allocated once at init.

/// Splits a connection's byte stream into SoupBinTCP packets.
///
/// ```
/// var input = UnsafeRawBufferPointer(start: received, count: n)
/// loop: while true {
///     switch reader.next(&input) {
///     case .frame(let frame): handle(frame)      // valid until the next call
///     case .needMoreData: break loop              // input is now empty
///     case .malformed(let error): close(error); break loop
///     }
/// }
/// ```
public struct SoupFrameReader: ~Copyable {
    /// The largest length field accepted (type byte + payload).
    public let maximumPacketLength: Int
    @usableFromInline let storage: UnsafeMutableRawPointer
    /// Bytes of the length field received for the partial packet (0, 1 or 2).
    @usableFromInline var headerCount: Int
    /// The first byte of the length field while `headerCount == 1`.
    @usableFromInline var lengthHighByte: UInt8
    /// The partial packet's length field once `headerCount == 2`.
    @usableFromInline var packetLength: Int
    /// Bytes of type + payload already in `storage`.
    @usableFromInline var filled: Int
    @usableFromInline var failure: SoupFramingError?

    /// - Parameter maximumPacketLength: the largest length field (type + payload) to
    ///   accept, 1...65535. OUCH 4.2 needs 81 (Replaced) server side, 50 client side;
    ///   a Login Request is 47.
    public init(maximumPacketLength: Int) {
        precondition((1...Int(UInt16.max)).contains(maximumPacketLength), "maximumPacketLength must be 1...65535")
        self.maximumPacketLength = maximumPacketLength
        storage = UnsafeMutableRawPointer.allocate(byteCount: maximumPacketLength, alignment: 64)
        headerCount = 0
        lengthHighByte = 0
        packetLength = 0
        filled = 0
        failure = nil
    }

    deinit { storage.deallocate() }

    /// Bytes of a partial packet held across calls (length bytes included).
    @inlinable public var bufferedBytes: Int { headerCount &+ filled }

    /// Forgets any partial packet and a previous error (for a new connection).
    @inlinable public mutating func reset() {
        headerCount = 0
        packetLength = 0
        filled = 0
        failure = nil
    }

    /// Returns the next complete packet, consuming its bytes from the front of `input`;
    /// or `.needMoreData` once `input` is used up (a partial packet is kept); or
    /// `.malformed` for a length field of 0 or above the maximum.
    @inlinable
    public mutating func next(_ input: inout UnsafeRawBufferPointer) -> SoupReadResult {
        if headerCount == 0, failure == nil, input.count >= 2, let base = input.baseAddress {
            // Fast path: nothing buffered and at least a length field in the input.
            let length = Int(BigEndian.readUInt16(base, at: 0))
            if length != 0 && length <= maximumPacketLength && input.count &- 2 >= length {
                input = UnsafeRawBufferPointer(start: base + 2 + length, count: input.count &- 2 &- length)
                return .frame(SoupFrame(type: base.load(fromByteOffset: 2, as: UInt8.self),
                                        payload: UnsafeRawBufferPointer(start: base + 3, count: length &- 1)))
            }
        }
        return nextBuffered(&input)
    }

    /// The general path: feeds bytes one field at a time through the partial-packet state.
    @usableFromInline
    mutating func nextBuffered(_ input: inout UnsafeRawBufferPointer) -> SoupReadResult {
        if let failure { return .malformed(failure) }
        while headerCount < 2 {
            guard let base = input.baseAddress, input.count > 0 else { return .needMoreData }
            let byte = base.load(as: UInt8.self)
            input = UnsafeRawBufferPointer(start: base + 1, count: input.count &- 1)
            if headerCount == 0 {
                lengthHighByte = byte
                headerCount = 1
                continue
            }
            let length = Int(lengthHighByte) << 8 | Int(byte)
            headerCount = 2
            packetLength = length
            if length == 0 {
                failure = .zeroLength
                return .malformed(.zeroLength)
            }
            if length > maximumPacketLength {
                failure = .tooLong(length)
                return .malformed(.tooLong(length))
            }
        }
        let wanted = packetLength &- filled
        let taking = min(wanted, input.count)
        if taking > 0, let base = input.baseAddress {
            (storage + filled).copyMemory(from: base, byteCount: taking)
            filled &+= taking
            input = UnsafeRawBufferPointer(start: base + taking, count: input.count &- taking)
        }
        guard filled == packetLength else { return .needMoreData }
        let frame = SoupFrame(type: storage.load(as: UInt8.self),
                              payload: UnsafeRawBufferPointer(start: storage + 1, count: packetLength &- 1))
        headerCount = 0
        packetLength = 0
        filled = 0
        return .frame(frame)
    }
}
