import Crypto
import CryptoExtras
import ExchangeConfig

// Making and checking scrypt hashes, with swift-crypto's scrypt (BoringSSL's EVP_PBE_scrypt).
extension ScryptHash {
    /// The cost `rtes-keys hash` uses unless told otherwise: N = 2^15, r = 8, p = 1 (32 MiB,
    /// tens of milliseconds per check).
    public static let defaultLogRounds = 15
    public static let defaultBlockSize = 8
    public static let defaultParallelism = 1
    public static let saltBytes = 16
    public static let hashBytes = 32

    /// Hashes `password` with a fresh random salt.
    public static func make(password: [UInt8], logRounds: Int = defaultLogRounds, blockSize: Int = defaultBlockSize,
                            parallelism: Int = defaultParallelism) throws -> ScryptHash {
        var generator = SystemRandomNumberGenerator()
        let salt = (0..<saltBytes).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let hash = try derive(password: password, salt: salt, logRounds: logRounds, blockSize: blockSize, parallelism: parallelism,
                              bytes: hashBytes)
        return try ScryptHash(logRounds: logRounds, blockSize: blockSize, parallelism: parallelism, salt: salt, hash: hash)
    }

    /// Whether `password` hashes to this (compared in constant time). False, never a trap,
    /// when scrypt itself fails (e.g. out of memory).
    public func verifies(_ password: [UInt8]) -> Bool {
        guard let derived = try? Self.derive(password: password, salt: salt, logRounds: logRounds, blockSize: blockSize,
                                             parallelism: parallelism, bytes: hash.count) else { return false }
        return constantTimeEqual(derived, hash)
    }

    static func derive(password: [UInt8], salt: [UInt8], logRounds: Int, blockSize: Int, parallelism: Int, bytes: Int) throws -> [UInt8] {
        let key = try KDF.Scrypt.deriveKey(from: password, salt: salt, outputByteCount: bytes, rounds: 1 << logRounds,
                                           blockSize: blockSize, parallelism: parallelism,
                                           maxMemory: 128 * blockSize << logRounds + 1 << 20)
        return key.withUnsafeBytes { Array($0) }
    }
}

/// Equal lengths and contents, in time that depends only on the lengths.
public func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    guard a.count == b.count else { return false }
    var difference: UInt8 = 0
    for i in 0..<a.count { difference |= a[i] ^ b[i] }
    return difference == 0
}
