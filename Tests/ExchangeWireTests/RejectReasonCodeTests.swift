import ExchangeCore
import ExchangeWire
import Testing

@Suite struct RejectReasonOUCHCodes {
    @Test func mapsEveryReasonToAnOuchRejectCode() {
        let ouchCodes = Set("THZSDCLMRXNOabcdefghijklmn".utf8)
        for reason in RejectReason.allCases { #expect(ouchCodes.contains(reason.ouchCode), "\(reason)") }
        #expect(RejectReason.maxOrderSizeExceeded.ouchCode == UInt8(ascii: "Z"))
        #expect(RejectReason.maxNotionalExceeded.ouchCode == UInt8(ascii: "n"))
        #expect(RejectReason.clientKilled.ouchCode == UInt8(ascii: "a"))
        #expect(RejectReason.priceCollarBreached.ouchCode == UInt8(ascii: "X"))
    }
}
