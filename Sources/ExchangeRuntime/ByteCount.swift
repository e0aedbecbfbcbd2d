/// Byte counts for logs: "64 MiB", "1.5 GiB", "4 KiB", "100 B" (one decimal, truncated).
public enum ByteCount {
    public static func format(_ bytes: Int) -> String {
        let units: [(size: Int, name: String)] = [
            (1 << 40, "TiB"), (1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB"),
        ]
        for unit in units where bytes >= unit.size {
            let whole = bytes / unit.size
            let tenths = (bytes % unit.size) * 10 / unit.size
            return tenths == 0 && bytes % unit.size == 0
                ? "\(whole) \(unit.name)"
                : "\(whole).\(tenths) \(unit.name)"
        }
        return "\(bytes) B"
    }
}
