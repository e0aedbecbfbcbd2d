/// A strict RFC 8259 JSON parser that keeps number literals as text, keeps duplicate keys,
/// and records the line and column of every value. Malformed input of any kind produces a
/// `JSONSyntaxError`; nesting is limited to `maximumDepth` so hostile input cannot exhaust
/// the stack.
struct JSONParser {
    static let maximumDepth = 64

    private let bytes: [UInt8]
    private let source: SourceLocation.Source
    private var index = 0
    private var line = 1
    private var lineStart = 0
    // Column cache: positions are asked for in increasing order, so columns are counted
    // incrementally and a long single-line document stays linear.
    private var cachedIndex = 0
    private var cachedColumn = 1
    private var cachedLineStart = 0

    static func parse(_ text: String, source: SourceLocation.Source) throws(JSONSyntaxError) -> JSONValue {
        try parse(Array(text.utf8), source: source)
    }

    static func parse(_ bytes: [UInt8], source: SourceLocation.Source) throws(JSONSyntaxError) -> JSONValue {
        var parser = JSONParser(bytes: bytes, source: source)
        return try parser.parseDocument()
    }

    private init(bytes: [UInt8], source: SourceLocation.Source) {
        self.bytes = bytes
        self.source = source
    }

    // MARK: Document and values

    private mutating func parseDocument() throws(JSONSyntaxError) -> JSONValue {
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { index = 3 }  // tolerate a UTF-8 byte order mark
        skipWhitespace()
        guard index < bytes.count else { throw failure("the document is empty; expected a JSON value") }
        let value = try parseValue(depth: 0)
        skipWhitespace()
        if index < bytes.count {
            throw failure("unexpected \(describeCurrent()) after the end of the JSON value\(commentHint())")
        }
        return value
    }

    private mutating func parseValue(depth: Int) throws(JSONSyntaxError) -> JSONValue {
        guard index < bytes.count else { throw failure("unexpected end of input; expected a value") }
        switch bytes[index] {
        case UInt8(ascii: "{"): return try parseObject(depth: depth + 1)
        case UInt8(ascii: "["): return try parseArray(depth: depth + 1)
        case UInt8(ascii: "\""):
            let location = currentLocation()
            return JSONValue(.string(try parseString()), at: location)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            let location = currentLocation()
            return JSONValue(.number(try parseNumber()), at: location)
        case UInt8(ascii: "t"): return try parseLiteral("true", .bool(true))
        case UInt8(ascii: "f"): return try parseLiteral("false", .bool(false))
        case UInt8(ascii: "n"): return try parseLiteral("null", .null)
        case UInt8(ascii: "'"): throw failure("strings must be in double quotes, not single quotes")
        case UInt8(ascii: "."): throw failure("a number must start with a digit (write 0.5, not .5)")
        case UInt8(ascii: "+"): throw failure("a number must not start with '+'")
        default:
            throw failure("unexpected \(describeCurrent()); expected a value (object, array, string, number, true, false or null)\(commentHint())")
        }
    }

    private mutating func parseObject(depth: Int) throws(JSONSyntaxError) -> JSONValue {
        let start = currentLocation()
        guard depth <= Self.maximumDepth else {
            throw failure("objects and arrays are nested more than \(Self.maximumDepth) levels deep")
        }
        index += 1  // {
        var members: [JSONObject.Member] = []
        skipWhitespace()
        if peek(is: "}") {
            index += 1
            return JSONValue(.object(JSONObject(members)), at: start)
        }
        while true {
            skipWhitespace()
            guard peek(is: "\"") else {
                if peek(is: "}") { throw failure("a trailing comma before '}' is not allowed") }
                if peek(is: "'") { throw failure("keys must be in double quotes, not single quotes") }
                throw unexpected(expected: "a key in double quotes", inside: "object", startedAt: start)
            }
            let keyLocation = currentLocation()
            let key = try parseString()
            skipWhitespace()
            guard peek(is: ":") else {
                throw unexpected(expected: "':' after the key \(quoted(key))", inside: "object", startedAt: start)
            }
            index += 1
            skipWhitespace()
            let value = try parseValue(depth: depth)
            members.append(JSONObject.Member(key: key, keyLocation: keyLocation, value: value))
            skipWhitespace()
            if peek(is: ",") {
                index += 1
                continue
            }
            if peek(is: "}") {
                index += 1
                return JSONValue(.object(JSONObject(members)), at: start)
            }
            throw unexpected(expected: "',' or '}'", inside: "object", startedAt: start)
        }
    }

    private mutating func parseArray(depth: Int) throws(JSONSyntaxError) -> JSONValue {
        let start = currentLocation()
        guard depth <= Self.maximumDepth else {
            throw failure("objects and arrays are nested more than \(Self.maximumDepth) levels deep")
        }
        index += 1  // [
        var elements: [JSONValue] = []
        skipWhitespace()
        if peek(is: "]") {
            index += 1
            return JSONValue(.array(elements), at: start)
        }
        while true {
            skipWhitespace()
            if peek(is: "]") { throw failure("a trailing comma before ']' is not allowed") }
            if index >= bytes.count {
                throw unexpected(expected: "a value", inside: "array", startedAt: start)
            }
            elements.append(try parseValue(depth: depth))
            skipWhitespace()
            if peek(is: ",") {
                index += 1
                continue
            }
            if peek(is: "]") {
                index += 1
                return JSONValue(.array(elements), at: start)
            }
            throw unexpected(expected: "',' or ']'", inside: "array", startedAt: start)
        }
    }

    private mutating func parseLiteral(_ word: String, _ kind: JSONValue.Kind) throws(JSONSyntaxError) -> JSONValue {
        let location = currentLocation()
        let expected = Array(word.utf8)
        guard bytes.count - index >= expected.count, bytes[index..<index + expected.count].elementsEqual(expected) else {
            throw failure("invalid literal; expected \(word) (true, false and null are lower-case and unquoted)")
        }
        index += expected.count
        return JSONValue(kind, at: location)
    }

    // MARK: Numbers

    /// Checks the RFC 8259 number grammar and returns the literal text.
    private mutating func parseNumber() throws(JSONSyntaxError) -> String {
        let start = index
        if peek(is: "-") { index += 1 }
        guard index < bytes.count, isDigit(bytes[index]) else {
            throw failure("expected a digit after '-'")
        }
        if bytes[index] == UInt8(ascii: "0") {
            index += 1
            if index < bytes.count, isDigit(bytes[index]) {
                throw failure("numbers must not have leading zeros")
            }
        } else {
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
        }
        if peek(is: ".") {
            index += 1
            guard index < bytes.count, isDigit(bytes[index]) else {
                throw failure("expected a digit after the decimal point")
            }
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
        }
        if peek(is: "e") || peek(is: "E") {
            index += 1
            if peek(is: "+") || peek(is: "-") { index += 1 }
            guard index < bytes.count, isDigit(bytes[index]) else {
                throw failure("expected a digit in the exponent")
            }
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
        }
        return String(decoding: bytes[start..<index], as: UTF8.self)
    }

    // MARK: Strings

    /// Parses a string starting at its opening quote: escapes decoded, UTF-8 validated.
    private mutating func parseString() throws(JSONSyntaxError) -> String {
        let start = currentLocation()
        index += 1  // "
        var buffer: [UInt8] = []
        while true {
            guard index < bytes.count else {
                throw failure("unterminated string (it starts at \(start.line):\(start.column))")
            }
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "\""):
                index += 1
                return String(decoding: buffer, as: UTF8.self)
            case UInt8(ascii: "\\"):
                try parseEscape(into: &buffer)
            case 0..<0x20:
                let hint = byte == 0x0A ? " (strings cannot span lines; is a closing quote missing?)" : ""
                throw failure("control character U+\(hex(byte, width: 4)) must be escaped inside a string\(hint)")
            case 0x20..<0x80:
                buffer.append(byte)
                index += 1
            default:
                let length = try utf8SequenceLength()
                buffer.append(contentsOf: bytes[index..<index + length])
                index += length
            }
        }
    }

    private mutating func parseEscape(into buffer: inout [UInt8]) throws(JSONSyntaxError) {
        index += 1  // backslash
        guard index < bytes.count else { throw failure("unterminated escape sequence at the end of the input") }
        let byte = bytes[index]
        let simple: UInt8?
        switch byte {
        case UInt8(ascii: "\""): simple = 0x22
        case UInt8(ascii: "\\"): simple = 0x5C
        case UInt8(ascii: "/"): simple = 0x2F
        case UInt8(ascii: "b"): simple = 0x08
        case UInt8(ascii: "f"): simple = 0x0C
        case UInt8(ascii: "n"): simple = 0x0A
        case UInt8(ascii: "r"): simple = 0x0D
        case UInt8(ascii: "t"): simple = 0x09
        case UInt8(ascii: "u"): simple = nil
        default:
            throw failure("invalid escape sequence; allowed are \\\" \\\\ \\/ \\b \\f \\n \\r \\t and \\uXXXX")
        }
        if let simple {
            buffer.append(simple)
            index += 1
            return
        }
        index += 1  // u
        var scalar = try parseHexQuad()
        if (0xD800...0xDBFF).contains(scalar) {
            guard peek(is: "\\"), index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "u") else {
                throw failure("a high surrogate \\u\(hex(scalar, width: 4)) must be followed by a low surrogate \\uDC00–\\uDFFF")
            }
            index += 2
            let low = try parseHexQuad()
            guard (0xDC00...0xDFFF).contains(low) else {
                throw failure("a high surrogate must be followed by a low surrogate \\uDC00–\\uDFFF, found \\u\(hex(low, width: 4))")
            }
            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
        } else if (0xDC00...0xDFFF).contains(scalar) {
            throw failure("a low surrogate \\u\(hex(scalar, width: 4)) must follow a high surrogate")
        }
        guard let unicode = Unicode.Scalar(scalar) else {
            throw failure("\\u\(hex(scalar, width: 4)) is not a Unicode scalar")
        }
        buffer.append(contentsOf: Array(String(Character(unicode)).utf8))
    }

    private mutating func parseHexQuad() throws(JSONSyntaxError) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard index < bytes.count, let digit = hexValue(bytes[index]) else {
                throw failure("\\u must be followed by exactly four hexadecimal digits")
            }
            value = value << 4 | UInt32(digit)
            index += 1
        }
        return value
    }

    /// The length of the valid UTF-8 sequence starting at `index` (a non-ASCII byte).
    private mutating func utf8SequenceLength() throws(JSONSyntaxError) -> Int {
        let lead = bytes[index]
        let length: Int
        var secondRange: ClosedRange<UInt8> = 0x80...0xBF
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; secondRange = 0xA0...0xBF
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED: length = 3; secondRange = 0x80...0x9F
        case 0xF0: length = 4; secondRange = 0x90...0xBF
        case 0xF1...0xF3: length = 4
        case 0xF4: length = 4; secondRange = 0x80...0x8F
        default: throw failure("invalid UTF-8 byte 0x\(hex(lead, width: 2)); the file must be UTF-8")
        }
        guard bytes.count - index >= length else {
            throw failure("truncated UTF-8 sequence; the file must be UTF-8")
        }
        for offset in 1..<length {
            let byte = bytes[index + offset]
            let range = offset == 1 ? secondRange : 0x80...0xBF
            guard range.contains(byte) else {
                throw failure("invalid UTF-8 sequence starting with byte 0x\(hex(lead, width: 2)); the file must be UTF-8")
            }
        }
        return length
    }

    // MARK: Positions and errors

    private mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0D:
                index += 1
            case 0x0A:
                index += 1
                line += 1
                lineStart = index
            default:
                return
            }
        }
    }

    private func peek(is character: Unicode.Scalar) -> Bool {
        index < bytes.count && bytes[index] == UInt8(ascii: character)
    }

    private mutating func currentLocation() -> SourceLocation {
        if cachedLineStart != lineStart || cachedIndex > index {
            cachedLineStart = lineStart
            cachedIndex = lineStart
            cachedColumn = 1
        }
        while cachedIndex < index && cachedIndex < bytes.count {
            if bytes[cachedIndex] & 0xC0 != 0x80 { cachedColumn += 1 }
            cachedIndex += 1
        }
        return SourceLocation(source: source, line: line, column: cachedColumn)
    }

    private mutating func failure(_ message: String) -> JSONSyntaxError {
        JSONSyntaxError(location: currentLocation(), message: message)
    }

    private mutating func unexpected(expected: String, inside container: String, startedAt start: SourceLocation) -> JSONSyntaxError {
        let opened = "the \(container) that starts at \(start.line):\(start.column)"
        if index >= bytes.count {
            return failure("unexpected end of input; expected \(expected) in \(opened)")
        }
        return failure("unexpected \(describeCurrent()); expected \(expected) in \(opened)\(commentHint())")
    }

    private func commentHint() -> String {
        peek(is: "/") ? " (JSON has no comments)" : ""
    }

    /// The byte at `index` for a message: `'x'` for printable ASCII, else its code.
    private func describeCurrent() -> String {
        guard index < bytes.count else { return "end of input" }
        let byte = bytes[index]
        if byte >= 0x21 && byte < 0x7F { return "character '\(Character(Unicode.Scalar(byte)))'" }
        if byte < 0x80 { return "character U+\(hex(byte, width: 4))" }
        for length in 2...4 where bytes.count - index >= length {
            if let text = String(validating: bytes[index..<index + length], as: UTF8.self), text.count == 1 {
                let hint = ["\u{201C}", "\u{201D}", "\u{2018}", "\u{2019}"].contains(text) ? " (use straight double quotes \")" : ""
                return "character '\(text)'\(hint)"
            }
        }
        return "byte 0x\(hex(byte, width: 2))"
    }
}

private func isDigit(_ byte: UInt8) -> Bool {
    byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
}

private func hexValue(_ byte: UInt8) -> UInt8? {
    switch byte {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
    default: return nil
    }
}

private func hex<T: BinaryInteger>(_ value: T, width: Int) -> String {
    String(value, radix: 16, uppercase: true).leftPadded(to: width)
}
