// The FIX 4.4 vocabulary this module speaks: tags, message types and the session-level
// reject reasons (SessionRejectReason, tag 373). docs/FIX.md lists what each one means to RTES.

/// A FIX tag number.
public typealias FIXTag = UInt32

public enum Tag {
    public static let account: FIXTag = 1
    public static let avgPx: FIXTag = 6
    public static let beginSeqNo: FIXTag = 7
    public static let beginString: FIXTag = 8
    public static let bodyLength: FIXTag = 9
    public static let checkSum: FIXTag = 10
    public static let clOrdID: FIXTag = 11
    public static let cumQty: FIXTag = 14
    public static let endSeqNo: FIXTag = 16
    public static let execID: FIXTag = 17
    public static let execInst: FIXTag = 18
    public static let handlInst: FIXTag = 21
    public static let lastPx: FIXTag = 31
    public static let lastQty: FIXTag = 32
    public static let msgSeqNum: FIXTag = 34
    public static let msgType: FIXTag = 35
    public static let newSeqNo: FIXTag = 36
    public static let orderID: FIXTag = 37
    public static let orderQty: FIXTag = 38
    public static let ordStatus: FIXTag = 39
    public static let ordType: FIXTag = 40
    public static let origClOrdID: FIXTag = 41
    public static let possDupFlag: FIXTag = 43
    public static let price: FIXTag = 44
    public static let refSeqNum: FIXTag = 45
    public static let senderCompID: FIXTag = 49
    public static let sendingTime: FIXTag = 52
    public static let side: FIXTag = 54
    public static let symbol: FIXTag = 55
    public static let targetCompID: FIXTag = 56
    public static let text: FIXTag = 58
    public static let timeInForce: FIXTag = 59
    public static let transactTime: FIXTag = 60
    public static let encryptMethod: FIXTag = 98
    public static let ordRejReason: FIXTag = 103
    public static let heartBtInt: FIXTag = 108
    public static let minQty: FIXTag = 110
    public static let maxFloor: FIXTag = 111
    public static let testReqID: FIXTag = 112
    public static let possResend: FIXTag = 97
    public static let origSendingTime: FIXTag = 122
    public static let gapFillFlag: FIXTag = 123
    public static let expireTime: FIXTag = 126
    public static let resetSeqNumFlag: FIXTag = 141
    public static let execType: FIXTag = 150
    public static let leavesQty: FIXTag = 151
    public static let cxlRejReason: FIXTag = 102
    public static let refTagID: FIXTag = 371
    public static let refMsgType: FIXTag = 372
    public static let sessionRejectReason: FIXTag = 373
    public static let businessRejectRefID: FIXTag = 379
    public static let businessRejectReason: FIXTag = 380
    public static let cxlRejResponseTo: FIXTag = 434
    public static let massCancelRequestType: FIXTag = 530
    public static let massCancelResponse: FIXTag = 531
    public static let massCancelRejectReason: FIXTag = 532
    public static let username: FIXTag = 553
    public static let password: FIXTag = 554
    public static let nextExpectedMsgSeqNum: FIXTag = 789
    /// The highest tag FIX 4.4 defines; above it (outside the user-defined 5000–9999) a tag is
    /// "invalid tag number" rather than "not defined for this message type".
    public static let highestFIX44Tag: FIXTag = 956
}

/// A message type (tag 35): one or two ASCII characters packed big-endian (`D` is 0x0044,
/// `AE` is 0x4145), so it compares in one instruction and never allocates.
public struct FIXMsgType: Hashable, Sendable, BitwiseCopyable, CustomStringConvertible {
    public var rawValue: UInt16
    @inlinable public init(rawValue: UInt16) { self.rawValue = rawValue }
    @inlinable public init(_ c: Unicode.Scalar) { rawValue = UInt16(UInt8(ascii: c)) }

    @inlinable public static var heartbeat: FIXMsgType { FIXMsgType(rawValue: 0x30) }  // 0
    @inlinable public static var testRequest: FIXMsgType { FIXMsgType(rawValue: 0x31) }  // 1
    @inlinable public static var resendRequest: FIXMsgType { FIXMsgType(rawValue: 0x32) }  // 2
    @inlinable public static var reject: FIXMsgType { FIXMsgType(rawValue: 0x33) }  // 3
    @inlinable public static var sequenceReset: FIXMsgType { FIXMsgType(rawValue: 0x34) }  // 4
    @inlinable public static var logout: FIXMsgType { FIXMsgType(rawValue: 0x35) }  // 5
    @inlinable public static var executionReport: FIXMsgType { FIXMsgType(rawValue: 0x38) }  // 8
    @inlinable public static var orderCancelReject: FIXMsgType { FIXMsgType(rawValue: 0x39) }  // 9
    @inlinable public static var logon: FIXMsgType { FIXMsgType(rawValue: 0x41) }  // A
    @inlinable public static var newOrderSingle: FIXMsgType { FIXMsgType(rawValue: 0x44) }  // D
    @inlinable public static var orderCancelRequest: FIXMsgType { FIXMsgType(rawValue: 0x46) }  // F
    @inlinable public static var orderCancelReplaceRequest: FIXMsgType { FIXMsgType(rawValue: 0x47) }  // G
    @inlinable public static var orderStatusRequest: FIXMsgType { FIXMsgType(rawValue: 0x48) }  // H
    @inlinable public static var businessMessageReject: FIXMsgType { FIXMsgType(rawValue: 0x6A) }  // j
    @inlinable public static var orderMassCancelRequest: FIXMsgType { FIXMsgType(rawValue: 0x71) }  // q
    @inlinable public static var orderMassCancelReport: FIXMsgType { FIXMsgType(rawValue: 0x72) }  // r

    /// Session-level (administrative) messages: never resent, replaced by a gap fill.
    @inlinable public var isAdministrative: Bool {
        switch rawValue {
        case 0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x41: true
        default: false
        }
    }

    /// The byte count of its text (1 or 2).
    @inlinable public var length: Int { rawValue > 0xFF ? 2 : 1 }

    public var description: String {
        rawValue > 0xFF
            ? String(decoding: [UInt8(rawValue >> 8), UInt8(rawValue & 0xFF)], as: UTF8.self)
            : String(decoding: [UInt8(rawValue)], as: UTF8.self)
    }
}

/// SessionRejectReason (373) as FIX 4.4 defines it: the reason of a session-level Reject (3).
public enum SessionRejectReason: UInt16, Sendable, BitwiseCopyable, CaseIterable {
    case invalidTagNumber = 0
    case requiredTagMissing = 1
    case tagNotDefinedForMessageType = 2
    case undefinedTag = 3
    case tagSpecifiedWithoutValue = 4
    case valueIsIncorrect = 5
    case incorrectDataFormat = 6
    case decryptionProblem = 7
    case signatureProblem = 8
    case compIDProblem = 9
    case sendingTimeAccuracyProblem = 10
    case invalidMsgType = 11
    case xmlValidationError = 12
    case tagAppearsMoreThanOnce = 13
    case tagSpecifiedOutOfRequiredOrder = 14
    case repeatingGroupFieldsOutOfOrder = 15
    case incorrectNumInGroupCount = 16
    case nonDataValueIncludesFieldDelimiter = 17
    case other = 99

    /// Short English text for the Reject's Text (58).
    public var text: StaticString {
        switch self {
        case .invalidTagNumber: "Invalid tag number"
        case .requiredTagMissing: "Required tag missing"
        case .tagNotDefinedForMessageType: "Tag not defined for this message type"
        case .undefinedTag: "Undefined Tag"
        case .tagSpecifiedWithoutValue: "Tag specified without a value"
        case .valueIsIncorrect: "Value is incorrect (out of range) for this tag"
        case .incorrectDataFormat: "Incorrect data format for value"
        case .decryptionProblem: "Decryption problem"
        case .signatureProblem: "Signature problem"
        case .compIDProblem: "CompID problem"
        case .sendingTimeAccuracyProblem: "SendingTime accuracy problem"
        case .invalidMsgType: "Invalid MsgType"
        case .xmlValidationError: "XML Validation error"
        case .tagAppearsMoreThanOnce: "Tag appears more than once"
        case .tagSpecifiedOutOfRequiredOrder: "Tag specified out of required order"
        case .repeatingGroupFieldsOutOfOrder: "Repeating group fields out of order"
        case .incorrectNumInGroupCount: "Incorrect NumInGroup count for repeating group"
        case .nonDataValueIncludesFieldDelimiter: "Non-data value includes field delimiter"
        case .other: "Other"
        }
    }
}

/// One problem found in a message, at the session level: the reason and the tag it is about
/// (0 when none).
public struct FIXFieldProblem: Equatable, Sendable, BitwiseCopyable {
    public var reason: SessionRejectReason
    public var tag: FIXTag
    @inlinable public init(_ reason: SessionRejectReason, tag: FIXTag) {
        self.reason = reason
        self.tag = tag
    }
}

@usableFromInline let soh: UInt8 = 0x01
