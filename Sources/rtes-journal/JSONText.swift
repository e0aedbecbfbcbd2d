/// JSON text for `rtes-journal replay --json`: strings quoted and escaped.
enum JSONText {
    /// `text` as a JSON string: quotes, backslashes and control characters escaped.
    static func string(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default:
                if scalar.value < 0x20 {
                    let digits = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - digits.count) + digits
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    /// A text field as `rtes-journal dump` writes it (`JournalRecord.alphaText`, `tokenText`),
    /// as a JSON string; dump's `""` for an all-blank field is the empty string here.
    static func field(_ text: String) -> String {
        string(text == "\"\"" ? "" : text)
    }
}
