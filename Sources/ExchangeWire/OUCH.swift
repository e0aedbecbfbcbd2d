import ExchangeCore

// OUCH 4.2 constants shared by the inbound and outbound codecs.

public enum OUCH {
    /// The Price value that makes an Enter Order a market order (214748.3647); an Accepted
    /// for a market order echoes it.
    @inlinable public static var marketPrice: Price { 0x7FFF_FFFF }

    /// The longest client → exchange message (Enter Order).
    @inlinable public static var maximumInboundLength: Int { 49 }
    /// The longest exchange → client message (Replaced).
    @inlinable public static var maximumOutboundLength: Int { 80 }

    /// Client → exchange message types.
    public enum InboundType {
        @inlinable public static var enterOrder: UInt8 { 0x4F }    // O
        @inlinable public static var replaceOrder: UInt8 { 0x55 }  // U
        @inlinable public static var cancelOrder: UInt8 { 0x58 }   // X
        @inlinable public static var modifyOrder: UInt8 { 0x4D }   // M
    }

    /// Exchange → client message types.
    public enum OutboundType {
        @inlinable public static var systemEvent: UInt8 { 0x53 }    // S
        @inlinable public static var accepted: UInt8 { 0x41 }       // A
        @inlinable public static var replaced: UInt8 { 0x55 }       // U
        @inlinable public static var canceled: UInt8 { 0x43 }       // C
        @inlinable public static var executed: UInt8 { 0x45 }       // E
        @inlinable public static var brokenTrade: UInt8 { 0x42 }    // B
        @inlinable public static var rejected: UInt8 { 0x4A }       // J
        @inlinable public static var cancelPending: UInt8 { 0x50 }  // P
        @inlinable public static var cancelReject: UInt8 { 0x49 }   // I
        @inlinable public static var orderModified: UInt8 { 0x4D }  // M
    }

    /// System Event codes.
    public enum SystemEventCode {
        @inlinable public static var startOfDay: UInt8 { 0x53 }  // S
        @inlinable public static var endOfDay: UInt8 { 0x45 }    // E
    }

    /// A blank Firm (four spaces): "use the account's default firm".
    @inlinable public static var blankFirm: UInt32 { 0x2020_2020 }

    /// The BBO Weight Indicator the exchange reports: space, "unspecified".
    @inlinable public static var bboWeightUnspecified: UInt8 { 0x20 }
}
