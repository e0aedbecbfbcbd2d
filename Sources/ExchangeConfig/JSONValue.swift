/// A parsed JSON value with the place it was written. Numbers keep their literal text so
/// that they can be converted to fixed-point integers exactly (see `ExactDecimal`).
struct JSONValue: Sendable, Equatable {
    enum Kind: Sendable, Equatable {
        case object(JSONObject)
        case array([JSONValue])
        case string(String)
        /// The number exactly as written, e.g. `150.00` or `1e6`; always valid JSON grammar.
        case number(String)
        case bool(Bool)
        case null
    }

    var kind: Kind
    var location: SourceLocation

    init(_ kind: Kind, at location: SourceLocation) {
        self.kind = kind
        self.location = location
    }

    var object: JSONObject? {
        if case .object(let object) = kind { return object }
        return nil
    }

    /// A short human description for messages: `string "abc"`, `number 1.5`, `an object`.
    /// Long text is shortened so hostile input cannot flood the report.
    var summary: String {
        switch kind {
        case .object: return "an object"
        case .array: return "an array"
        case .string(let text): return "string \(quoted(text))"
        case .number(let literal): return "number \(abbreviated(literal))"
        case .bool(let flag): return flag ? "true" : "false"
        case .null: return "null"
        }
    }
}

/// `text` in double quotes with control characters and quotes escaped, at most 40 characters.
func quoted(_ text: String) -> String {
    jsonString(abbreviated(text))
}

/// `text` as a JSON string literal (RFC 8259): in double quotes, with quotes, backslashes and
/// control characters (DEL included) escaped, everything else as it is. The one escaper of the
/// package: configuration messages, `rtes-journal`'s JSON, the exchange's JSON log lines.
public func jsonString(_ text: String) -> String {
    var out = "\""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\t": out += "\\t"
        case "\r": out += "\\r"
        default:
            if scalar.value < 0x20 || scalar.value == 0x7F {
                out += "\\u" + String(scalar.value, radix: 16).leftPadded(to: 4)
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
    }
    return out + "\""
}

/// `text` cut to 40 characters, with an ellipsis when cut.
func abbreviated(_ text: String, limit: Int = 40) -> String {
    if text.count <= limit { return text }
    return String(text.prefix(limit - 1)) + "…"
}

extension String {
    func leftPadded(to width: Int, with pad: Character = "0") -> String {
        count >= width ? self : String(repeating: pad, count: width - count) + self
    }
}
