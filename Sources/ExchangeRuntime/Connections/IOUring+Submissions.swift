import CExchangeShim
import Glibc

// The typed submissions: the only code that fills submission queue entries and
// `user_data`. Each prepares one operation tagged with a `CompletionTag` and returns false
// when the submission queue is full (after handing what it holds to the kernel, unless
// `enteringKernelWhenFull` is false: then without a system call, and the caller retries
// next turn). Nothing is submitted here: the agent's one `submitAndPoll()` per turn hands
// everything prepared to the kernel at once. All are allocation-free and inlinable.
extension IOUring {
    /// A multishot accept on `listener`: one completion per accepted connection (the new
    /// descriptor, non-blocking and close-on-exec), `hasMore` while it stays armed.
    @inlinable @discardableResult
    public func prepareMultishotAccept(listener: Int32, tag: CompletionTag) -> Bool {
        guard let sqe = entry(enteringKernelWhenFull: true) else { return false }
        io_uring_prep_multishot_accept(sqe, listener, nil, nil, Int32(SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue))
        sqe.pointee.user_data = tag.rawValue
        return true
    }

    /// One accept on `listener` (the new descriptor close-on-exec, blocking mode as inherited).
    @inlinable @discardableResult
    public func prepareAccept(listener: Int32, tag: CompletionTag) -> Bool {
        guard let sqe = entry(enteringKernelWhenFull: true) else { return false }
        io_uring_prep_accept(sqe, listener, nil, nil, Int32(SOCK_CLOEXEC.rawValue))
        sqe.pointee.user_data = tag.rawValue
        return true
    }

    /// A multishot receive on `fd` into buffers the kernel picks from `bufferGroup` (a
    /// `ProvidedBuffers` ring): one completion per arrival, `hasMore` while armed; it stops
    /// with `-ENOBUFS` when the group has no buffer left.
    @inlinable @discardableResult
    public func prepareMultishotReceive(fd: Int32, bufferGroup: UInt16, tag: CompletionTag) -> Bool {
        guard let sqe = entry(enteringKernelWhenFull: true) else { return false }
        io_uring_prep_recv_multishot(sqe, fd, nil, 0, 0)
        rtes_sqe_set_flags(sqe, rtes_iosqe_buffer_select())
        sqe.pointee.buf_group = bufferGroup
        sqe.pointee.user_data = tag.rawValue
        return true
    }

    /// One receive of up to `count` bytes on `fd` into `buffer`.
    @inlinable @discardableResult
    public func prepareReceive(fd: Int32, into buffer: UnsafeMutableRawPointer, count: Int, tag: CompletionTag) -> Bool {
        guard let sqe = entry(enteringKernelWhenFull: true) else { return false }
        io_uring_prep_recv(sqe, fd, buffer, count, 0)
        sqe.pointee.user_data = tag.rawValue
        return true
    }

    /// One send of `count` bytes at `bytes` on `fd` (a connected socket; `MSG_NOSIGNAL` by
    /// default). The bytes must stay put until the completion.
    @inlinable @discardableResult
    public func prepareSend(fd: Int32, bytes: UnsafeRawPointer, count: Int, flags: Int32 = Int32(MSG_NOSIGNAL),
                            tag: CompletionTag, enteringKernelWhenFull: Bool = true) -> Bool {
        guard let sqe = entry(enteringKernelWhenFull: enteringKernelWhenFull) else { return false }
        io_uring_prep_send(sqe, fd, bytes, count, flags)
        sqe.pointee.user_data = tag.rawValue
        return true
    }

    /// One `sendmsg` on `fd` (a UDP datagram to the message's address). The header, its
    /// vectors and the bytes must stay put until the completion.
    @inlinable @discardableResult
    public func prepareSendMessage(fd: Int32, message: UnsafePointer<msghdr>, tag: CompletionTag) -> Bool {
        guard let sqe = entry(enteringKernelWhenFull: true) else { return false }
        io_uring_prep_sendmsg(sqe, fd, message, 0)
        sqe.pointee.user_data = tag.rawValue
        return true
    }

    /// One `recvmsg` on `fd` (a UDP datagram and its source address).
    @inlinable @discardableResult
    public func prepareReceiveMessage(fd: Int32, message: UnsafeMutablePointer<msghdr>, tag: CompletionTag) -> Bool {
        guard let sqe = entry(enteringKernelWhenFull: true) else { return false }
        io_uring_prep_recvmsg(sqe, fd, message, 0)
        sqe.pointee.user_data = tag.rawValue
        return true
    }

    /// Cancels the operation prepared with `target` (a multishot accept, say); the cancel's
    /// own completion carries `tag` (`CompletionTag.cancel` by default).
    @inlinable @discardableResult
    public func prepareCancel(_ target: CompletionTag, tag: CompletionTag = .cancel) -> Bool {
        guard let sqe = entry(enteringKernelWhenFull: true) else { return false }
        io_uring_prep_cancel64(sqe, target.rawValue, 0)
        sqe.pointee.user_data = tag.rawValue
        return true
    }

    /// Cancels every operation on `fd`; the cancel's own completion carries `tag`.
    @inlinable @discardableResult
    public func prepareCancelAll(fd: Int32, tag: CompletionTag = .cancel) -> Bool {
        guard let sqe = entry(enteringKernelWhenFull: true) else { return false }
        io_uring_prep_cancel_fd(sqe, fd, UInt32(IORING_ASYNC_CANCEL_ALL))
        sqe.pointee.user_data = tag.rawValue
        return true
    }
}
