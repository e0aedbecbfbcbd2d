/// What an io_uring operation is for, packed into the 64-bit `user_data` the kernel hands
/// back with its completion: the kind in the top byte, a 24-bit generation in the next
/// three, an index (a connection slot, a packet slot, a receive entry) in the low four.
///
/// ```
///  63      56 55                 32 31                              0
/// +----------+---------------------+---------------------------------+
/// |   kind   |  generation (24 b)  |             index               |
/// +----------+---------------------+---------------------------------+
/// ```
/// Every io_uring user (gateway, snapshot service, market-data sends and re-request
/// receives) tags its operations with this one type, through `IOUring`'s typed `prepare…`
/// helpers; nothing outside the connection layer writes `user_data`. A generation lets the
/// owner of a reused slot recognise — and ignore — a completion for an earlier occupant.
@frozen
public struct CompletionTag: Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt64

    /// The generation field's width: generations are compared modulo 2^24.
    public static let generationMask: UInt32 = 0xFF_FFFF

    @inlinable
    public init(rawValue: UInt64) { self.rawValue = rawValue }

    @inlinable
    public init(kind: Kind, index: Int = 0, generation: UInt32 = 0) {
        rawValue = UInt64(kind.rawValue) << 56
            | UInt64(generation & Self.generationMask) << 32
            | UInt64(UInt32(truncatingIfNeeded: index))
    }

    @inlinable public var kind: Kind { Kind(rawValue: UInt8(truncatingIfNeeded: rawValue >> 56)) }
    @inlinable public var index: Int { Int(truncatingIfNeeded: rawValue & 0xFFFF_FFFF) }
    @inlinable public var generation: UInt32 { UInt32(truncatingIfNeeded: rawValue >> 32) & Self.generationMask }

    /// Whether the tag carries `generation` (compared in the tag's 24 bits).
    @inlinable
    public func matches(generation other: UInt32) -> Bool { generation == other & Self.generationMask }

    public var description: String { "tag(kind \(kind.rawValue), index \(index), generation \(generation))" }

    /// What kind of operation: each user of a ring picks its own kinds, distinct from the
    /// other users of the same ring. A `ConnectionTable` takes four consecutive kinds from
    /// the base it is given (`ConnectionTable.Configuration.tagBase`).
    @frozen
    public struct Kind: RawRepresentable, Hashable, Sendable {
        public let rawValue: UInt8
        @inlinable public init(rawValue: UInt8) { self.rawValue = rawValue }

        /// No operation (a zeroed tag).
        public static let none = Kind(rawValue: 0)
        /// A cancel request's own completion: nothing to do for anyone.
        public static let cancel = Kind(rawValue: 0xFF)
    }

    /// The tag cancel requests carry.
    public static let cancel = CompletionTag(kind: .cancel)
}
