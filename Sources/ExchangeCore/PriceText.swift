/// Prices as people read them: the 4 implied decimals written out.
/// For tools, logs and the admin plane — never called while matching.
public enum PriceText {
    /// `2_300_000` → `230.0000`; with fewer `decimals` (0…4) the last digits are cut
    /// (`decimals: 2` → `230.00`).
    public static func format(_ price: Price, decimals: Int = 4) -> String {
        let whole = String(price / 10_000)
        guard decimals > 0 else { return whole }
        let fraction = String(price % 10_000)
        let padded = String(repeating: "0", count: 4 - fraction.count) + fraction
        return whole + "." + padded.prefix(min(decimals, 4))
    }
}
