// SoupBinTCP 3.0 packet types: the byte after the 2-byte length.

public enum SoupPacketType {
    // Server → client
    @inlinable public static var loginAccepted: UInt8 { 0x41 }     // A
    @inlinable public static var loginRejected: UInt8 { 0x4A }     // J
    @inlinable public static var sequencedData: UInt8 { 0x53 }     // S
    @inlinable public static var serverHeartbeat: UInt8 { 0x48 }   // H
    @inlinable public static var endOfSession: UInt8 { 0x5A }      // Z
    // Client → server
    @inlinable public static var loginRequest: UInt8 { 0x4C }      // L
    @inlinable public static var unsequencedData: UInt8 { 0x55 }   // U
    @inlinable public static var clientHeartbeat: UInt8 { 0x52 }   // R
    @inlinable public static var logoutRequest: UInt8 { 0x4F }     // O
    // Both
    @inlinable public static var debug: UInt8 { 0x2B }             // +
}

/// SoupBinTCP Login Rejected reason codes.
public enum SoupLoginRejectReason {
    /// `A`: the username/password pair is not valid.
    @inlinable public static var notAuthorized: UInt8 { 0x41 }
    /// `S`: the requested session is not valid or not available.
    @inlinable public static var sessionNotAvailable: UInt8 { 0x53 }
}
