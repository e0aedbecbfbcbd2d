import ExchangeCore
import ExchangeWire
import Testing

/// The core's order attributes are plain enums; their wire letters live only here, in
/// ExchangeWire. Every case has exactly one letter, every letter one case.
@Suite struct AttributeCodes {
    /// Each case encodes to a distinct byte that decodes back to it; every other byte
    /// decodes to nil; the letters are the OUCH 4.2 (or ITCH 5.0) ones.
    func checkBijection<T: CaseIterable & Equatable>(
        _ type: T.Type, letters: String, encode: (T) -> UInt8, decode: (UInt8) -> T?
    ) {
        let codes = T.allCases.map(encode)
        #expect(codes == Array(letters.utf8), "\(T.self) letters")
        #expect(Set(codes).count == codes.count, "\(T.self) letters not distinct")
        for value in T.allCases { #expect(decode(encode(value)) == value, "\(T.self).\(value)") }
        for byte in UInt8.min...UInt8.max where !codes.contains(byte) {
            #expect(decode(byte) == nil, "\(T.self) decodes \(byte)")
        }
    }

    @Test func sidesRoundTrip() {
        checkBijection(Side.self, letters: "BSTE", encode: \.ouchCode, decode: Side.init(ouchCode:))
    }

    @Test func displaysRoundTrip() {
        checkBijection(Display.self, letters: "YANPL", encode: \.ouchCode, decode: Display.init(ouchCode:))
    }

    @Test func orderStatesRoundTrip() {
        checkBijection(OrderState.self, letters: "LD", encode: \.ouchCode, decode: OrderState.init(ouchCode:))
    }

    @Test func liquidityFlagsRoundTrip() {
        checkBijection(LiquidityFlag.self, letters: "ARJ", encode: \.ouchCode, decode: LiquidityFlag.init(ouchCode:))
    }

    @Test func capacitiesRoundTrip() {
        checkBijection(Capacity.self, letters: "APRO", encode: \.ouchCode, decode: Capacity.init(ouchCode:))
    }

    @Test func intermarketSweepRoundTrips() {
        checkBijection(IntermarketSweep.self, letters: "NY", encode: \.ouchCode, decode: IntermarketSweep.init(ouchCode:))
    }

    @Test func crossTypesRoundTrip() {
        checkBijection(CrossType.self, letters: "NOCHSR", encode: \.ouchCode, decode: CrossType.init(ouchCode:))
    }

    @Test func customerTypesRoundTrip() {
        checkBijection(CustomerType.self, letters: " RN", encode: \.ouchCode, decode: CustomerType.init(ouchCode:))
    }

    @Test func cancelReasonsRoundTrip() {
        checkBijection(CancelReason.self, letters: "UITSQZ", encode: \.ouchCode, decode: CancelReason.init(ouchCode:))
    }

    @Test func bookSidesRoundTripThroughITCH() {
        checkBijection(BookSide.self, letters: "BS", encode: \.itchCode, decode: BookSide.init(itchCode:))
    }
}
