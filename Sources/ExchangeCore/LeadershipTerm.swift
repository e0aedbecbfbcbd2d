/// The start of a leadership term (docs/FAILOVER.md, "The fencing token in the journal"): the
/// fencing token — the etcd revision that created the leader key this host won — and the
/// leader's name. A primary that campaigns journals one as its first command after winning,
/// before it acknowledges anything; every record after it belongs to that term, and the
/// highest token a journal holds is its epoch. No state, no event: the engine handles it as
/// it handles `advanceTime` (time moves to its timestamp).
public struct LeadershipTerm: Equatable, Sendable, BitwiseCopyable {
    /// The longest name a record carries (bytes of UTF-8).
    public static let maximumNameBytes = 40

    public var timestamp: Timestamp
    /// The fencing token: the leader key's create revision (positive).
    public var token: Int64
    /// The name's bytes, little-endian in five words, zero beyond `nameLength`.
    public var words: (UInt64, UInt64, UInt64, UInt64, UInt64)
    /// Bytes of `words` that are the name.
    public var nameLength: UInt8

    /// A term from its parts as a record holds them.
    public init(timestamp: Timestamp, token: Int64, nameLength: UInt8, words: (UInt64, UInt64, UInt64, UInt64, UInt64)) {
        self.timestamp = timestamp
        self.token = token
        self.nameLength = nameLength
        self.words = words
    }

    /// A term named `name`; nil when the name is longer than `maximumNameBytes` (allocates:
    /// not for a hot path).
    public init?(timestamp: Timestamp, token: Int64, name: String) {
        let bytes = Array(name.utf8)
        guard bytes.count <= Self.maximumNameBytes else { return nil }
        var w: [UInt64] = [0, 0, 0, 0, 0]
        for (i, b) in bytes.enumerated() { w[i / 8] |= UInt64(b) << (UInt64(i % 8) * 8) }
        self.init(timestamp: timestamp, token: token, nameLength: UInt8(bytes.count), words: (w[0], w[1], w[2], w[3], w[4]))
    }

    /// The leader's name (allocates).
    public var name: String {
        let w = [words.0, words.1, words.2, words.3, words.4]
        let count = min(Int(nameLength), Self.maximumNameBytes)
        let bytes = (0..<count).map { UInt8(truncatingIfNeeded: w[$0 / 8] >> (UInt64($0 % 8) * 8)) }
        return String(decoding: bytes, as: UTF8.self)
    }

    public static func == (a: LeadershipTerm, b: LeadershipTerm) -> Bool {
        a.timestamp == b.timestamp && a.token == b.token && a.nameLength == b.nameLength && a.words.0 == b.words.0
            && a.words.1 == b.words.1 && a.words.2 == b.words.2 && a.words.3 == b.words.3 && a.words.4 == b.words.4
    }
}
