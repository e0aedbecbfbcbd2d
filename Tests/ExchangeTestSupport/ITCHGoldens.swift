import ExchangeCore
import ExchangeWire

/// One ITCH 5.0 message of each type the feed publishes, with its bytes computed
/// independently from the published layouts (Python's struct.pack). The codec tests check
/// the encoder and decoder against them; the market-data tests feed them to itchfeed.
public enum ITCHGoldens {
    /// 09:30:00.000000123
    public static let ts: Timestamp = 34_200_000_000_123
    static let aapl = Symbol("AAPL")!
    static let msft = Symbol("MSFT")!

    public static let all: [(name: String, message: ITCHMessage, hex: String)] = [
        ("S system event", .systemEvent(.init(timestamp: ts, code: .startOfMessages)), "53000000001f1aced9f07b4f"),
        ("R stock directory", .stockDirectory(.init(locate: 1, timestamp: ts, instrument: InstrumentSpec(symbol: aapl, tickSize: 100, lotSize: 100, collarBasisPoints: 1_000, referencePrice: 2_300_000))),
         "52000100001f1aced9f07b4141504c2020202020200000006459435a20504e20204e000000004e"),
        ("H trading action", .tradingAction(.init(locate: 2, timestamp: ts, symbol: msft, state: ITCH.TradingState.halted.rawValue,
                                                  reason: ITCH.Reason.operationsHalt)),
         "48000200001f1aced9f07b4d5346542020202048204f312020"),
        ("A add order", .addOrder(.init(locate: 1, timestamp: ts, reference: 42, side: ITCH.buy, shares: 300, symbol: aapl, price: 2_301_500)),
         "41000100001f1aced9f07b000000000000002a420000012c4141504c2020202000231e3c"),
        ("F add order with MPID", .addOrder(.init(locate: 1, timestamp: ts, reference: 43, side: ITCH.sell, shares: 200, symbol: aapl,
                                                  price: 2_302_000, attribution: Firm("ALCE")!)),
         "46000100001f1aced9f07b000000000000002b53000000c84141504c2020202000232030414c4345"),
        ("E order executed", .orderExecuted(.init(locate: 1, timestamp: ts, reference: 42, shares: 100, matchNumber: 7)),
         "45000100001f1aced9f07b000000000000002a000000640000000000000007"),
        ("C executed with price", .orderExecutedWithPrice(.init(locate: 1, timestamp: ts, reference: 42, shares: 100, matchNumber: 8,
                                                                printable: 0x59, price: 2_301_400)),
         "43000100001f1aced9f07b000000000000002a0000006400000000000000085900231dd8"),
        ("X order cancel", .orderCancel(.init(locate: 1, timestamp: ts, reference: 42, canceledShares: 50)),
         "58000100001f1aced9f07b000000000000002a00000032"),
        ("D order delete", .orderDelete(.init(locate: 1, timestamp: ts, reference: 42)), "44000100001f1aced9f07b000000000000002a"),
        ("U order replace", .orderReplace(.init(locate: 1, timestamp: ts, originalReference: 42, newReference: 44, shares: 150, price: 2_301_600)),
         "55000100001f1aced9f07b000000000000002a000000000000002c0000009600231ea0"),
        ("P trade", .trade(.init(locate: 1, timestamp: ts, side: ITCH.sell, shares: 25, symbol: aapl, price: 2_302_500, matchNumber: 9)),
         "50000100001f1aced9f07b000000000000000053000000194141504c20202020002322240000000000000009"),
        ("Q cross trade", .crossTrade(.init(locate: 1, timestamp: ts, shares: 1_500, symbol: aapl, price: 2_301_000, matchNumber: 10,
                                            crossType: ITCH.CrossTypeCode.opening.rawValue)),
         "51000100001f1aced9f07b00000000000005dc4141504c2020202000231c48000000000000000a4f"),
        ("I net order imbalance", .imbalance(.init(locate: 1, timestamp: ts, pairedShares: 1_200, imbalanceShares: 300,
                                                   direction: ITCH.ImbalanceDirectionCode.buy.rawValue, symbol: aapl,
                                                   farPrice: 2_301_000, nearPrice: 2_301_000, referencePrice: 2_300_000,
                                                   crossType: ITCH.CrossTypeCode.opening.rawValue, priceVariation: 0x4C)),
         "49000100001f1aced9f07b00000000000004b0000000000000012c424141504c2020202000231c4800231c48002318604f4c"),
        ("H trading action, LULD pause", .tradingAction(.init(locate: 1, timestamp: ts, symbol: aapl, state: ITCH.TradingState.halted.rawValue,
                                                              reason: ITCH.Reason.luldPause)),
         "48000100001f1aced9f07b4141504c2020202048204c554450"),
        ("J LULD auction collar", .luldAuctionCollar(.init(locate: 1, timestamp: ts, symbol: aapl, referencePrice: 2_300_000,
                                                           upperPrice: 2_415_000, lowerPrice: 2_185_000, extensions: 0)),
         "4a000100001f1aced9f07b4141504c20202020002318600024d9980021572800000000"),
    ]
}
