/// A JSON number read exactly from its literal text: `digits × 10^exponent`, with no
/// floating point anywhere, so that `150.25` becomes exactly 1_502_500 price units.
struct ExactDecimal: Sendable, Equatable {
    /// Why a number cannot be represented as a scaled unsigned integer.
    enum ScalingFailure: Error, Sendable, Equatable {
        case negative
        /// The value needs this many decimals, more than allowed.
        case tooManyDecimals(Int)
        case tooLarge
    }

    var isNegative: Bool
    /// Significant decimal digits (0–9) without leading or trailing zeros; empty for zero.
    var digits: [UInt8]
    /// Power of ten applied to `digits`.
    var exponent: Int

    var isZero: Bool { digits.isEmpty }

    /// Decimals needed to write the value (`0.25` needs 2, `100` and `1e2` need 0).
    var decimalPlaces: Int { isZero ? 0 : max(0, -exponent) }

    /// Reads a literal in JSON number grammar; nil for anything else.
    init?(literal: String) {
        var bytes = Array(literal.utf8)[...]
        isNegative = bytes.first == UInt8(ascii: "-")
        if isNegative { bytes = bytes.dropFirst() }
        var significand: [UInt8] = []
        var fractionDigits = 0
        var sawDigit = false
        var sawPoint = false
        while let byte = bytes.first, byte != UInt8(ascii: "e"), byte != UInt8(ascii: "E") {
            bytes = bytes.dropFirst()
            if byte == UInt8(ascii: ".") {
                guard !sawPoint, sawDigit else { return nil }
                sawPoint = true
                continue
            }
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            sawDigit = true
            significand.append(byte - UInt8(ascii: "0"))
            if sawPoint { fractionDigits += 1 }
        }
        guard sawDigit, !(sawPoint && fractionDigits == 0) else { return nil }
        var exponent = 0
        if !bytes.isEmpty {
            bytes = bytes.dropFirst()  // e or E
            var negativeExponent = false
            if let sign = bytes.first, sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") {
                negativeExponent = sign == UInt8(ascii: "-")
                bytes = bytes.dropFirst()
            }
            guard !bytes.isEmpty else { return nil }
            for byte in bytes {
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
                // Saturate: beyond a million the value is out of any range we accept anyway.
                exponent = min(exponent * 10 + Int(byte - UInt8(ascii: "0")), 1_000_000)
            }
            if negativeExponent { exponent = -exponent }
        }
        exponent -= fractionDigits
        // Normalise: no leading zeros, no trailing zeros.
        let firstNonZero = significand.firstIndex(where: { $0 != 0 }) ?? significand.endIndex
        significand.removeSubrange(..<firstNonZero)
        while let last = significand.last, last == 0 {
            significand.removeLast()
            exponent += 1
        }
        self.digits = significand
        self.exponent = significand.isEmpty ? 0 : exponent
        if significand.isEmpty { isNegative = false }  // -0 is zero
    }

    /// The value × 10^`decimals` as an unsigned integer: `scaled(by: 4)` of `150.25` is 1_502_500.
    func scaled(by decimals: Int) -> Result<UInt64, ScalingFailure> {
        if isZero { return .success(0) }
        if isNegative { return .failure(.negative) }
        let shift = exponent + decimals
        if shift < 0 { return .failure(.tooManyDecimals(decimalPlaces)) }
        if digits.count + shift > 20 { return .failure(.tooLarge) }  // UInt64.max has 20 digits
        var value: UInt64 = 0
        for digit in digits {
            let (shifted, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = shifted.addingReportingOverflow(UInt64(digit))
            if overflow1 || overflow2 { return .failure(.tooLarge) }
            value = sum
        }
        for _ in 0..<shift {
            let (shifted, overflow) = value.multipliedReportingOverflow(by: 10)
            if overflow { return .failure(.tooLarge) }
            value = shifted
        }
        return .success(value)
    }
}

/// `units` with `decimals` implied decimals as the shortest decimal text:
/// `formatFixedPoint(1_502_500, decimals: 4)` is `150.25`, `formatFixedPoint(100, decimals: 4)` is `0.01`.
func formatFixedPoint(_ units: UInt64, decimals: Int) -> String {
    guard decimals > 0 else { return String(units) }
    var divisor: UInt64 = 1
    for _ in 0..<decimals { divisor *= 10 }
    let whole = units / divisor
    var fraction = String(units % divisor).leftPadded(to: decimals)
    while fraction.hasSuffix("0") { fraction.removeLast() }
    return fraction.isEmpty ? String(whole) : "\(whole).\(fraction)"
}
