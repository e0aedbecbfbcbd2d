import ExchangeCore

// SoupBinTCP 3.0 packet writers. Each writes one whole packet (length, type, payload) at
// `to` and returns the bytes written; the caller provides room for them (`maximum*`
// constants below). Offsets in the layout enums count from the start of the payload,
// i.e. the byte after the type (PROTOCOLS.md counts from the type byte: add one).

public enum SoupBinTCP {
    /// Bytes before a packet's payload: u16 length + type.
    @inlinable public static var headerLength: Int { 3 }

    /// Login Request payload (46 bytes).
    public enum LoginRequestLayout {
        @inlinable public static var username: Int { 0 }       // a6
        @inlinable public static var password: Int { 6 }       // a10
        @inlinable public static var session: Int { 16 }       // a10, blank = current
        @inlinable public static var sequence: Int { 26 }      // a20 numeric, 0 = newest
        @inlinable public static var payloadLength: Int { 46 }
    }

    /// Login Accepted payload (30 bytes).
    public enum LoginAcceptedLayout {
        @inlinable public static var session: Int { 0 }        // a10
        @inlinable public static var sequence: Int { 10 }      // a20 numeric, right-justified
        @inlinable public static var payloadLength: Int { 30 }
    }

    @inlinable public static var sequenceWidth: Int { 20 }

    // MARK: Server → client

    /// `A` Login Accepted: the session and the sequence number of the next sequenced
    /// message the server will send. 33 bytes.
    @inlinable
    public static func loginAccepted(session: SoupSessionName, sequence: UInt64, to out: UnsafeMutableRawPointer) -> Int {
        header(type: SoupPacketType.loginAccepted, payloadLength: LoginAcceptedLayout.payloadLength, to: out)
        let payload = out + headerLength
        session.write(to: payload, at: LoginAcceptedLayout.session)
        NumericField.writeRightJustified(sequence, width: sequenceWidth, to: payload, at: LoginAcceptedLayout.sequence)
        return headerLength + LoginAcceptedLayout.payloadLength
    }

    /// `J` Login Rejected with a `SoupLoginRejectReason` code. 4 bytes.
    @inlinable
    public static func loginRejected(reason: UInt8, to out: UnsafeMutableRawPointer) -> Int {
        header(type: SoupPacketType.loginRejected, payloadLength: 1, to: out)
        BigEndian.write(reason, to: out, at: headerLength)
        return headerLength + 1
    }

    /// `H` Server Heartbeat. 3 bytes.
    @inlinable
    public static func serverHeartbeat(to out: UnsafeMutableRawPointer) -> Int {
        header(type: SoupPacketType.serverHeartbeat, payloadLength: 0, to: out)
        return headerLength
    }

    /// `Z` End of Session. 3 bytes.
    @inlinable
    public static func endOfSession(to out: UnsafeMutableRawPointer) -> Int {
        header(type: SoupPacketType.endOfSession, payloadLength: 0, to: out)
        return headerLength
    }

    /// `S` Sequenced Data prefix for a message of `payloadLength` bytes the caller writes
    /// right after it (at `to + 3`). 3 bytes.
    @inlinable
    public static func sequencedDataHeader(payloadLength: Int, to out: UnsafeMutableRawPointer) -> Int {
        header(type: SoupPacketType.sequencedData, payloadLength: payloadLength, to: out)
        return headerLength
    }

    // MARK: Client → server

    /// `L` Login Request. The sequence is written right-justified. 49 bytes.
    @inlinable
    public static func loginRequest(
        username: SoupUsername, password: SoupPassword, session: SoupSessionName = .blank, sequence: UInt64 = 0,
        to out: UnsafeMutableRawPointer
    ) -> Int {
        header(type: SoupPacketType.loginRequest, payloadLength: LoginRequestLayout.payloadLength, to: out)
        let payload = out + headerLength
        username.write(to: payload, at: LoginRequestLayout.username)
        password.write(to: payload, at: LoginRequestLayout.password)
        session.write(to: payload, at: LoginRequestLayout.session)
        NumericField.writeRightJustified(sequence, width: sequenceWidth, to: payload, at: LoginRequestLayout.sequence)
        return headerLength + LoginRequestLayout.payloadLength
    }

    /// `U` Unsequenced Data prefix for a message of `payloadLength` bytes the caller writes
    /// right after it. 3 bytes.
    @inlinable
    public static func unsequencedDataHeader(payloadLength: Int, to out: UnsafeMutableRawPointer) -> Int {
        header(type: SoupPacketType.unsequencedData, payloadLength: payloadLength, to: out)
        return headerLength
    }

    /// `R` Client Heartbeat. 3 bytes.
    @inlinable
    public static func clientHeartbeat(to out: UnsafeMutableRawPointer) -> Int {
        header(type: SoupPacketType.clientHeartbeat, payloadLength: 0, to: out)
        return headerLength
    }

    /// `O` Logout Request. 3 bytes.
    @inlinable
    public static func logoutRequest(to out: UnsafeMutableRawPointer) -> Int {
        header(type: SoupPacketType.logoutRequest, payloadLength: 0, to: out)
        return headerLength
    }

    // MARK: Both

    /// `+` Debug with free text (at most 65534 bytes). 3 + text.count bytes.
    @inlinable
    public static func debug(text: UnsafeRawBufferPointer, to out: UnsafeMutableRawPointer) -> Int {
        precondition(text.count < Int(UInt16.max), "debug text above 65534 bytes")
        header(type: SoupPacketType.debug, payloadLength: text.count, to: out)
        if let base = text.baseAddress, text.count > 0 {
            (out + headerLength).copyMemory(from: base, byteCount: text.count)
        }
        return headerLength + text.count
    }

    @inlinable @inline(__always)
    static func header(type: UInt8, payloadLength: Int, to out: UnsafeMutableRawPointer) {
        assert(payloadLength >= 0 && payloadLength < Int(UInt16.max), "SoupBinTCP payload above 65534 bytes")
        BigEndian.write(UInt16(truncatingIfNeeded: payloadLength &+ 1), to: out, at: 0)
        BigEndian.write(type, to: out, at: 2)
    }
}
