import CExchangeShim

/// A failed system call: which call, the errno it returned, and optionally what the
/// runtime was doing. The shim returns `-errno`; nothing here reads `errno` itself.
public struct SystemError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The call that failed, e.g. `"mlockall"`.
    public let call: String
    /// The errno value (positive), e.g. 12 for ENOMEM.
    public let errno: Int32
    /// What the runtime was doing, when the call alone does not say it.
    public let detail: String?

    public init(call: String, errno: Int32, detail: String? = nil) {
        self.call = call
        self.errno = errno
        self.detail = detail
    }

    /// From a shim result that is `-errno`.
    init(call: String, result: some SignedInteger, detail: String? = nil) {
        self.init(call: call, errno: Int32(truncatingIfNeeded: 0 - result), detail: detail)
    }

    /// strerror(errno), e.g. "Cannot allocate memory".
    public var message: String {
        CString.read(capacity: 128) { rtes_strerror(errno, $0, $1) } ?? "errno \(errno)"
    }

    public var description: String {
        var text = "\(call): \(message) (errno \(errno))"
        if let detail { text += " — \(detail)" }
        return text
    }

    /// Returns a non-negative shim result; throws for `-errno`.
    @discardableResult
    static func check<R: SignedInteger>(_ result: R, _ call: String) throws(SystemError) -> R {
        if result < 0 { throw SystemError(call: call, result: result) }
        return result
    }
}

/// Reads strings the shim writes into caller-provided buffers.
enum CString {
    /// Calls `fill(buffer, capacity)`, which returns a length or -errno; nil on -errno.
    static func read(capacity: Int, _ fill: (UnsafeMutablePointer<CChar>, Int) -> Int32) -> String? {
        withUnsafeTemporaryAllocation(of: CChar.self, capacity: capacity) { buffer -> String? in
            guard let start = buffer.baseAddress else { return nil }
            let length = fill(start, capacity)
            guard length >= 0 else { return nil }
            let count = min(Int(length), capacity)
            return String(decoding: UnsafeRawBufferPointer(start: start, count: count), as: UTF8.self)
        }
    }
}
