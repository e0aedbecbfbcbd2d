// One framed FIX message, split into fields: an index of (tag, offset, length) over the
// caller's bytes, in storage allocated once. Parsing checks everything FIX 4.4 asks of every
// message — field syntax, order of 8/9/35 and 10, header before body, repeated tags, the
// standard header's required fields — and reports the first problem as a SessionRejectReason.

public struct FIXField: Equatable, Sendable, BitwiseCopyable {
    public var tag: FIXTag
    /// Offset of the value from the start of the message.
    public var offset: Int32
    public var length: Int32
}

/// Why a framed message cannot be processed at all.
public enum FIXParseFailure: Equatable, Sendable {
    /// A session-level Reject (3) is due (MsgSeqNum was readable; it counts).
    case reject(FIXFieldProblem)
    /// MsgSeqNum (34) is missing or not a number: FIX says Logout and disconnect.
    case missingMsgSeqNum
}

public struct FIXMessage: ~Copyable {
    @usableFromInline let fields: UnsafeMutablePointer<FIXField>
    public let capacity: Int
    public private(set) var count: Int = 0
    @usableFromInline var base: UnsafeRawPointer?
    @usableFromInline var byteCount: Int = 0
    /// Bitmap of tags < 1024 seen in this message (repeated-tag check without a search).
    @usableFromInline let seen: UnsafeMutablePointer<UInt64>

    public private(set) var msgType = FIXMsgType(rawValue: 0)
    /// 0 when missing or unreadable.
    public private(set) var msgSeqNum: UInt64 = 0
    public private(set) var possDup = false
    /// SendingTime (52) in nanoseconds since the epoch, 0 when unreadable.
    public private(set) var sendingTime: UInt64 = 0

    /// Room for `capacity` fields (a message with more is rejected).
    public init(capacity: Int = 128) {
        precondition(capacity >= 8)
        self.capacity = capacity
        fields = .allocate(capacity: capacity)
        seen = .allocate(capacity: 16)
        seen.initialize(repeating: 0, count: 16)
    }

    deinit {
        fields.deallocate()
        seen.deallocate()
    }

    /// The header tags FIX 4.4 allows (they must precede the body).
    /// 8, 9, 35, 49, 56, 115, 128, 90, 91, 34, 50, 142, 57, 143, 116, 144, 129, 145, 43, 97, 52,
    /// 122, 212, 213, 347, 369, 627, 628, 629, 630, as a bitmap by 64-tag word (one shift and
    /// test per field instead of a search; `FIXMessageTests` checks it against the list).
    @inlinable
    static func isHeaderTag(_ tag: FIXTag) -> Bool {
        let word: UInt64 = switch tag >> 6 {
        case 0: 0x0316_080C_0000_0300
        case 1: 0x0418_0002_0C00_0000
        case 2: 0x0000_0000_0003_C003
        case 3: 0x0000_0000_0030_0000
        case 5: 0x0002_0000_0800_0000
        case 9: 0x0078_0000_0000_0000
        default: 0
        }
        return (word >> UInt64(tag & 63)) & 1 != 0
    }

    /// Splits a message `FIXFrameReader` framed (CheckSum and BodyLength already verified).
    /// The bytes must stay valid while the fields are read.
    public mutating func parse(_ bytes: UnsafeRawBufferPointer) -> FIXParseFailure? {
        base = bytes.baseAddress
        byteCount = bytes.count
        count = 0
        msgType = FIXMsgType(rawValue: 0)
        msgSeqNum = 0
        possDup = false
        sendingTime = 0
        for i in 0..<16 { seen[i] = 0 }
        var problem: FIXFieldProblem?
        var inBody = false
        var i = 0
        let n = bytes.count
        while i < n {
            // Tag
            var tag: FIXTag = 0
            let tagStart = i
            var tagValid = true
            while i < n {
                let b = bytes[i]
                if b == UInt8(ascii: "=") { break }
                let d = b &- 0x30
                if d > 9 {
                    tagValid = false
                    if b == soh { break }
                }
                tag = tag &* 10 &+ FIXTag(d)
                i &+= 1
            }
            // At most 9 digits.
            if i &- tagStart > 9 { tagValid = false }
            if i >= n || bytes[i] == soh || i == tagStart || bytes[tagStart] == UInt8(ascii: "0") { tagValid = false }
            if !tagValid {
                problem = problem ?? FIXFieldProblem(.invalidTagNumber, tag: 0)
                while i < n, bytes[i] != soh { i &+= 1 }
                i &+= 1
                continue
            }
            i &+= 1
            let valueStart = i
            // One pass finds the value's end and any control character in it.
            var control = false
            while i < n {
                let b = bytes[i]
                if b < 0x20 || b == 0x7F {
                    if b == soh { break }
                    control = true
                }
                i &+= 1
            }
            let length = i &- valueStart
            i &+= 1
            if count == capacity {
                problem = problem ?? FIXFieldProblem(.other, tag: tag)
                continue
            }
            let position = count
            fields[count] = FIXField(tag: tag, offset: Int32(valueStart), length: Int32(length))
            count &+= 1
            // Order: 8, 9, 35 first; 10 last; header before body.
            let required: FIXTag = position == 0 ? 8 : position == 1 ? 9 : position == 2 ? 35 : 0
            if required != 0, tag != required { problem = problem ?? FIXFieldProblem(.tagSpecifiedOutOfRequiredOrder, tag: tag) }
            if required == 0, tag == 8 || tag == 9 || tag == 35 {
                problem = problem ?? FIXFieldProblem(.tagSpecifiedOutOfRequiredOrder, tag: tag)
            }
            if tag == 10, i < n { problem = problem ?? FIXFieldProblem(.tagSpecifiedOutOfRequiredOrder, tag: tag) }
            if Self.isHeaderTag(tag) {
                if inBody { problem = problem ?? FIXFieldProblem(.tagSpecifiedOutOfRequiredOrder, tag: tag) }
            } else if tag != 10 {
                inBody = true
            }
            // Repeats (the supported messages have no repeating groups).
            if tag < 1024 {
                let bit: UInt64 = 1 << UInt64(tag & 63)
                if seen[Int(tag >> 6)] & bit != 0 {
                    problem = problem ?? FIXFieldProblem(.tagAppearsMoreThanOnce, tag: tag)
                }
                seen[Int(tag >> 6)] |= bit
            } else {
                for k in 0..<position where fields[k].tag == tag {
                    problem = problem ?? FIXFieldProblem(.tagAppearsMoreThanOnce, tag: tag)
                }
            }
            if length == 0 {
                problem = problem ?? FIXFieldProblem(.tagSpecifiedWithoutValue, tag: tag)
                continue
            }
            let value = UnsafeRawBufferPointer(start: bytes.baseAddress! + valueStart, count: length)
            if control { problem = problem ?? FIXFieldProblem(.nonDataValueIncludesFieldDelimiter, tag: tag) }
            switch tag {
            case Tag.msgType:
                if length <= 2, position == 2 {
                    msgType = FIXMsgType(rawValue: length == 1 ? UInt16(value[0]) : UInt16(value[0]) << 8 | UInt16(value[1]))
                } else {
                    problem = problem ?? FIXFieldProblem(.invalidMsgType, tag: tag)
                }
            case Tag.msgSeqNum:
                if let v = FIXNumbers.unsigned(value), v > 0 { msgSeqNum = v }
            case Tag.possDupFlag:
                if length == 1, value[0] == UInt8(ascii: "Y") {
                    possDup = true
                } else if length != 1 || value[0] != UInt8(ascii: "N") {
                    problem = problem ?? FIXFieldProblem(.valueIsIncorrect, tag: tag)
                }
            case Tag.sendingTime:
                if let t = FIXTimestamp.parse(value) {
                    sendingTime = t
                } else {
                    problem = problem ?? FIXFieldProblem(.incorrectDataFormat, tag: tag)
                }
            default: break
            }
        }
        guard msgSeqNum != 0 else { return .missingMsgSeqNum }
        if let problem { return .reject(problem) }
        if !has(Tag.senderCompID) { return .reject(FIXFieldProblem(.requiredTagMissing, tag: Tag.senderCompID)) }
        if !has(Tag.targetCompID) { return .reject(FIXFieldProblem(.requiredTagMissing, tag: Tag.targetCompID)) }
        if !has(Tag.sendingTime) { return .reject(FIXFieldProblem(.requiredTagMissing, tag: Tag.sendingTime)) }
        return nil
    }

    /// Whether the message has `tag` (tags < 1024 in one load).
    @inlinable
    public func has(_ tag: FIXTag) -> Bool {
        if tag < 1024 { return seen[Int(tag >> 6)] & (1 << UInt64(tag & 63)) != 0 }
        for k in 0..<count where fields[k].tag == tag { return true }
        return false
    }

    /// The value of `tag` (the first occurrence), or nil.
    @inlinable
    public func value(_ tag: FIXTag) -> UnsafeRawBufferPointer? {
        guard has(tag), let base else { return nil }
        for k in 0..<count where fields[k].tag == tag {
            let f = fields[k]
            return UnsafeRawBufferPointer(start: base + Int(f.offset), count: Int(f.length))
        }
        return nil
    }

    /// Field `index` (0..<count).
    @inlinable
    public func field(_ index: Int) -> FIXField { fields[index] }

    /// The whole message's bytes.
    @inlinable
    public var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: byteCount) }

    /// The first tag not in `allowed` (header and trailer tags always allowed), as the problem
    /// FIX names for it: not defined for this message type, or an invalid tag number.
    @inlinable
    public func firstUnexpectedTag(allowed: (FIXTag) -> Bool) -> FIXFieldProblem? {
        for k in 0..<count {
            let tag = fields[k].tag
            if tag == 10 || Self.isHeaderTag(tag) || allowed(tag) { continue }
            let defined = tag <= Tag.highestFIX44Tag || (5000...9999).contains(tag)
            return FIXFieldProblem(defined ? .tagNotDefinedForMessageType : .invalidTagNumber, tag: tag)
        }
        return nil
    }
}
