// Keeping secrets out of the API keys file's problems, even when the file is not valid JSON
// (so that nothing can be known about which string is which): every text that follows a
// key mentioning a password or secret is treated as a secret, wherever it ends up in a
// message, and replaced.
extension APIKeys {
    /// The texts of `bytes` that may be secrets: what follows `pass…` / `secret…` / `pwd`
    /// keys (quoted or not), and anything that looks like a scrypt hash.
    static func secretCandidates(in bytes: [UInt8]) -> [String] {
        let lower = bytes.map { $0 >= 0x41 && $0 <= 0x5A ? $0 + 0x20 : $0 }
        var candidates: Set<String> = []
        for marker in ["pass", "secret", "pwd", "$scrypt"] {
            let word = Array(marker.utf8)
            var i = 0
            while i + word.count <= lower.count {
                guard lower[i..<i + word.count].elementsEqual(word) else {
                    i += 1
                    continue
                }
                if marker == "$scrypt" {
                    var end = i
                    while end < bytes.count, end - i < 512, bytes[end] != 0x22, bytes[end] > 0x20 { end += 1 }
                    candidates.insert(String(decoding: bytes[i..<end], as: UTF8.self))
                } else {
                    // The rest of the key, then separators, then the value.
                    var j = i + word.count
                    while j < bytes.count, !isValueBoundary(bytes[j]), j - i < 64 { j += 1 }
                    var skipped = 0
                    while j < bytes.count, skipped < 16, isSeparator(bytes[j]) {
                        j += 1
                        skipped += 1
                    }
                    candidates.insert(run(bytes, from: j))
                }
                i += word.count
            }
        }
        return candidates.filter { $0.utf8.count >= 3 }.sorted { $0.utf8.count > $1.utf8.count }
    }

    /// The bytes from `start` up to a quote, comma, brace, bracket or line end (at most 256).
    private static func run(_ bytes: [UInt8], from start: Int) -> String {
        var end = start
        while end < bytes.count, end - start < 256, !isValueBoundary(bytes[end]) { end += 1 }
        return String(decoding: bytes[start..<min(end, bytes.count)], as: UTF8.self)
    }

    private static func isValueBoundary(_ byte: UInt8) -> Bool {
        byte == 0x22 || byte == 0x2C || byte == 0x7D || byte == 0x5D || byte == 0x0A || byte == 0x0D
    }

    /// What may stand between a key and its value in a damaged file: quotes, colon, comma, blanks.
    private static func isSeparator(_ byte: UInt8) -> Bool {
        byte == 0x22 || byte == 0x3A || byte == 0x2C || byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
    }
}

extension ConfigurationError {
    /// The same problems with every text that may be a secret of `bytes` replaced.
    func redacting(secretsIn bytes: [UInt8]) -> ConfigurationError {
        let candidates = APIKeys.secretCandidates(in: bytes)
        func scrub(_ text: String) -> String {
            var out = text
            for candidate in candidates where out.contains(candidate) {
                out = out.replacing(candidate, with: "<redacted>")
            }
            return out
        }
        return ConfigurationError(issues: issues.map { issue in
            // A file that is not JSON: which string is a key and which a secret cannot be
            // known, so no quoted text of it is shown at all (positions say where).
            let message = issue.message.hasPrefix("not valid JSON") ? Self.blankingQuotes(issue.message) : issue.message
            return ConfigurationIssue(path: scrub(issue.path), location: issue.location, message: scrub(message))
        })
    }

    /// Every "…" in `text` replaced by "<not shown>".
    static func blankingQuotes(_ text: String) -> String {
        var out = ""
        var inside = false
        var escaped = false
        for character in text {
            if inside {
                if escaped { escaped = false } else if character == "\\" { escaped = true } else if character == "\"" {
                    inside = false
                    out += "<not shown>\""
                }
                continue
            }
            out.append(character)
            if character == "\"" { inside = true }
        }
        if inside { out += "<not shown>" }
        return out
    }
}
