import ExchangeConfig
import ExchangeMarketData
import ExchangeWire
import Testing

/// The configuration's smallest `market_data.max_payload_bytes` is the publisher's: the
/// longest ITCH message with the MoldUDP64 header and block header.
@Suite struct PayloadFloorTests {
    @Test func theConfigurationsSmallestPacketHoldsTheLongestMessage() {
        #expect(MarketDataSettings.minimumPayloadBytes == FeedPublisher.minimumPayload)
        #expect(FeedPublisher.minimumPayload == MoldUDP64.headerLength + MoldUDP64.blockHeaderLength + ITCH.Length.maximum)
    }
}
