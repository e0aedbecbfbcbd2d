import ExchangeCore
import Testing

@Suite struct OrderTokenTests {
    @Test func makesANumberIntoFourteenRightAlignedDigits() {
        #expect(OrderToken(number: 42).description == "00000000000042")
        #expect(OrderToken(number: 12_345_678_901_234) == OrderToken("12345678901234")!)
        #expect(OrderToken(number: 0) == OrderToken("00000000000000")!)
    }

    @Test func putsTheNumberAfterAPrefixAndDropsDigitsThatDoNotFit() {
        let k3zq = UInt64(0x4B33_5A51) << 32  // "K3ZQ"
        #expect(OrderToken(prefix: k3zq, prefixLength: 4, number: 42) == OrderToken("K3ZQ0000000042")!)
        #expect(OrderToken(prefix: UInt64(UInt8(ascii: "L")) << 56, prefixLength: 1, number: 7) == OrderToken("L0000000000007")!)
        #expect(OrderToken(prefix: k3zq, prefixLength: 4, number: 12_345_678_901) == OrderToken("K3ZQ2345678901")!)
    }
}
