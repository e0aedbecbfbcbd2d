/// Division of 32-bit values by a divisor fixed at start, without a divide instruction:
/// `x / d == mulhi64(x, ⌊2⁶⁴ / d⌋ + 1)` for every 32-bit x and d (the error term stays
/// below 1/d because x < 2⁶⁴ / d). A division costs 20–40 cycles; this costs 3.
@usableFromInline
struct Divisor {
    @usableFromInline let divisor: UInt32
    @usableFromInline let reciprocal: UInt64

    init(_ divisor: UInt32) {
        precondition(divisor > 0, "division by zero")
        self.divisor = divisor
        reciprocal = divisor == 1 ? 0 : UInt64.max / UInt64(divisor) &+ 1
    }

    @inline(__always) func quotient(_ x: UInt32) -> UInt32 {
        divisor == 1 ? x : UInt32(truncatingIfNeeded: UInt64(x).multipliedFullWidth(by: reciprocal).high)
    }

    /// Quotient and remainder.
    @inline(__always) func divide(_ x: UInt32) -> (quotient: UInt32, remainder: UInt32) {
        let q = quotient(x)
        return (q, x &- q &* divisor)
    }
}
