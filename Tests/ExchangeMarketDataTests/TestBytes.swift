import ExchangeCore
import ExchangeMarketData
import ExchangeWire

/// Hex text of bytes, lower case, no separators.
func hex(_ bytes: some Sequence<UInt8>) -> String {
    bytes.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
}

/// Bytes of hex text.
func bytes(hex text: String) -> [UInt8] {
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
func encoded(_ message: ITCHMessage) -> [UInt8] {
    var out = [UInt8](repeating: 0xEE, count: 64)
    let n = out.withUnsafeMutableBytes { ITCHEncoder.write(message, to: $0.baseAddress!) }
    return Array(out[0..<n])
}

func decoded(_ bytes: [UInt8]) -> Result<ITCHMessage, ITCHDecodeError> {
    bytes.withUnsafeBytes { ITCHDecoder.decode($0) }
}

let testSession = SoupSessionName("2611211730")!
let aapl = Symbol("AAPL")!
let msft = Symbol("MSFT")!

func spec(_ symbol: String, reference: Price, lot: Shares = 1) -> InstrumentSpec {
    InstrumentSpec(symbol: Symbol(symbol)!, tickSize: 100, lotSize: lot, collarBasisPoints: 1_000, referencePrice: reference)
}

extension Result {
    var failureValue: Failure? {
        if case .failure(let f) = self { return f }
        return nil
    }
}
