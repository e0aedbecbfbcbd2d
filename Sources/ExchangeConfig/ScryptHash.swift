/// A password hashed with scrypt (RFC 7914), written in the PHC string format that passlib
/// and others use: `$scrypt$ln=15,r=8,p=1$SALT$HASH`, where `ln` is log₂ of the cost N, `r`
/// the block size, `p` the parallelism, and SALT and HASH are base64 without padding. The
/// parameters travel with each entry, so entries of different costs can share a file and a
/// cost can be raised one account at a time. `rtes-keys hash` makes them.
///
/// Bounds (checked when the file is read, so that a file cannot make the exchange spend
/// unbounded memory or time on one login): `ln` 1–20, `r` 1–32, `p` 1–16, memory
/// (128 · r · 2^ln bytes) at most 1 GiB, salt 8–64 bytes, hash 16–64 bytes.
public struct ScryptHash: Sendable, Equatable, CustomStringConvertible {
    public let logRounds: Int
    public let blockSize: Int
    public let parallelism: Int
    public let salt: [UInt8]
    public let hash: [UInt8]

    public static let identifier = "$scrypt$"
    public static let logRoundsRange = 1...20
    public static let blockSizeRange = 1...32
    public static let parallelismRange = 1...16
    public static let saltBytesRange = 8...64
    public static let hashBytesRange = 16...64
    public static let maximumMemoryBytes = 1 << 30
    /// The form, for messages (never an actual value).
    public static let form = "$scrypt$ln=LOG2N,r=R,p=P$SALT$HASH (SALT and HASH in base64 without padding; make one with `rtes-keys hash`)"

    /// Validates the parameters; throws the reason when one is out of bounds.
    public init(logRounds: Int, blockSize: Int, parallelism: Int, salt: [UInt8], hash: [UInt8]) throws(Problem) {
        guard Self.logRoundsRange.contains(logRounds) else { throw Problem("ln must be from 1 to 20; found \(logRounds)") }
        guard Self.blockSizeRange.contains(blockSize) else { throw Problem("r must be from 1 to 32; found \(blockSize)") }
        guard Self.parallelismRange.contains(parallelism) else { throw Problem("p must be from 1 to 16; found \(parallelism)") }
        guard 128 * blockSize << logRounds <= Self.maximumMemoryBytes else {
            throw Problem("ln=\(logRounds) with r=\(blockSize) needs \((128 * (blockSize << logRounds)) >> 20) MiB per login; at most 1024 MiB is allowed")
        }
        guard Self.saltBytesRange.contains(salt.count) else { throw Problem("the salt must be 8 to 64 bytes; found \(salt.count)") }
        guard Self.hashBytesRange.contains(hash.count) else { throw Problem("the hash must be 16 to 64 bytes; found \(hash.count)") }
        self.logRounds = logRounds
        self.blockSize = blockSize
        self.parallelism = parallelism
        self.salt = salt
        self.hash = hash
    }

    /// Reads the PHC string. A problem says what is wrong with the form, never the text.
    public static func parse(_ text: String) throws(Problem) -> ScryptHash {
        let fields = text.split(separator: "$", omittingEmptySubsequences: false)
        guard fields.count == 5, fields[0].isEmpty, fields[1] == "scrypt" else {
            throw Problem("is not of the form \(form)")
        }
        var values: [Substring: Int] = [:]
        for pair in fields[2].split(separator: ",", omittingEmptySubsequences: false) {
            let parts = pair.split(separator: "=", omittingEmptySubsequences: false)
            guard parts.count == 2, ["ln", "r", "p"].contains(parts[0]), values[parts[0]] == nil,
                  (1...4).contains(parts[1].utf8.count), parts[1].utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let value = Int(parts[1])
            else { throw Problem("has parameters that are not ln=LOG2N,r=R,p=P with whole numbers, each once") }
            values[parts[0]] = value
        }
        guard let ln = values["ln"], let r = values["r"], let p = values["p"] else {
            throw Problem("needs all three parameters ln=LOG2N,r=R,p=P")
        }
        guard let salt = Base64.decode(fields[3]) else { throw Problem("has a salt that is not base64 without padding") }
        guard let hash = Base64.decode(fields[4]) else { throw Problem("has a hash that is not base64 without padding") }
        return try ScryptHash(logRounds: ln, blockSize: r, parallelism: p, salt: salt, hash: hash)
    }

    /// The PHC string, as the API keys file holds it.
    public var encoded: String {
        "$scrypt$ln=\(logRounds),r=\(blockSize),p=\(parallelism)$\(Base64.encode(salt))$\(Base64.encode(hash))"
    }

    /// Bytes of memory one verification takes.
    public var memoryBytes: Int { 128 * blockSize << logRounds }

    /// The parameters only.
    public var description: String { "scrypt (ln=\(logRounds), r=\(blockSize), p=\(parallelism))" }

    /// What is wrong with a hash's text, without the text.
    public struct Problem: Error, Sendable, CustomStringConvertible {
        public let description: String
        init(_ description: String) { self.description = description }
    }
}
