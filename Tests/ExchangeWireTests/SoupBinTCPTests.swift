import ExchangeCore
import ExchangeWire
import Testing

@Suite struct SoupBinTCPWriters {
    @Test func writesLoginRequestByteForByte() {
        let bytes = written {
            SoupBinTCP.loginRequest(username: SoupUsername("trader")!, password: SoupPassword("s3cret")!,
                                    session: .blank, sequence: 1234, to: $0)
        }
        // length 47 = 1 + 6 + 10 + 10 + 20
        let text = "L" + "trader" + "s3cret" + String(repeating: " ", count: 4 + 10 + 16) + "1234"
        let expected: [UInt8] = [0x00, 0x2F] + Array(text.utf8)
        #expect(bytes == expected, "\(hex(bytes))")
        #expect(bytes.count == 49)
    }

    @Test func writesLoginAcceptedWithARightJustifiedSequence() {
        let bytes = written { SoupBinTCP.loginAccepted(session: SoupSessionName("20260105A")!, sequence: 42, to: $0) }
        let text = "A" + "20260105A" + String(repeating: " ", count: 1 + 18) + "42"
        let expected: [UInt8] = [0x00, 0x1F] + Array(text.utf8)
        #expect(bytes == expected, "\(hex(bytes))")
    }

    @Test func writesTheLargestSequenceNumberInAllTwentyCharacters() {
        let bytes = written { SoupBinTCP.loginAccepted(session: .blank, sequence: .max, to: $0) }
        #expect(Array(bytes[13...]) == Array("18446744073709551615".utf8))
    }

    @Test func writesSequenceZeroAsASingleDigit() {
        let bytes = written { SoupBinTCP.loginAccepted(session: .blank, sequence: 0, to: $0) }
        #expect(Array(bytes[13...]) == Array("                   0".utf8))
    }

    @Test func writesLoginRejectedWithItsReason() {
        #expect(written { SoupBinTCP.loginRejected(reason: SoupLoginRejectReason.notAuthorized, to: $0) } == [0, 2, 0x4A, 0x41])
        #expect(written { SoupBinTCP.loginRejected(reason: SoupLoginRejectReason.sessionNotAvailable, to: $0) } == [0, 2, 0x4A, 0x53])
    }

    @Test func writesTheOneBytePackets() {
        #expect(written { SoupBinTCP.serverHeartbeat(to: $0) } == [0, 1, 0x48])
        #expect(written { SoupBinTCP.endOfSession(to: $0) } == [0, 1, 0x5A])
        #expect(written { SoupBinTCP.clientHeartbeat(to: $0) } == [0, 1, 0x52])
        #expect(written { SoupBinTCP.logoutRequest(to: $0) } == [0, 1, 0x4F])
    }

    @Test func writesDataHeadersThatCountTheTypeByte() {
        #expect(written { SoupBinTCP.sequencedDataHeader(payloadLength: 66, to: $0) } == [0, 67, 0x53])
        #expect(written { SoupBinTCP.unsequencedDataHeader(payloadLength: 49, to: $0) } == [0, 50, 0x55])
        #expect(written { SoupBinTCP.sequencedDataHeader(payloadLength: 300, to: $0) } == [0x01, 0x2D, 0x53])
    }

    @Test func writesDebugText() {
        let text = Array("hello".utf8)
        let bytes = text.withUnsafeBytes { t in written { SoupBinTCP.debug(text: t, to: $0) } }
        #expect(bytes == [0, 6, 0x2B] + text)
        let empty = written { SoupBinTCP.debug(text: UnsafeRawBufferPointer(start: nil, count: 0), to: $0) }
        #expect(empty == [0, 1, 0x2B])
    }
}

@Suite struct SoupBinTCPParsers {
    /// A Login Request payload (after the type byte) with the given sequence field text.
    func loginPayload(sequenceField: String, session: String = "") -> [UInt8] {
        ByteBuilder.build {
            $0.alpha("trader", width: 6)
            $0.alpha("s3cret", width: 10)
            $0.alpha(session, width: 10)
            precondition(sequenceField.utf8.count == 20)
            $0.bytes += Array(sequenceField.utf8)
        }
    }

    @Test(arguments: [
        ("                1234", UInt64(1234)),   // right-justified, as the spec emits
        ("1234                ", 1234),           // left-justified, as some clients send
        ("    1234            ", 1234),           // spaces on both sides
        ("00000000000000001234", 1234),           // zero-padded
        ("                   0", 0),
        ("                    ", 0),              // all blank reads as 0 (newest)
        ("18446744073709551615", UInt64.max),
    ])
    func parsesRequestedSequenceNumbersHoweverTheyAreJustified(field: String, value: UInt64) {
        let request = withPayload(loginPayload(sequenceField: field)) { SoupBinTCP.parseLoginRequest($0) }
        #expect(request?.sequence == value)
    }

    @Test(arguments: ["12 34               ", "-1                  ", "+1                  ", "12a                 ",
                      "18446744073709551616", "99999999999999999999", "1234\u{0}               "])
    func refusesASequenceNumberThatIsNotANumber(field: String) throws {
        let payload = loginPayload(sequenceField: field)
        #expect(payload.count == 46)
        let decoded = withPayload(payload) { p in
            #expect(SoupBinTCP.parseLoginRequest(p) == nil)
            return SoupBinTCP.decodeLoginRequest(p)
        }
        let error = try #require({ if case .failure(let error) = decoded { error } else { nil } }(), "accepted \(field)")
        #expect(error == .nonNumericSequence)
    }

    @Test func keepsCredentialsAsFixedWidthValues() throws {
        let request = try #require(withPayload(loginPayload(sequenceField: "                   7", session: "S1")) {
            SoupBinTCP.parseLoginRequest($0)
        })
        #expect(request.username == SoupUsername("trader"))
        #expect(request.password.constantTimeEquals(SoupPassword("s3cret")!))
        #expect(!request.password.constantTimeEquals(SoupPassword("s3creT")!))
        #expect(request.session == SoupSessionName("S1"))
        #expect(!request.session.isBlank)
        #expect(request.sequence == 7)
    }

    @Test(arguments: [0, 1, 45, 47, 100])
    func refusesALoginRequestOfTheWrongLength(length: Int) {
        withPayload([UInt8](repeating: 0x20, count: length)) { p in
            #expect(SoupBinTCP.parseLoginRequest(p) == nil)
            if case .failure(let error) = SoupBinTCP.decodeLoginRequest(p) {
                #expect(error == .wrongLength(length))
            } else {
                Issue.record("accepted a \(length)-byte login request")
            }
        }
    }

    @Test func readsBackTheLoginRequestItWrote() throws {
        let packet = written {
            SoupBinTCP.loginRequest(username: SoupUsername("ab")!, password: SoupPassword("0123456789")!,
                                    session: SoupSessionName("SESSIONXYZ")!, sequence: 987_654_321, to: $0)
        }
        let request = try #require(withPayload(Array(packet[3...])) { SoupBinTCP.parseLoginRequest($0) })
        #expect(request.username.description == "ab")
        #expect(request.password.constantTimeEquals(SoupPassword("0123456789")!))
        #expect(request.session.description == "SESSIONXYZ")
        #expect(request.sequence == 987_654_321)
    }

    @Test(arguments: [UInt64(0), 1, 99, 1_000_000_007, .max])
    func readsBackTheLoginAcceptedItWrote(sequence: UInt64) throws {
        let packet = written { SoupBinTCP.loginAccepted(session: SoupSessionName("DAY1")!, sequence: sequence, to: $0) }
        let accepted = try #require(withPayload(Array(packet[3...])) { SoupBinTCP.parseLoginAccepted($0) })
        #expect(accepted.session == SoupSessionName("DAY1"))
        #expect(accepted.sequence == sequence)
    }

    @Test func readsTheLoginRejectedReason() {
        let packet = written { SoupBinTCP.loginRejected(reason: SoupLoginRejectReason.sessionNotAvailable, to: $0) }
        #expect(withPayload(Array(packet[3...])) { SoupBinTCP.parseLoginRejected($0) } == SoupLoginRejectReason.sessionNotAvailable)
    }
}

@Suite struct SoupCredentials {
    @Test func comparesPasswordsByEveryByte() {
        let base = SoupPassword("abcdefghij")!
        #expect(base.constantTimeEquals(SoupPassword("abcdefghij")!))
        for i in 0..<10 {
            var text = Array("abcdefghij".utf8)
            text[i] = 0x5A
            #expect(!base.constantTimeEquals(SoupPassword(String(decoding: text, as: UTF8.self))!), "byte \(i)")
        }
        #expect(SoupPassword("pw")!.constantTimeEquals(SoupPassword("pw        ")!))
    }

    @Test func neverPrintsAPassword() {
        #expect(SoupPassword("hunter2")!.description == "**********")
        #expect("\(SoupPassword("hunter2")!)".contains("hunter2") == false)
    }

    @Test func refusesTextThatDoesNotFit() {
        #expect(SoupUsername("toolong") == nil)
        #expect(SoupPassword("elevenchars") == nil)
        #expect(SoupSessionName("elevenchars") == nil)
        #expect(SoupUsername("tab\t") == nil)
    }

    @Test func printsNamesWithoutPadding() {
        #expect(SoupUsername("bob")!.description == "bob")
        #expect(SoupSessionName("S")!.description == "S")
        #expect(SoupSessionName.blank.description == "")
        #expect(SoupSessionName("")! == .blank)
    }
}
