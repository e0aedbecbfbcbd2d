/// Building the paths that name settings in issues: `risk.max_order_size`,
/// `symbols[2].tick_size`. A key that is not a plain identifier is quoted, so a hostile
/// key cannot make a path ambiguous or unreadable: `exchange["odd key"]`.
enum ConfigurationPath {
    static func member(_ parent: String, _ key: String) -> String {
        let plain = !key.isEmpty && key.count <= 64
            && key.utf8.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x5F || $0 == 0x2D }
        if !plain { return parent + "[" + quoted(key) + "]" }
        return parent.isEmpty ? key : parent + "." + key
    }

    static func element(_ parent: String, _ index: Int) -> String {
        "\(parent)[\(index)]"
    }
}
