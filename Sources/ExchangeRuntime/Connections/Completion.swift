import CExchangeShim

/// One io_uring completion as `IOUring.takeCompletions(into:)` hands it out: the tag its
/// operation was prepared with, the result (a byte count, a descriptor, or `-errno`), and
/// what the flags say (a provided buffer was used, a multishot operation stays armed).
/// Laid out exactly as the kernel's 16-byte `io_uring_cqe` head, so a batch is copied out of
/// the completion queue in one pass.
@frozen
public struct Completion: Sendable {
    @usableFromInline var cqe: io_uring_cqe

    /// A completion as the kernel would post it (for tests that drive a table directly).
    @inlinable
    public init(tag: CompletionTag, result: Int32, flags: UInt32 = 0) {
        cqe = io_uring_cqe()
        cqe.user_data = tag.rawValue
        cqe.res = result
        cqe.flags = flags
    }

    @inlinable public var tag: CompletionTag { CompletionTag(rawValue: cqe.user_data) }
    /// The operation's result: bytes, a new descriptor, or a negative errno.
    @inlinable public var result: Int32 { cqe.res }
    @inlinable public var flags: UInt32 { cqe.flags }
    /// A multishot operation (accept, receive) stays armed: more completions will follow.
    @inlinable public var hasMore: Bool { cqe.flags & IORING_CQE_F_MORE != 0 }
    /// The receive landed in a provided buffer (`bufferID`), which must be recycled.
    @inlinable public var hasBuffer: Bool { cqe.flags & IORING_CQE_F_BUFFER != 0 }
    /// The provided buffer used, when `hasBuffer`.
    @inlinable public var bufferID: UInt16 { UInt16(truncatingIfNeeded: cqe.flags >> IORING_CQE_BUFFER_SHIFT) }

    /// Flags for a completion made in a test: `more` and an optional provided buffer.
    @inlinable
    public static func flags(more: Bool, buffer: UInt16? = nil) -> UInt32 {
        var flags: UInt32 = more ? IORING_CQE_F_MORE : 0
        if let buffer { flags |= IORING_CQE_F_BUFFER | UInt32(buffer) << IORING_CQE_BUFFER_SHIFT }
        return flags
    }
}
