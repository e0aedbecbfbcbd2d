// The session's configuration, its states, what it asks of its caller, and why it ends.

public struct FIXSessionConfiguration: Sendable {
    /// Our SenderCompID (the counterparty's TargetCompID), 1…32 printable ASCII bytes.
    public var senderCompID: [UInt8]
    /// The counterparty's SenderCompID (its messages' tag 49), 1…32 printable ASCII bytes.
    public var targetCompID: [UInt8]
    /// HeartBtInt (108) values accepted at Logon, in seconds.
    public var heartBtIntRange: ClosedRange<UInt64> = 1...300
    /// Whether a Logon with ResetSeqNumFlag (141=Y) may reset both sides to 1.
    public var allowResetSeqNumFlag = true
    /// How far SendingTime (52) may be from our clock before Reject(10) and Logout.
    public var sendingTimeTolerance: UInt64 = 120_000_000_000
    /// Precision of the UTCTimestamps we send (52, 122, 60).
    public var timestampPrecision: FIXTimestamp.Precision = .milliseconds
    /// How long a connection may stay without a Logon before it is dropped.
    public var logonTimeout: UInt64 = 10_000_000_000
    /// How long we wait for the counterparty's Logout after sending ours.
    public var logoutTimeout: UInt64 = 5_000_000_000

    public init(senderCompID: String, targetCompID: String) {
        self.senderCompID = Array(senderCompID.utf8)
        self.targetCompID = Array(targetCompID.utf8)
    }

    /// Why the configuration cannot be used, or nil.
    public var problem: String? {
        for (name, id) in [("senderCompID", senderCompID), ("targetCompID", targetCompID)] {
            if id.isEmpty || id.count > 32 { return "FIX \(name) must be 1 to 32 characters, got \(id.count)" }
            if !id.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) { return "FIX \(name) must be printable ASCII without spaces" }
        }
        if heartBtIntRange.lowerBound == 0 { return "FIX heartBtIntRange must start at 1 second or more" }
        return nil
    }
}

public enum FIXSessionState: UInt8, Sendable, BitwiseCopyable {
    /// Connected; the first message must be a Logon.
    case awaitingLogon
    /// A Logon arrived and its credentials are being checked (`completeLogon`).
    case verifyingLogon
    /// Logged on.
    case active
    /// We sent Logout and wait for the counterparty's.
    case loggingOut
    /// Done: the caller closes the connection.
    case disconnected
}

/// Why a session ended (the caller closes the connection and may log this).
public enum FIXDisconnectReason: UInt8, Sendable, BitwiseCopyable, CaseIterable {
    case firstMessageNotLogon
    case logonRejected
    case invalidLogon
    case resetSeqNumNotAllowed
    case logonTimeout
    case wrongBeginString
    case messageTooLong
    case missingMsgSeqNum
    case msgSeqNumTooLow
    case compIDProblem
    case sendingTimeAccuracy
    case heartbeatTimeout
    case logoutByCounterparty
    case logoutCompleted
    case logoutTimeout
    case unexpectedLogon

    public var text: StaticString {
        switch self {
        case .firstMessageNotLogon: "first message not a Logon"
        case .logonRejected: "Logon rejected"
        case .invalidLogon: "invalid Logon"
        case .resetSeqNumNotAllowed: "ResetSeqNumFlag not allowed"
        case .logonTimeout: "no Logon in time"
        case .wrongBeginString: "BeginString is not FIX.4.4"
        case .messageTooLong: "message too long"
        case .missingMsgSeqNum: "MsgSeqNum missing or invalid"
        case .msgSeqNumTooLow: "MsgSeqNum too low"
        case .compIDProblem: "CompID problem"
        case .sendingTimeAccuracy: "SendingTime accuracy problem"
        case .heartbeatTimeout: "no answer to TestRequest"
        case .logoutByCounterparty: "Logout by counterparty"
        case .logoutCompleted: "Logout completed"
        case .logoutTimeout: "no Logout answer in time"
        case .unexpectedLogon: "Logon while logged on"
        }
    }
}

/// What the counterparty's Logon credentials are worth: a verifier answers at once or later
/// (`FIXSession.completeLogon`, for a check that runs off the session's thread).
public enum FIXLogonDecision: Sendable {
    case accept
    case reject
    case pending
}

/// Checks Username (553) and Password (554) of a Logon (either may be absent: nil).
public protocol FIXLogonVerifier: ~Copyable {
    mutating func verify(username: UnsafeRawBufferPointer?, password: UnsafeRawBufferPointer?) -> FIXLogonDecision
}

/// What the caller must do after the session handled input or time.
public enum FIXSessionEvent: Equatable, Sendable {
    case none
    /// An application message in sequence: read it from `session.message`, then answer.
    case application(FIXMsgType)
    /// The Logon was accepted (and answered).
    case loggedOn
    /// Close the connection (after sending what was written).
    case disconnect(FIXDisconnectReason)
}

/// The result of one step: `written` bytes of outbound messages at the start of the caller's
/// buffer, and the event.
public struct FIXSessionStep: Equatable, Sendable {
    public var written: Int
    public var event: FIXSessionEvent
    @inlinable public init(written: Int, event: FIXSessionEvent) {
        self.written = written
        self.event = event
    }
}

/// Counters a gateway turns into metrics.
public struct FIXSessionCounters: Sendable {
    public var garbled: UInt64 = 0
    public var rejectsSent: UInt64 = 0
    public var resendRequestsSent: UInt64 = 0
    public var resendRequestsReceived: UInt64 = 0
    public var messagesResent: UInt64 = 0
    public var gapFillsSent: UInt64 = 0
    public var possDupIgnored: UInt64 = 0
    public var storeFailures: UInt64 = 0
    public init() {}
}
