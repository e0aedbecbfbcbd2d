import ExchangeConfig

/// JSON text for `rtes-journal replay --json`: strings quoted and escaped.
enum JSONText {
    /// `text` as a JSON string: quotes, backslashes and control characters escaped.
    static func string(_ text: String) -> String {
        jsonString(text)
    }

    /// A text field as `rtes-journal dump` writes it (`JournalRecord.alphaText`, `tokenText`),
    /// as a JSON string; dump's `""` for an all-blank field is the empty string here.
    static func field(_ text: String) -> String {
        string(text == "\"\"" ? "" : text)
    }
}
