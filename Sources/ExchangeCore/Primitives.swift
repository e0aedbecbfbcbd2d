// Scalar vocabulary of the engine. Units are the ones the wire protocols use, so that the
// codecs copy fields instead of converting them.

/// A price with 4 implied decimals (150.25 is 1_502_500).
public typealias Price = UInt32

/// A number of shares.
public typealias Shares = UInt32

/// Price × shares, with the price's 4 implied decimals (1 dollar is 10_000).
public typealias Notional = UInt64

/// Nanoseconds since midnight, carried by every command. The engine reads no clock.
public typealias Timestamp = UInt64

/// The exchange-assigned, day-unique order reference number (order entry and market data
/// share it).
public typealias OrderReference = UInt64

/// The exchange-assigned, day-unique number of one execution.
public typealias MatchNumber = UInt64

/// Index of a trading account in the engine's client table (assigned at login).
public typealias ClientID = UInt32

/// Index of an instrument in configuration order (the feed's stock locate is this plus one).
public typealias InstrumentIndex = UInt16

public enum PriceScale {
    /// Price units in one currency unit: prices carry 4 implied decimals.
    public static let unitsPerDollar: UInt64 = 10_000
    public static let nanosecondsPerSecond: UInt64 = 1_000_000_000
}
