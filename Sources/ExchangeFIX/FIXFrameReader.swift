// Finds complete FIX messages in a TCP byte stream: `8=FIX.4.4|9=len|…|10=ccc|`.
//
// The FIX 4.4 session rules this follows (Volume 2, "Message Recovery" and "Garbled message"):
// a message whose BodyLength or CheckSum is wrong is garbled — it is ignored, the expected
// inbound MsgSeqNum does not advance, and the stream is scanned for the next `8=FIX.4.4`.
// A BeginString other than FIX.4.4 is not garbled: the session sends Logout and disconnects.

public enum FIXFrame: Equatable, Sendable {
    /// Not enough bytes yet for a whole message (keep them, read more).
    case needMore
    /// A whole, well-framed message of `length` bytes at the start of the buffer, CheckSum
    /// verified.
    case message(length: Int)
    /// Bytes that are not a valid message: skip `skip` bytes and try again (`reason` says why).
    case garbled(skip: Int, reason: FIXGarbledReason)
    /// The stream cannot be FIX 4.4 from this peer: send Logout (if logged on) and disconnect.
    case fatal(FIXFatalFraming)
}

public enum FIXGarbledReason: UInt8, Sendable, BitwiseCopyable, CaseIterable {
    /// Does not start with `8=`.
    case noBeginString
    /// `9=` missing after BeginString or not a number.
    case badBodyLength
    /// `10=ccc|` is not where BodyLength says.
    case checkSumMissing
    /// The CheckSum does not match the bytes.
    case checkSumMismatch
}

public enum FIXFatalFraming: UInt8, Sendable, BitwiseCopyable, CaseIterable {
    /// BeginString is not FIX.4.4.
    case wrongBeginString
    /// BodyLength exceeds the session's maximum message length.
    case messageTooLong
}

public enum FIXFrameReader {
    /// Looks at the start of `bytes` for one message no longer than `maximumLength` bytes.
    @inlinable
    public static func next(_ bytes: UnsafeRawBufferPointer, maximumLength: Int) -> FIXFrame {
        let n = bytes.count
        if n < 2 { return n == 1 && bytes[0] != UInt8(ascii: "8") ? .garbled(skip: 1, reason: .noBeginString) : .needMore }
        guard bytes[0] == UInt8(ascii: "8"), bytes[1] == UInt8(ascii: "=") else {
            return .garbled(skip: resync(bytes), reason: .noBeginString)
        }
        // BeginString: compare what we have against the expected text.
        let expected: StaticString = "8=FIX.4.4\u{01}9="
        let e = UnsafeRawBufferPointer(start: expected.utf8Start, count: expected.utf8CodeUnitCount)
        let m = min(n, 10)
        var i = 2
        while i < m {
            if bytes[i] != e[i] {
                // Another version's BeginString is fatal; anything not ending in SOH is garbage.
                var j = 2
                while j < n, j < 32, bytes[j] != soh { j &+= 1 }
                if j < n, bytes[j] == soh { return .fatal(.wrongBeginString) }
                if j >= 32 { return .garbled(skip: resync(bytes), reason: .noBeginString) }
                return .needMore
            }
            i &+= 1
        }
        if n < 13 { return .needMore }
        guard bytes[10] == UInt8(ascii: "9"), bytes[11] == UInt8(ascii: "=") else {
            return .garbled(skip: resync(bytes), reason: .badBodyLength)
        }
        var bodyLength = 0
        i = 12
        while i < n, bytes[i] != soh {
            let d = bytes[i] &- 0x30
            guard d <= 9, i < 19 else { return .garbled(skip: resync(bytes), reason: .badBodyLength) }
            bodyLength = bodyLength &* 10 &+ Int(d)
            i &+= 1
        }
        if i >= n { return .needMore }
        guard i > 12 else { return .garbled(skip: resync(bytes), reason: .badBodyLength) }
        let bodyStart = i &+ 1
        let total = bodyStart &+ bodyLength &+ 7
        if total > maximumLength { return .fatal(.messageTooLong) }
        if n < total { return .needMore }
        let t = bodyStart &+ bodyLength
        guard bytes[t] == UInt8(ascii: "1"), bytes[t &+ 1] == UInt8(ascii: "0"), bytes[t &+ 2] == UInt8(ascii: "="),
              bytes[t &+ 6] == soh, bodyLength > 0, bytes[t &- 1] == soh
        else { return .garbled(skip: resync(bytes), reason: .checkSumMissing) }
        var received = 0
        for k in 3..<6 {
            let d = bytes[t &+ k] &- 0x30
            guard d <= 9 else { return .garbled(skip: total, reason: .checkSumMismatch) }
            received = received &* 10 &+ Int(d)
        }
        guard received == Int(checksum(UnsafeRawBufferPointer(rebasing: bytes[0..<t]))) else {
            return .garbled(skip: total, reason: .checkSumMismatch)
        }
        return .message(length: total)
    }

    /// The sum of the bytes mod 256 (FIX's CheckSum).
    @inlinable
    public static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt8 {
        var sum: UInt8 = 0
        for b in bytes { sum &+= b }
        return sum
    }

    /// Bytes to skip to the next `␁8=FIX` after the first byte (its SOH kept out), or all but
    /// the last 5 bytes (a next message's start may be arriving).
    @inlinable
    static func resync(_ bytes: UnsafeRawBufferPointer) -> Int {
        let n = bytes.count
        var i = 1
        while i &+ 5 <= n {
            if bytes[i] == soh, bytes[i &+ 1] == UInt8(ascii: "8"), bytes[i &+ 2] == UInt8(ascii: "="),
               bytes[i &+ 3] == UInt8(ascii: "F"), bytes[i &+ 4] == UInt8(ascii: "I") {
                return i &+ 1
            }
            i &+= 1
        }
        return max(1, n &- 5)
    }
}
