import ExchangeCore

/// One TotalView-ITCH 5.0 message, as this exchange publishes it and as a receiver decodes
/// it. Values are the wire's: `locate` is the Stock Locate code (instrument index + 1; 0 for
/// messages about no stock), `timestamp` nanoseconds since midnight (48 bits on the wire),
/// one-byte codes stay bytes (`side` is `B` or `S`).
public enum ITCHMessage: Equatable, Sendable, BitwiseCopyable {
    case systemEvent(SystemEvent)
    case stockDirectory(StockDirectory)
    case tradingAction(TradingAction)
    /// `A`, or `F` when `attribution` is set.
    case addOrder(AddOrder)
    case orderExecuted(OrderExecuted)
    case orderExecutedWithPrice(OrderExecutedWithPrice)
    case orderCancel(OrderCancel)
    case orderDelete(OrderDelete)
    case orderReplace(OrderReplace)
    case trade(Trade)
    case crossTrade(CrossTrade)
    case imbalance(Imbalance)
    case luldAuctionCollar(LULDAuctionCollar)

    /// Bytes on the wire.
    @inlinable
    public var length: Int {
        switch self {
        case .systemEvent: ITCH.Length.systemEvent
        case .stockDirectory: ITCH.Length.stockDirectory
        case .tradingAction: ITCH.Length.tradingAction
        case .addOrder(let m): m.attribution == nil ? ITCH.Length.addOrder : ITCH.Length.addOrderAttributed
        case .orderExecuted: ITCH.Length.orderExecuted
        case .orderExecutedWithPrice: ITCH.Length.orderExecutedWithPrice
        case .orderCancel: ITCH.Length.orderCancel
        case .orderDelete: ITCH.Length.orderDelete
        case .orderReplace: ITCH.Length.orderReplace
        case .trade: ITCH.Length.trade
        case .crossTrade: ITCH.Length.crossTrade
        case .imbalance: ITCH.Length.imbalance
        case .luldAuctionCollar: ITCH.Length.luldAuctionCollar
        }
    }

    /// Nanoseconds since midnight.
    @inlinable
    public var timestamp: Timestamp {
        switch self {
        case .systemEvent(let m): m.timestamp
        case .stockDirectory(let m): m.timestamp
        case .tradingAction(let m): m.timestamp
        case .addOrder(let m): m.timestamp
        case .orderExecuted(let m): m.timestamp
        case .orderExecutedWithPrice(let m): m.timestamp
        case .orderCancel(let m): m.timestamp
        case .orderDelete(let m): m.timestamp
        case .orderReplace(let m): m.timestamp
        case .trade(let m): m.timestamp
        case .crossTrade(let m): m.timestamp
        case .imbalance(let m): m.timestamp
        case .luldAuctionCollar(let m): m.timestamp
        }
    }

    public struct SystemEvent: Equatable, Sendable, BitwiseCopyable {
        public var timestamp: Timestamp
        public var code: UInt8
        public init(timestamp: Timestamp, code: ITCH.EventCode) { self.init(timestamp: timestamp, rawCode: code.rawValue) }
        public init(timestamp: Timestamp, rawCode: UInt8) {
            self.timestamp = timestamp
            self.code = rawCode
        }
    }

    /// `R`: one per instrument at the start of the feed (and of every snapshot).
    public struct StockDirectory: Equatable, Sendable, BitwiseCopyable {
        public var locate: UInt16
        public var timestamp: Timestamp
        public var symbol: Symbol
        public var marketCategory: UInt8
        public var financialStatus: UInt8
        public var roundLotSize: UInt32
        public var roundLotsOnly: UInt8
        public var issueClassification: UInt8
        /// Two characters, first in the high byte.
        public var issueSubType: UInt16
        public var authenticity: UInt8
        public var shortSaleThreshold: UInt8
        public var ipoFlag: UInt8
        public var luldTier: UInt8
        public var etpFlag: UInt8
        public var etpLeverageFactor: UInt32
        public var inverseIndicator: UInt8

        public init(locate: UInt16, timestamp: Timestamp, symbol: Symbol, marketCategory: UInt8, financialStatus: UInt8,
                    roundLotSize: UInt32, roundLotsOnly: UInt8, issueClassification: UInt8, issueSubType: UInt16,
                    authenticity: UInt8, shortSaleThreshold: UInt8, ipoFlag: UInt8, luldTier: UInt8, etpFlag: UInt8,
                    etpLeverageFactor: UInt32, inverseIndicator: UInt8) {
            self.locate = locate
            self.timestamp = timestamp
            self.symbol = symbol
            self.marketCategory = marketCategory
            self.financialStatus = financialStatus
            self.roundLotSize = roundLotSize
            self.roundLotsOnly = roundLotsOnly
            self.issueClassification = issueClassification
            self.issueSubType = issueSubType
            self.authenticity = authenticity
            self.shortSaleThreshold = shortSaleThreshold
            self.ipoFlag = ipoFlag
            self.luldTier = luldTier
            self.etpFlag = etpFlag
            self.etpLeverageFactor = etpLeverageFactor
            self.inverseIndicator = inverseIndicator
        }

        /// How this exchange lists a configured instrument: market category and financial
        /// status blank ("not available": it is no listing market), round lot = the
        /// instrument's lot, round lots only `Y` (the engine rejects odd lots), common stock
        /// (`C`, sub-type `Z ` not applicable), production (`P`), no short-sale threshold,
        /// IPO and LULD tier blank, not an ETP, leverage 0, not inverse.
        public init(locate: UInt16, timestamp: Timestamp, instrument: InstrumentSpec) {
            self.init(locate: locate, timestamp: timestamp, symbol: instrument.symbol, marketCategory: 0x20,
                      financialStatus: 0x20, roundLotSize: instrument.lotSize, roundLotsOnly: 0x59,
                      issueClassification: 0x43, issueSubType: 0x5A20, authenticity: 0x50, shortSaleThreshold: 0x4E,
                      ipoFlag: 0x20, luldTier: 0x20, etpFlag: 0x4E, etpLeverageFactor: 0, inverseIndicator: 0x4E)
        }
    }

    /// `J`: the price collar of the reopening cross of an LULD pause.
    public struct LULDAuctionCollar: Equatable, Sendable, BitwiseCopyable {
        public var locate: UInt16
        public var timestamp: Timestamp
        public var symbol: Symbol
        public var referencePrice: Price
        public var upperPrice: Price
        public var lowerPrice: Price
        public var extensions: UInt32

        public init(locate: UInt16, timestamp: Timestamp, symbol: Symbol, referencePrice: Price, upperPrice: Price,
                    lowerPrice: Price, extensions: UInt32) {
            self.locate = locate
            self.timestamp = timestamp
            self.symbol = symbol
            self.referencePrice = referencePrice
            self.upperPrice = upperPrice
            self.lowerPrice = lowerPrice
            self.extensions = extensions
        }
    }

    /// `H`.
    public struct TradingAction: Equatable, Sendable, BitwiseCopyable {
        public var locate: UInt16
        public var timestamp: Timestamp
        public var symbol: Symbol
        public var state: UInt8
        public var reserved: UInt8
        /// Four characters, first in the high byte.
        public var reason: UInt32

        public init(locate: UInt16, timestamp: Timestamp, symbol: Symbol, state: UInt8, reserved: UInt8 = 0x20, reason: UInt32) {
            self.locate = locate
            self.timestamp = timestamp
            self.symbol = symbol
            self.state = state
            self.reserved = reserved
            self.reason = reason
        }
    }

    /// `A` Add Order, or `F` Add Order with MPID attribution when `attribution` is set.
    public struct AddOrder: Equatable, Sendable, BitwiseCopyable {
        public var locate: UInt16
        public var timestamp: Timestamp
        public var reference: OrderReference
        public var side: UInt8
        public var shares: Shares
        public var symbol: Symbol
        public var price: Price
        public var attribution: Firm?

        public init(locate: UInt16, timestamp: Timestamp, reference: OrderReference, side: UInt8, shares: Shares,
                    symbol: Symbol, price: Price, attribution: Firm? = nil) {
            self.locate = locate
            self.timestamp = timestamp
            self.reference = reference
            self.side = side
            self.shares = shares
            self.symbol = symbol
            self.price = price
            self.attribution = attribution
        }
    }

    /// `E`: shares of a displayed resting order executed at its own price.
    public struct OrderExecuted: Equatable, Sendable, BitwiseCopyable {
        public var locate: UInt16
        public var timestamp: Timestamp
        public var reference: OrderReference
        public var shares: Shares
        public var matchNumber: MatchNumber

        public init(locate: UInt16, timestamp: Timestamp, reference: OrderReference, shares: Shares, matchNumber: MatchNumber) {
            self.locate = locate
            self.timestamp = timestamp
            self.reference = reference
            self.shares = shares
            self.matchNumber = matchNumber
        }
    }

    /// `C`: shares of a displayed resting order executed at a price other than its own.
    public struct OrderExecutedWithPrice: Equatable, Sendable, BitwiseCopyable {
        public var locate: UInt16
        public var timestamp: Timestamp
        public var reference: OrderReference
        public var shares: Shares
        public var matchNumber: MatchNumber
        /// `Y` printable (counts toward volume), `N` not.
        public var printable: UInt8
        public var price: Price

        public init(locate: UInt16, timestamp: Timestamp, reference: OrderReference, shares: Shares, matchNumber: MatchNumber,
                    printable: UInt8, price: Price) {
            self.locate = locate
            self.timestamp = timestamp
            self.reference = reference
            self.shares = shares
            self.matchNumber = matchNumber
            self.printable = printable
            self.price = price
        }
    }

    /// `X`: part of an order canceled; the rest stays.
    public struct OrderCancel: Equatable, Sendable, BitwiseCopyable {
        public var locate: UInt16
        public var timestamp: Timestamp
        public var reference: OrderReference
        public var canceledShares: Shares

        public init(locate: UInt16, timestamp: Timestamp, reference: OrderReference, canceledShares: Shares) {
            self.locate = locate
            self.timestamp = timestamp
            self.reference = reference
            self.canceledShares = canceledShares
        }
    }

    /// `D`: the order left the book.
    public struct OrderDelete: Equatable, Sendable, BitwiseCopyable {
        public var locate: UInt16
        public var timestamp: Timestamp
        public var reference: OrderReference

        public init(locate: UInt16, timestamp: Timestamp, reference: OrderReference) {
            self.locate = locate
            self.timestamp = timestamp
            self.reference = reference
        }
    }

    /// `U`: the original order is gone; the new one has the same side, stock and attribution.
    public struct OrderReplace: Equatable, Sendable, BitwiseCopyable {
        public var locate: UInt16
        public var timestamp: Timestamp
        public var originalReference: OrderReference
        public var newReference: OrderReference
        public var shares: Shares
        public var price: Price

        public init(locate: UInt16, timestamp: Timestamp, originalReference: OrderReference, newReference: OrderReference,
                    shares: Shares, price: Price) {
            self.locate = locate
            self.timestamp = timestamp
            self.originalReference = originalReference
            self.newReference = newReference
            self.shares = shares
            self.price = price
        }
    }

    /// `P` Trade (non-cross): an execution against a non-displayed order. As on Nasdaq, the
    /// order reference is 0 (a hidden order's reference is never published); `side` is the
    /// resting order's.
    public struct Trade: Equatable, Sendable, BitwiseCopyable {
        public var locate: UInt16
        public var timestamp: Timestamp
        public var reference: OrderReference
        public var side: UInt8
        public var shares: Shares
        public var symbol: Symbol
        public var price: Price
        public var matchNumber: MatchNumber

        public init(locate: UInt16, timestamp: Timestamp, reference: OrderReference = 0, side: UInt8, shares: Shares,
                    symbol: Symbol, price: Price, matchNumber: MatchNumber) {
            self.locate = locate
            self.timestamp = timestamp
            self.reference = reference
            self.side = side
            self.shares = shares
            self.symbol = symbol
            self.price = price
            self.matchNumber = matchNumber
        }
    }

    /// `Q` Cross Trade: every share a cross executed, at its one price (0 shares when
    /// nothing crossed).
    public struct CrossTrade: Equatable, Sendable, BitwiseCopyable {
        public var locate: UInt16
        public var timestamp: Timestamp
        public var shares: UInt64
        public var symbol: Symbol
        public var price: Price
        public var matchNumber: MatchNumber
        /// `ITCH.CrossTypeCode`.
        public var crossType: UInt8

        public init(locate: UInt16, timestamp: Timestamp, shares: UInt64, symbol: Symbol, price: Price,
                    matchNumber: MatchNumber, crossType: UInt8) {
            self.locate = locate
            self.timestamp = timestamp
            self.shares = shares
            self.symbol = symbol
            self.price = price
            self.matchNumber = matchNumber
            self.crossType = crossType
        }
    }

    /// `I` Net Order Imbalance Indicator: the state of a cross ahead.
    public struct Imbalance: Equatable, Sendable, BitwiseCopyable {
        public var locate: UInt16
        public var timestamp: Timestamp
        public var pairedShares: UInt64
        public var imbalanceShares: UInt64
        /// `ITCH.ImbalanceDirectionCode`.
        public var direction: UInt8
        public var symbol: Symbol
        public var farPrice: Price
        public var nearPrice: Price
        public var referencePrice: Price
        /// `ITCH.CrossTypeCode`.
        public var crossType: UInt8
        /// `L`, `1`…`9`, `A`…`C`, or space (not calculable).
        public var priceVariation: UInt8

        public init(locate: UInt16, timestamp: Timestamp, pairedShares: UInt64, imbalanceShares: UInt64, direction: UInt8,
                    symbol: Symbol, farPrice: Price, nearPrice: Price, referencePrice: Price, crossType: UInt8,
                    priceVariation: UInt8) {
            self.locate = locate
            self.timestamp = timestamp
            self.pairedShares = pairedShares
            self.imbalanceShares = imbalanceShares
            self.direction = direction
            self.symbol = symbol
            self.farPrice = farPrice
            self.nearPrice = nearPrice
            self.referencePrice = referencePrice
            self.crossType = crossType
            self.priceVariation = priceVariation
        }
    }
}
