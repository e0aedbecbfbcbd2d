import CExchangeShim
import Glibc

// The typed file submissions (the journal agent's write → fdatasync chains), beside the
// socket ones in `IOUring+Submissions.swift`. `linkedToNext` sets IOSQE_IO_LINK: the next
// entry prepared starts only once this one succeeded in full (a short write breaks the link
// too) and otherwise completes with -ECANCELED, so one `io_uring_enter` submits a whole
// write-then-sync chain.
extension IOUring {
    /// One write of `count` bytes at `bytes` to `fd` at file `offset`. The bytes must stay
    /// put until the completion. `dataSync`: RWF_DSYNC, the write completes once durable.
    @inlinable @discardableResult
    public func prepareWrite(fd: Int32, bytes: UnsafeRawPointer, count: Int, offset: UInt64,
                             tag: CompletionTag, linkedToNext: Bool, dataSync: Bool = false) -> Bool {
        guard let sqe = entry(enteringKernelWhenFull: false) else { return false }
        io_uring_prep_write(sqe, fd, bytes, UInt32(truncatingIfNeeded: count), offset)
        if dataSync { rtes_sqe_set_dsync(sqe) }
        if linkedToNext { rtes_sqe_set_flags(sqe, rtes_iosqe_io_link()) }
        sqe.pointee.user_data = tag.rawValue
        return true
    }

    /// fdatasync(`fd`) (or fsync with `dataOnly` false: a directory's entries).
    @inlinable @discardableResult
    public func prepareSync(fd: Int32, dataOnly: Bool, tag: CompletionTag, linkedToNext: Bool) -> Bool {
        guard let sqe = entry(enteringKernelWhenFull: false) else { return false }
        io_uring_prep_fsync(sqe, fd, dataOnly ? UInt32(IORING_FSYNC_DATASYNC) : 0)
        if linkedToNext { rtes_sqe_set_flags(sqe, rtes_iosqe_io_link()) }
        sqe.pointee.user_data = tag.rawValue
        return true
    }

    /// renameat(`directory`, `from`, `directory`, `to`). Both names must stay put until the completion.
    @inlinable @discardableResult
    public func prepareRename(directory: Int32, from: UnsafePointer<CChar>, to: UnsafePointer<CChar>,
                              tag: CompletionTag, linkedToNext: Bool) -> Bool {
        guard let sqe = entry(enteringKernelWhenFull: false) else { return false }
        io_uring_prep_renameat(sqe, directory, from, directory, to, 0)
        if linkedToNext { rtes_sqe_set_flags(sqe, rtes_iosqe_io_link()) }
        sqe.pointee.user_data = tag.rawValue
        return true
    }

    /// Free submission queue entries: a chain is prepared only when all of it fits.
    @inlinable public var freeSubmissions: UInt32 { io_uring_sq_space_left(raw) }
}
