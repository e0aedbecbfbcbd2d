// TotalView-ITCH 5.0 message layouts, written down once. Offsets count from the message
// type byte; every integer is unsigned big-endian; alpha fields are left-justified and
// space-padded. Every message starts with the same 11-byte header:
//
// | offset | field | width |
// |---|---|---|
// | 0 | Message Type | 1 |
// | 1 | Stock Locate (0 for messages about no stock) | 2 |
// | 3 | Tracking Number (always 0 here) | 2 |
// | 5 | Timestamp, nanoseconds since midnight | 6 |
//
// The messages this exchange publishes, and their lengths:
//
// | type | message | length | body from offset 11 |
// |---|---|---|---|
// | `S` | System Event | 12 | 11 Event Code |
// | `R` | Stock Directory | 39 | 11 Stock a8; 19 Market Category; 20 Financial Status; 21 Round Lot Size u32; 25 Round Lots Only; 26 Issue Classification; 27 Issue Sub-Type a2; 29 Authenticity; 30 Short Sale Threshold; 31 IPO Flag; 32 LULD Tier; 33 ETP Flag; 34 ETP Leverage Factor u32; 38 Inverse Indicator |
// | `H` | Stock Trading Action | 25 | 11 Stock a8; 19 Trading State; 20 Reserved; 21 Reason a4 |
// | `A` | Add Order | 36 | 11 Order Reference u64; 19 Buy/Sell; 20 Shares u32; 24 Stock a8; 32 Price u32 |
// | `F` | Add Order with MPID | 40 | as `A`, then 36 Attribution a4 |
// | `E` | Order Executed | 31 | 11 Order Reference u64; 19 Executed Shares u32; 23 Match Number u64 |
// | `C` | Order Executed With Price | 36 | as `E`, then 31 Printable; 32 Execution Price u32 |
// | `X` | Order Cancel | 23 | 11 Order Reference u64; 19 Canceled Shares u32 |
// | `D` | Order Delete | 19 | 11 Order Reference u64 |
// | `U` | Order Replace | 35 | 11 Original Reference u64; 19 New Reference u64; 27 Shares u32; 31 Price u32 |
// | `P` | Trade (non-cross) | 44 | 11 Order Reference u64 (0: hidden); 19 Buy/Sell; 20 Shares u32; 24 Stock a8; 32 Price u32; 36 Match Number u64 |
// | `Q` | Cross Trade | 40 | 11 Shares u64; 19 Stock a8; 27 Cross Price u32; 31 Match Number u64; 39 Cross Type |
// | `J` | LULD Auction Collar | 35 | 11 Stock a8; 19 Auction Collar Reference Price u32; 23 Upper Auction Collar Price u32; 27 Lower Auction Collar Price u32; 31 Auction Collar Extension u32 |
// | `I` | Net Order Imbalance Indicator | 50 | 11 Paired Shares u64; 19 Imbalance Shares u64; 27 Imbalance Direction; 28 Stock a8; 36 Far Price u32; 40 Near Price u32; 44 Current Reference Price u32; 48 Cross Type; 49 Price Variation Indicator |
public enum ITCH {
    /// Message type bytes.
    public enum MessageType {
        public static let systemEvent: UInt8 = 0x53         // S
        public static let stockDirectory: UInt8 = 0x52      // R
        public static let tradingAction: UInt8 = 0x48       // H
        public static let addOrder: UInt8 = 0x41            // A
        public static let addOrderAttributed: UInt8 = 0x46  // F
        public static let orderExecuted: UInt8 = 0x45       // E
        public static let orderExecutedWithPrice: UInt8 = 0x43  // C
        public static let orderCancel: UInt8 = 0x58         // X
        public static let orderDelete: UInt8 = 0x44         // D
        public static let orderReplace: UInt8 = 0x55        // U
        public static let trade: UInt8 = 0x50               // P
        public static let crossTrade: UInt8 = 0x51          // Q
        public static let imbalance: UInt8 = 0x49           // I
        public static let luldAuctionCollar: UInt8 = 0x4A   // J
    }

    /// Message lengths (type byte included).
    public enum Length {
        public static let systemEvent = 12
        public static let stockDirectory = 39
        public static let tradingAction = 25
        public static let addOrder = 36
        public static let addOrderAttributed = 40
        public static let orderExecuted = 31
        public static let orderExecutedWithPrice = 36
        public static let orderCancel = 23
        public static let orderDelete = 19
        public static let orderReplace = 35
        public static let trade = 44
        public static let crossTrade = 40
        public static let imbalance = 50
        public static let luldAuctionCollar = 35
        /// The longest message this exchange publishes (`I`).
        public static let maximum = 50

        /// The fixed length of a message of `type`, or nil for a type this module does not know.
        @inlinable
        public static func of(type: UInt8) -> Int? {
            switch type {
            case MessageType.systemEvent: systemEvent
            case MessageType.stockDirectory: stockDirectory
            case MessageType.tradingAction: tradingAction
            case MessageType.addOrder: addOrder
            case MessageType.addOrderAttributed: addOrderAttributed
            case MessageType.orderExecuted: orderExecuted
            case MessageType.orderExecutedWithPrice: orderExecutedWithPrice
            case MessageType.orderCancel: orderCancel
            case MessageType.orderDelete: orderDelete
            case MessageType.orderReplace: orderReplace
            case MessageType.trade: trade
            case MessageType.crossTrade: crossTrade
            case MessageType.imbalance: imbalance
            case MessageType.luldAuctionCollar: luldAuctionCollar
            default: nil
            }
        }
    }

    /// Header offsets.
    public enum Header {
        public static let type = 0
        public static let stockLocate = 1
        public static let trackingNumber = 3
        public static let timestamp = 5
        public static let length = 11
    }

    /// Body offsets shared by several messages.
    public enum Field {
        public static let eventCode = 11
        public static let orderReference = 11
        /// `A`, `F`, `P`.
        public static let side = 19
        public static let addShares = 20
        public static let addStock = 24
        public static let addPrice = 32
        public static let attribution = 36
        /// `E`, `C`.
        public static let executedShares = 19
        public static let matchNumber = 23
        public static let printable = 31
        public static let executionPrice = 32
        /// `X`.
        public static let canceledShares = 19
        /// `U`.
        public static let newOrderReference = 19
        public static let replaceShares = 27
        public static let replacePrice = 31
        /// `P`.
        public static let tradeMatchNumber = 36
        /// `R`, `H`.
        public static let stock = 11
        public static let marketCategory = 19
        public static let financialStatus = 20
        public static let roundLotSize = 21
        public static let roundLotsOnly = 25
        public static let issueClassification = 26
        public static let issueSubType = 27
        public static let authenticity = 29
        public static let shortSaleThreshold = 30
        public static let ipoFlag = 31
        public static let luldTier = 32
        public static let etpFlag = 33
        public static let etpLeverageFactor = 34
        public static let inverseIndicator = 38
        public static let tradingState = 19
        public static let reserved = 20
        public static let reason = 21
        /// `Q`.
        public static let crossShares = 11
        public static let crossStock = 19
        public static let crossPrice = 27
        public static let crossMatchNumber = 31
        public static let crossType = 39
        /// `I`.
        public static let pairedShares = 11
        public static let imbalanceShares = 19
        public static let imbalanceDirection = 27
        public static let imbalanceStock = 28
        public static let farPrice = 36
        public static let nearPrice = 40
        public static let currentReferencePrice = 44
        public static let imbalanceCrossType = 48
        public static let priceVariationIndicator = 49
        /// `J` (the stock at 11, as `H`).
        public static let collarReferencePrice = 19
        public static let upperCollarPrice = 23
        public static let lowerCollarPrice = 27
        public static let collarExtension = 31
    }

    /// Cross types of `Q` and `I`.
    public enum CrossTypeCode: UInt8, Sendable, CaseIterable {
        case opening = 0x4F        // O
        case closing = 0x43        // C
        case haltOrIPO = 0x48      // H
        /// `Q` only: an intraday or post-close cross (not made here).
        case intraday = 0x49       // I
        /// `I` only: the extended-hours close (not made here).
        case extendedClose = 0x41  // A
    }

    /// Imbalance directions of `I`.
    public enum ImbalanceDirectionCode: UInt8, Sendable, CaseIterable {
        case buy = 0x42                 // B
        case sell = 0x53                // S
        case none = 0x4E                // N
        case insufficientOrders = 0x4F  // O
        case paused = 0x50              // P
    }

    /// System Event codes.
    public enum EventCode: UInt8, Sendable, CaseIterable {
        case startOfMessages = 0x4F     // O
        case startOfSystemHours = 0x53  // S
        case startOfMarketHours = 0x51  // Q
        case endOfMarketHours = 0x4D    // M
        case endOfSystemHours = 0x45    // E
        case endOfMessages = 0x43       // C
    }

    /// Trading Action states (`H` halted and `T` trading are the ones this exchange uses).
    public enum TradingState: UInt8, Sendable, CaseIterable {
        case halted = 0x48          // H
        case paused = 0x50          // P
        case quotationOnly = 0x51   // Q
        case trading = 0x54         // T
    }

    /// Trading Action reasons this exchange gives, a4. An operator halt (the admin plane's
    /// halt) is `O1` ("operations halt"); the resumption and the start-of-day state are blank
    /// ("reason not available"): the feed says what, not why.
    public enum Reason {
        public static let operationsHalt: UInt32 = 0x4F31_2020   // "O1  "
        /// A limit-up/limit-down trading pause, and the end of one.
        public static let luldPause: UInt32 = 0x4C55_4450         // "LUDP"
        public static let none: UInt32 = 0x2020_2020              // "    "
    }

    /// Buy/Sell indicator bytes.
    public static let buy: UInt8 = 0x42   // B
    public static let sell: UInt8 = 0x53  // S
}
