// What SoupFrameReader hands out: one logical packet, or why there is none.

/// One SoupBinTCP packet: its type and payload (the bytes after the type).
///
/// `payload` points either into the caller's input (the whole packet was there and nothing
/// was buffered: zero copy) or into the reader's own buffer. Either way it is valid only
/// until the next call to `SoupFrameReader.next` and while the input memory is alive.
public struct SoupFrame {
    public let type: UInt8
    public let payload: UnsafeRawBufferPointer

    @inlinable public init(type: UInt8, payload: UnsafeRawBufferPointer) {
        self.type = type
        self.payload = payload
    }
}

/// A length field the reader refuses. Either one is a protocol violation: the stream can
/// no longer be framed, so the session should be closed.
public enum SoupFramingError: Equatable, Sendable, BitwiseCopyable {
    /// A length of 0 (every packet has at least its type byte).
    case zeroLength
    /// A length above the reader's `maximumPacketLength`.
    case tooLong(Int)
}

public enum SoupReadResult {
    case frame(SoupFrame)
    /// Everything in the input has been consumed (and buffered when it began a packet).
    case needMoreData
    /// Sticky: every later call returns the same error until `reset()`.
    case malformed(SoupFramingError)
}
