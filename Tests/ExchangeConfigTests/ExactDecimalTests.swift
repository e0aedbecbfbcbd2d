@testable import ExchangeConfig
import Testing

@Suite struct ExactDecimalTests {
    private func scaled(_ literal: String, _ decimals: Int) -> Result<UInt64, ExactDecimal.ScalingFailure>? {
        ExactDecimal(literal: literal)?.scaled(by: decimals)
    }

    @Test(arguments: [
        ("150.00", 4, UInt64(1_500_000)),
        ("150.25", 4, 1_502_500),
        ("0.01", 4, 100),
        ("10", 2, 1_000),
        ("2.5", 2, 250),
        ("1e6", 0, 1_000_000),
        ("1.5e2", 0, 150),
        ("15000e-2", 0, 150),
        ("0.0001", 4, 1),
        ("429496.7295", 4, 4_294_967_295),
        ("1844674407370955.1615", 4, UInt64.max),
        ("18446744073709551615", 0, UInt64.max),
        ("0", 4, 0),
        ("-0.0", 4, 0),
        ("0e999999999999999999", 4, 0),
        ("1.10000000000000000000000", 1, 11),
    ] as [(String, Int, UInt64)])
    func convertsDecimalTextToScaledIntegersExactly(literal: String, decimals: Int, expected: UInt64) {
        #expect(scaled(literal, decimals) == .success(expected))
    }

    @Test func reportsWhyAValueCannotBeScaled() {
        #expect(scaled("0.00001", 4) == .failure(.tooManyDecimals(5)))
        #expect(scaled("150.255", 2) == .failure(.tooManyDecimals(3)))
        #expect(scaled("1.5", 0) == .failure(.tooManyDecimals(1)))
        #expect(scaled("-1", 0) == .failure(.negative))
        #expect(scaled("1844674407370955.1616", 4) == .failure(.tooLarge))
        #expect(scaled("18446744073709551616", 0) == .failure(.tooLarge))
        #expect(scaled("1e400", 0) == .failure(.tooLarge))
        #expect(scaled("1e99999999999999999999", 4) == .failure(.tooLarge))
        #expect(scaled("1e-99999999999999999999", 4) == .failure(.tooManyDecimals(1_000_000)))
    }

    @Test func rejectsTextThatIsNotANumber() {
        for text in ["", "-", "1.", ".5", "1e", "1e+", "abc", "1.2.3", "0x10", "1 "] {
            #expect(ExactDecimal(literal: text) == nil, "\(text)")
        }
    }

    @Test func formatsFixedPointValuesForMessages() {
        #expect(formatFixedPoint(1_502_500, decimals: 4) == "150.25")
        #expect(formatFixedPoint(100, decimals: 4) == "0.01")
        #expect(formatFixedPoint(1_500_000, decimals: 4) == "150")
        #expect(formatFixedPoint(42, decimals: 0) == "42")
    }
}
