import ExchangeCore
import ExchangeWire

// OUCH 4.2 Enter, Replace, Cancel and Modify. Each sends one Unsequenced Data packet and
// returns once the kernel has taken it; the exchange's answer arrives through `receive`,
// `nextMessage` and the like.
extension OrderEntryClient {
    /// `O` Enter Order. A market order (`orderType: .market`) goes with the market price
    /// whatever `price` says. A blank firm means the account's own.
    public func enter(
        token: OrderToken, side: Side, shares: Shares, symbol: Symbol, price: Price, orderType: OrderType = .limit,
        timeInForce: TimeInForce = .marketHours, firm: Firm = .blank, display: Display = .anonymous,
        minimumQuantity: Shares = 0
    ) throws(ClientError) {
        try sendOUCH {
            OUCHInboundEncoder.enter(token: token, side: side, shares: shares, symbol: symbol, price: price, orderType: orderType,
                                     timeInForce: timeInForce, firm: firm, display: display, minimumQuantity: minimumQuantity, to: $0)
        }
    }

    /// `U` Replace Order: `existing` becomes `replacement` with the new size and price.
    public func replace(
        existing: OrderToken, replacement: OrderToken, shares: Shares, price: Price,
        timeInForce: TimeInForce = .marketHours, display: Display = .anonymous, minimumQuantity: Shares = 0
    ) throws(ClientError) {
        try sendOUCH {
            OUCHInboundEncoder.replace(existingToken: existing, replacementToken: replacement, shares: shares, price: price,
                                       timeInForce: timeInForce, display: display, minimumQuantity: minimumQuantity, to: $0)
        }
    }

    /// `X` Cancel Order: `shares` is the new open size; 0 (the default) cancels all of it.
    public func cancel(token: OrderToken, shares: Shares = 0) throws(ClientError) {
        try sendOUCH { OUCHInboundEncoder.cancel(token: token, shares: shares, to: $0) }
    }

    /// `M` Modify Order: a new side within the same book side (sell ↔ short) and/or a
    /// smaller open size, keeping priority.
    public func modify(token: OrderToken, side: Side, shares: Shares) throws(ClientError) {
        try sendOUCH { OUCHInboundEncoder.modify(token: token, side: side, shares: shares, to: $0) }
    }

    /// Any OUCH client message as given (e.g. one with a field the engine refuses), in an
    /// Unsequenced Data packet.
    public func sendOUCHMessage(_ message: [UInt8]) throws(ClientError) {
        guard !message.isEmpty, message.count <= OUCH.maximumInboundLength else {
            try connection.sendPacket(type: SoupPacketType.unsequencedData, payload: message)
            return
        }
        try sendOUCH { out in
            message.withUnsafeBytes { out.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
            return message.count
        }
    }
}
