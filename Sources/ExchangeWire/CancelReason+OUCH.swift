import ExchangeCore

extension CancelReason {
    /// The OUCH 4.2 Canceled-message reason byte.
    @inlinable public var ouchCode: UInt8 {
        switch self {
        case .userRequested: 0x55        // U
        case .immediateOrCancel: 0x49    // I
        case .timeout: 0x54              // T
        case .supervisory: 0x53          // S
        case .selfMatchPrevention: 0x51  // Q
        case .system: 0x5A               // Z
        }
    }

    /// The reason a Canceled byte names; nil for the OUCH reasons the engine never gives.
    @inlinable public init?(ouchCode: UInt8) {
        switch ouchCode {
        case 0x55: self = .userRequested
        case 0x49: self = .immediateOrCancel
        case 0x54: self = .timeout
        case 0x53: self = .supervisory
        case 0x51: self = .selfMatchPrevention
        case 0x5A: self = .system
        default: return nil
        }
    }
}
