@testable import ExchangeConfig
import Testing

@Suite struct JSONParserTests {
    private func parse(_ text: String) throws(JSONSyntaxError) -> JSONValue {
        try JSONParser.parse(text, source: .file("t.json"))
    }

    private func syntaxError(_ text: String) -> JSONSyntaxError? {
        do {
            _ = try parse(text)
            return nil
        } catch {
            return error
        }
    }

    @Test func parsesEveryKindOfValueWithItsPosition() throws {
        let value = try parse("{\n  \"a\": [1, \"x\", true, false, null],\n  \"b\": {}\n}")
        let object = try #require(value.object)
        #expect(object.members.map(\.key) == ["a", "b"])
        #expect(object.members[0].keyLocation.line == 2)
        #expect(object.members[0].keyLocation.column == 3)
        let items = try #require({ if case .array(let items) = object["a"]?.kind { items } else { nil } }(), "a is not an array")
        #expect(items.map(\.kind) == [.number("1"), .string("x"), .bool(true), .bool(false), .null])
        #expect(items.map(\.location.column) == [9, 12, 17, 23, 30])
        #expect(object["b"]?.location.line == 3)
    }

    @Test func keepsNumberLiteralsExactlyAsWritten() throws {
        let value = try parse("[150.00, 1e6, -0.5E+2, 0, 429496.7295]")
        let items = try #require({ if case .array(let items) = value.kind { items } else { nil } }(), "not an array")
        #expect(items.map(\.kind) == [.number("150.00"), .number("1e6"), .number("-0.5E+2"), .number("0"), .number("429496.7295")])
    }

    @Test func decodesEscapesAndSurrogatePairs() throws {
        let value = try parse(#""a\"b\\c\/d\b\f\n\r\t\u00e9\ud83d\ude00é""#)
        #expect(value.kind == .string("a\"b\\c/d\u{8}\u{C}\n\r\té😀é"))
    }

    @Test func keepsDuplicateKeysInDocumentOrderAndReadsTheLast() throws {
        let object = try #require(try parse(#"{"k": 1, "j": 2, "k": 3}"#).object)
        #expect(object.members.map(\.key) == ["k", "j", "k"])
        #expect(object["k"]?.kind == .number("3"))
        #expect(object.duplicates.count == 1)
        #expect(object.duplicates.first?.first.keyLocation.column == 2)
        #expect(object.duplicates.first?.duplicate.keyLocation.column == 18)
    }

    @Test func countsColumnsInCharactersNotBytes() throws {
        let object = try #require(try parse(#"{"é😀": "ü", "x": 1}"#).object)
        // { " é 😀 " : space " ü " , space " -> the key "x" starts at column 13.
        #expect(object.members[1].keyLocation.column == 13)
    }

    @Test(arguments: [
        ("", 1, 1, "empty"),
        ("{", 1, 2, "end of input"),
        ("{\"a\" 1}", 1, 6, "':'"),
        ("{\"a\": 1,}", 1, 9, "trailing comma"),
        ("[1, 2,]", 1, 7, "trailing comma"),
        ("[1 2]", 1, 4, "',' or ']'"),
        ("{'a': 1}", 1, 2, "double quotes"),
        ("{a: 1}", 1, 2, "a key in double quotes"),
        ("[01]", 1, 3, "leading zeros"),
        ("[1.]", 1, 4, "decimal point"),
        ("[.5]", 1, 2, "must start with a digit"),
        ("[+1]", 1, 2, "'+'"),
        ("[1e]", 1, 4, "exponent"),
        ("[-]", 1, 3, "after '-'"),
        ("[NaN]", 1, 2, "unexpected character 'N'"),
        ("[tru]", 1, 2, "expected true"),
        ("[\"abc", 1, 6, "unterminated string"),
        ("[\"a\nb\"]", 1, 4, "control character"),
        ("[\"\\q\"]", 1, 4, "invalid escape"),
        ("[\"\\u12G4\"]", 1, 7, "four hexadecimal digits"),
        ("[\"\\ud800\"]", 1, 9, "low surrogate"),
        ("[\"\\udc00\"]", 1, 9, "must follow a high surrogate"),
        ("{\"a\": 1} x", 1, 10, "after the end"),
        ("{\n  \"a\": 1, // note\n}", 2, 11, "no comments"),
        ("[\u{201C}a\u{201D}]", 1, 2, "straight double quotes"),
    ] as [(String, Int, Int, String)])
    func reportsMalformedInputWithLineAndColumn(input: String, line: Int, column: Int, fragment: String) throws {
        let error = try #require(syntaxError(input))
        #expect(error.location.line == line, "\(error)")
        #expect(error.location.column == column, "\(error)")
        #expect(error.message.contains(fragment), "\(error)")
    }

    @Test func rejectsInvalidUTF8WithItsPosition() throws {
        for bytes: [UInt8] in [[0x22, 0xFF, 0x22], [0x22, 0xC3, 0x22], [0x22, 0xED, 0xA0, 0x80, 0x22], [0x22, 0xF0, 0x9F], [0xC3, 0xA9]] {
            do {
                _ = try JSONParser.parse(bytes, source: .file("t.json"))
                Issue.record("accepted \(bytes)")
            } catch {
                #expect(error.location.line == 1)
                #expect(error.location.column >= 1)
            }
        }
    }

    @Test func acceptsNestingUpToTheLimitAndRejectsDeeperNesting() throws {
        let limit = JSONParser.maximumDepth
        _ = try parse(String(repeating: "[", count: limit) + String(repeating: "]", count: limit))
        let error = try #require(syntaxError(String(repeating: "[", count: limit + 1) + String(repeating: "]", count: limit + 1)))
        #expect(error.message.contains("nested more than \(limit) levels"))
        #expect(error.location.column == limit + 1)
        // Hostile depth neither recurses deeply nor crashes.
        #expect(syntaxError(String(repeating: "{\"a\":", count: 100_000)) != nil)
    }

    @Test func acceptsAByteOrderMarkAndSurroundingWhitespace() throws {
        let value = try JSONParser.parse([0xEF, 0xBB, 0xBF] + Array(" \r\n\t{}\n ".utf8), source: .file("t.json"))
        #expect(value.location.line == 2)
    }
}
