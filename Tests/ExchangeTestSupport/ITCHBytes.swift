import ExchangeCore
import ExchangeWire

// Bytes helpers for the ITCH 5.0 and MoldUDP64 tests (codec tests in ExchangeWireTests,
// publisher and feed tests in ExchangeMarketDataTests).

/// Hex text of bytes, lower case, no separators.
public func hexDigits(_ bytes: some Sequence<UInt8>) -> String {
    bytes.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
}

/// Bytes of hex text.
public func bytes(hex text: String) -> [UInt8] {
    var out: [UInt8] = []
    var i = text.startIndex
    while i < text.endIndex {
        let j = text.index(i, offsetBy: 2)
        out.append(UInt8(text[i..<j], radix: 16)!)
        i = j
    }
    return out
}

/// Encodes one ITCH message into a fresh array.
public func encoded(_ message: ITCHMessage) -> [UInt8] {
    var out = [UInt8](repeating: 0xEE, count: 64)
    let n = out.withUnsafeMutableBytes { ITCHEncoder.write(message, to: $0.baseAddress!) }
    return Array(out[0..<n])
}

public func decoded(_ bytes: [UInt8]) -> Result<ITCHMessage, ITCHDecodeError> {
    bytes.withUnsafeBytes { ITCHDecoder.decode($0) }
}

public let testSession = SoupSessionName("2611211730")!
public let aapl = Symbol("AAPL")!
public let msft = Symbol("MSFT")!

public func spec(_ symbol: String, reference: Price, lot: Shares = 1) -> InstrumentSpec {
    InstrumentSpec(symbol: Symbol(symbol)!, tickSize: 100, lotSize: lot, collarBasisPoints: 1_000, referencePrice: reference)
}
