import ExchangeCore

// Writes one FIX 4.4 message into caller memory: fields after `8=FIX.4.4|9=` go to a
// reserved offset, and `finish` writes BodyLength, moves the body up against it and
// appends the CheckSum — the message then starts at the buffer's first byte. Allocates
// nothing; a message that does not fit reports nil from `finish`, never writes past the end.

public struct FIXWriter {
    /// `8=FIX.4.4␁9=` + up to 5 length digits + `␁`.
    @usableFromInline static let reserve = 18
    @usableFromInline let base: UnsafeMutableRawPointer
    @usableFromInline let capacity: Int
    @usableFromInline var position: Int
    @usableFromInline var overflow = false
    @usableFromInline var start = 0

    /// A writer over `buffer` (at least 64 bytes to be useful).
    @inlinable
    public init(_ buffer: UnsafeMutableRawBufferPointer) {
        base = buffer.baseAddress!
        capacity = buffer.count
        position = Self.reserve
        overflow = capacity < Self.reserve &+ 7
        start = Self.reserve
    }

    /// A writer of bare fields (a message body for `FIXSession.send`), from the buffer's
    /// first byte; `bodyLength` is then the byte count. Never `finish` it.
    @inlinable
    public init(fieldsOnly buffer: UnsafeMutableRawBufferPointer) {
        base = buffer.baseAddress!
        capacity = buffer.count
        position = 0
    }

    /// True when a field did not fit (and was not written).
    @inlinable public var didOverflow: Bool { overflow }

    /// Body bytes written so far.
    @inlinable public var bodyLength: Int { position &- start }

    @inlinable
    mutating func room(_ bytes: Int) -> Bool {
        if position &+ bytes &+ 7 > capacity { overflow = true }
        return !overflow
    }

    @inlinable
    mutating func tag(_ tag: FIXTag) {
        position &+= FIXNumbers.write(UInt64(tag), to: base + position)
        base.storeBytes(of: UInt8(ascii: "="), toByteOffset: position, as: UInt8.self)
        position &+= 1
    }

    @inlinable
    mutating func end() {
        base.storeBytes(of: soh, toByteOffset: position, as: UInt8.self)
        position &+= 1
    }

    @inlinable
    public mutating func msgType(_ type: FIXMsgType) {
        guard room(6) else { return }
        tag(Tag.msgType)
        if type.length == 2 {
            base.storeBytes(of: UInt8(type.rawValue >> 8), toByteOffset: position, as: UInt8.self)
            position &+= 1
        }
        base.storeBytes(of: UInt8(truncatingIfNeeded: type.rawValue), toByteOffset: position, as: UInt8.self)
        position &+= 1
        end()
    }

    @inlinable
    public mutating func field(_ t: FIXTag, _ value: UInt64) {
        guard room(32) else { return }
        tag(t)
        position &+= FIXNumbers.write(value, to: base + position)
        end()
    }

    /// `prefix` and `value` joined by a character: ExecID `7.42`.
    @inlinable
    public mutating func field(_ t: FIXTag, _ prefix: UInt64, separator: UInt8, _ value: UInt64) {
        guard room(48) else { return }
        tag(t)
        position &+= FIXNumbers.write(prefix, to: base + position)
        base.storeBytes(of: separator, toByteOffset: position, as: UInt8.self)
        position &+= 1
        position &+= FIXNumbers.write(value, to: base + position)
        end()
    }

    @inlinable
    public mutating func field(_ t: FIXTag, char: UInt8) {
        guard room(12) else { return }
        tag(t)
        base.storeBytes(of: char, toByteOffset: position, as: UInt8.self)
        position &+= 1
        end()
    }

    @inlinable
    public mutating func field(_ t: FIXTag, _ bytes: UnsafeRawBufferPointer) {
        guard room(12 &+ bytes.count) else { return }
        tag(t)
        if let b = bytes.baseAddress, bytes.count > 0 { (base + position).copyMemory(from: b, byteCount: bytes.count) }
        position &+= bytes.count
        end()
    }

    @inlinable
    public mutating func field(_ t: FIXTag, text: StaticString) {
        field(t, UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    /// A price with the engine's 4 implied decimals, exact (`150.25`).
    @inlinable
    public mutating func price(_ t: FIXTag, _ price: Price) {
        decimal(t, UInt64(price), scale: 4)
    }

    /// A fixed-point value with `scale` implied decimals, exact, trailing zeros cut.
    @inlinable
    public mutating func decimal(_ t: FIXTag, _ value: UInt64, scale: Int) {
        guard room(48) else { return }
        tag(t)
        position &+= FIXNumbers.writeDecimal(value, scale: scale, to: base + position)
        end()
    }

    @inlinable
    public mutating func timestamp(_ t: FIXTag, _ nanoseconds: UInt64, precision: FIXTimestamp.Precision) {
        guard room(40) else { return }
        tag(t)
        position &+= FIXTimestamp.write(nanoseconds, precision: precision, to: base + position)
        end()
    }

    /// `timestamp`, the date and time of day copied from `cache` when in its second.
    @inlinable
    public mutating func timestamp(_ t: FIXTag, _ nanoseconds: UInt64, precision: FIXTimestamp.Precision,
                                   cache: inout FIXTimestampCache) {
        guard room(40) else { return }
        tag(t)
        position &+= FIXTimestamp.write(nanoseconds, precision: precision, to: base + position, cache: &cache)
        end()
    }

    /// Bytes that are already whole fields (`tag=value␁…`), copied as they are.
    @inlinable
    public mutating func raw(_ bytes: UnsafeRawBufferPointer) {
        guard room(bytes.count) else { return }
        if let b = bytes.baseAddress, bytes.count > 0 { (base + position).copyMemory(from: b, byteCount: bytes.count) }
        position &+= bytes.count
    }

    /// Writes BeginString, BodyLength and CheckSum; returns the whole message's length (it
    /// starts at the buffer's first byte), or nil when it did not fit.
    @inlinable
    public mutating func finish() -> Int? {
        guard !overflow else { return nil }
        let body = bodyLength
        let begin: StaticString = "8=FIX.4.4\u{01}9="
        base.copyMemory(from: begin.utf8Start, byteCount: 12)
        var header = 12 &+ FIXNumbers.write(UInt64(body), to: base + 12)
        base.storeBytes(of: soh, toByteOffset: header, as: UInt8.self)
        header &+= 1
        if header != Self.reserve { (base + header).copyMemory(from: base + Self.reserve, byteCount: body) }
        var end = header &+ body
        let sum = FIXFrameReader.checksum(UnsafeRawBufferPointer(start: base, count: end))
        base.storeBytes(of: UInt8(ascii: "1"), toByteOffset: end, as: UInt8.self)
        base.storeBytes(of: UInt8(ascii: "0"), toByteOffset: end &+ 1, as: UInt8.self)
        base.storeBytes(of: UInt8(ascii: "="), toByteOffset: end &+ 2, as: UInt8.self)
        base.storeBytes(of: sum / 100 &+ 0x30, toByteOffset: end &+ 3, as: UInt8.self)
        base.storeBytes(of: sum / 10 % 10 &+ 0x30, toByteOffset: end &+ 4, as: UInt8.self)
        base.storeBytes(of: sum % 10 &+ 0x30, toByteOffset: end &+ 5, as: UInt8.self)
        base.storeBytes(of: soh, toByteOffset: end &+ 6, as: UInt8.self)
        end &+= 7
        return end
    }
}
