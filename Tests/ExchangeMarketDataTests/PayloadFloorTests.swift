import ExchangeConfig
import ExchangeMarketData
import ExchangeWire
import Testing

/// The configuration's smallest `market_data.max_payload_bytes` is the publisher's: what one
/// engine event publishes (the longest ITCH message, or a cross fill's two `C`) with the
/// MoldUDP64 header and block headers.
@Suite struct PayloadFloorTests {
    @Test func theConfigurationsSmallestPacketHoldsTheLongestMessage() {
        #expect(MarketDataSettings.minimumPayloadBytes == FeedPublisher.minimumPayload)
        #expect(FeedPublisher.minimumPayload >= MoldUDP64.headerLength + MoldUDP64.blockHeaderLength + ITCH.Length.maximum)
        #expect(FeedPublisher.minimumPayload >= MoldUDP64.headerLength + 2 * (MoldUDP64.blockHeaderLength + ITCH.Length.orderExecutedWithPrice))
        #expect(FeedPublisher.minimumPayload == 96)
    }
}
