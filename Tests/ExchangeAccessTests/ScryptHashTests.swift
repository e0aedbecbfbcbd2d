import ExchangeAccess
import ExchangeConfig
import Testing

/// The credential format: hash, verify, the PHC string, and malformed entries.
@Suite struct ScryptHashTests {
    static let cheap = 4  // ln: a test's hashes cost microseconds

    @Test func aHashVerifiesItsPasswordAndNoOther() throws {
        let hash = try ScryptHash.make(password: Array("s3cret".utf8), logRounds: Self.cheap)
        #expect(hash.verifies(Array("s3cret".utf8)))
        #expect(!hash.verifies(Array("s3creT".utf8)))
        #expect(!hash.verifies(Array("s3cret ".utf8)))
        #expect(!hash.verifies([]))
    }

    @Test func theEncodedFormReadsBackEqual() throws {
        let hash = try ScryptHash.make(password: Array("hunter22".utf8), logRounds: Self.cheap, blockSize: 2, parallelism: 3)
        let text = hash.encoded
        #expect(text.hasPrefix("$scrypt$ln=4,r=2,p=3$"))
        let read = try ScryptHash.parse(text)
        #expect(read == hash)
        #expect(read.verifies(Array("hunter22".utf8)))
    }

    @Test func matchesAnIndependentScryptImplementation() throws {
        // Python's hashlib.scrypt(b"s3cret", salt=b"saltsaltsalt", n=16, r=8, p=1, dklen=32).
        let hash = try ScryptHash.parse("$scrypt$ln=4,r=8,p=1$c2FsdHNhbHRzYWx0$DsanEOo1gymjSsAGnOncSMhFYWzSx6zyAsDsiT+4Qlk")
        #expect(hash.salt == Array("saltsaltsalt".utf8))
        #expect(hash.verifies(Array("s3cret".utf8)))
        #expect(!hash.verifies(Array("s3cret2".utf8)))
    }

    @Test(arguments: [
        ("scrypt$ln=4,r=8,p=1$c2FsdHNhbHRzYWx0$DsanEOo1gymjSsAGnOncSMhFYWzSx6zyAsDsiT+4Qlk", "is not of the form"),
        ("$bcrypt$ln=4,r=8,p=1$c2FsdHNhbHRzYWx0$DsanEOo1gymjSsAGnOncSMhFYWzSx6zyAsDsiT+4Qlk", "is not of the form"),
        ("$scrypt$ln=4,r=8$c2FsdHNhbHRzYWx0$DsanEOo1gymjSsAGnOncSMhFYWzSx6zyAsDsiT+4Qlk", "needs all three"),
        ("$scrypt$ln=4,r=8,p=1,p=1$c2FsdHNhbHRzYWx0$DsanEOo1gymjSsAGnOncSMhFYWzSx6zyAsDsiT+4Qlk", "each once"),
        ("$scrypt$ln=40,r=8,p=1$c2FsdHNhbHRzYWx0$DsanEOo1gymjSsAGnOncSMhFYWzSx6zyAsDsiT+4Qlk", "ln must be from 1 to 20"),
        ("$scrypt$ln=20,r=32,p=1$c2FsdHNhbHRzYWx0$DsanEOo1gymjSsAGnOncSMhFYWzSx6zyAsDsiT+4Qlk", "at most 1024 MiB"),
        ("$scrypt$ln=4,r=8,p=1$c2Fs!HNhbHRzYWx0$DsanEOo1gymjSsAGnOncSMhFYWzSx6zyAsDsiT+4Qlk", "salt that is not base64"),
        ("$scrypt$ln=4,r=8,p=1$c2FsdA$DsanEOo1gymjSsAGnOncSMhFYWzSx6zyAsDsiT+4Qlk", "salt must be 8 to 64 bytes"),
        ("$scrypt$ln=4,r=8,p=1$c2FsdHNhbHRzYWx0$DsanEOo1", "hash must be 16 to 64 bytes"),
    ])
    func malformedHashesSayWhatIsWrongWithoutTheText(text: String, expected: String) {
        do {
            _ = try ScryptHash.parse(text)
            Issue.record("parsed a malformed hash")
        } catch {
            #expect(error.description.contains(expected), "\(error)")
            #expect(!error.description.contains("c2FsdHNhbHRzYWx0") && !error.description.contains("DsanEOo1"))
        }
    }

    @Test func base64RoundTripsEveryLength() {
        for length in 0..<40 {
            let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
            #expect(Base64.decode(Base64.encode(bytes)) == bytes)
        }
        #expect(Base64.decode("QQ==") == [0x41])
        #expect(Base64.decode("QR") == nil)  // unused bits set: not canonical
        #expect(Base64.decode("Q") == nil)
    }
}
