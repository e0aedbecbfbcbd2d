import ExchangeRuntimePolicy
import CExchangeShim
import ExchangeRuntime

extension JournalSegmentFile {
    /// What the journal writes with, and why: the line the appliance logs at start.
    public struct IOChoice: Sendable, Equatable, CustomStringConvertible {
        public let direct: Bool
        /// The journal directory's filesystem ("ext4", "tmpfs", or its magic number in hex).
        public let filesystem: String
        /// Why O_DIRECT is not used (nil when it is, or when buffered was asked for).
        public let refusal: String?

        public var description: String {
            if direct { return "journal: O_DIRECT on \(filesystem) (\(JournalSegmentFile.blockBytes)-byte aligned writes) + fdatasync" }
            if let refusal { return "journal: buffered + fdatasync on \(filesystem): O_DIRECT refused (\(refusal))" }
            return "journal: buffered + fdatasync on \(filesystem) (configured)"
        }
    }

    /// Decides O_DIRECT or buffered for the directory: for `auto` and `direct`, creates a
    /// probe file with O_DIRECT, writes one aligned block from `scratch` and fdatasyncs it,
    /// then removes it. `direct` throws when that fails; `auto` falls back to buffered.
    public static func chooseIO(_ mode: JournalIOMode, directory: Int32, directoryPath: String,
                                scratch: UnsafeMutableRawPointer) throws(SystemError) -> IOChoice {
        let filesystem = filesystemName(rtes_filesystem_type(directory))
        if mode == .buffered { return IOChoice(direct: false, filesystem: filesystem, refusal: nil) }
        let probe = ".direct-probe.\(spareExtension)"
        _ = probe.withCString { rtes_file_unlink(directory, $0) }
        var failure: SystemError?
        let fd = probe.withCString { rtes_file_create_exclusive(directory, $0, 1) }
        if fd < 0 {
            failure = SystemError(call: "open(O_DIRECT)", errno: -fd)
        } else {
            scratch.initializeMemory(as: UInt8.self, repeating: 0, count: blockBytes)
            var rc = rtes_file_write_all(fd, scratch, blockBytes, 0)
            if rc != 0 { failure = SystemError(call: "pwrite(O_DIRECT)", errno: -rc) }
            if failure == nil {
                rc = rtes_file_data_sync(fd)
                if rc != 0 { failure = SystemError(call: "fdatasync(O_DIRECT)", errno: -rc) }
            }
            _ = rtes_file_close(fd)
        }
        _ = probe.withCString { rtes_file_unlink(directory, $0) }
        guard let failure else { return IOChoice(direct: true, filesystem: filesystem, refusal: nil) }
        let reason = "\(failure.call): \(errnoName(failure.errno))"
        if mode == .direct {
            throw SystemError(call: failure.call, errno: failure.errno,
                              detail: "journal directory \(directoryPath) on \(filesystem) does not take O_DIRECT (durability io: direct)")
        }
        return IOChoice(direct: false, filesystem: filesystem, refusal: reason)
    }

    /// How the journal makes a batch durable, and why: the second line the appliance logs.
    public struct SyncChoice: Sendable, Equatable, CustomStringConvertible {
        /// One RWF_DSYNC write per batch; false: a write linked to an fdatasync.
        public let dataSyncWrite: Bool
        /// Why it is a write and an fdatasync (nil with RWF_DSYNC).
        public let reason: String?

        public var description: String {
            if dataSyncWrite { return "journal: each batch one io_uring write with RWF_DSYNC (durable when it completes)" }
            return "journal: each batch a write linked to an fdatasync (\(reason ?? "configured"))"
        }
    }

    public enum SyncProbe: Sendable, Equatable {
        case chosen
        /// fdatasync, and why (nil: configured).
        case notChosen(String?)
        /// RWF_DSYNC asked for and refused: why.
        case refused(String)
    }

    /// Decides RWF_DSYNC or write → fdatasync. `auto` takes RWF_DSYNC only with O_DIRECT
    /// (what was measured: docs/DURABILITY.md); for it and `dsync`, the probe writes the first
    /// segment's header again (the same bytes, from `scratch`) with pwritev2(RWF_DSYNC) —
    /// what the io_uring write's rw_flags carry to the same kernel path.
    public static func chooseSync(_ method: JournalSyncMethod, direct: Bool, first: JournalSegmentFile, header: JournalSegmentHeader,
                                  scratch: UnsafeMutableRawPointer) -> SyncProbe {
        if method == .fdatasync { return .notChosen(nil) }
        if method == .auto && !direct { return .notChosen("auto: buffered writes keep write → fdatasync") }
        header.encode(to: scratch)
        let rc = rtes_file_write_dsync(first.fd, scratch, JournalSegmentHeader.bytes, 0)
        return rc == 0 ? .chosen : .refused("pwritev2(RWF_DSYNC): \(errnoName(-rc))")
    }

    /// A filesystem's name from its statfs magic number.
    static func filesystemName(_ magic: Int64) -> String {
        switch magic {
        case 0xEF53: "ext4"
        case 0x5846_5342: "xfs"
        case 0x9123_683E: "btrfs"
        case 0x0102_1994: "tmpfs"
        case 0x8584_58F6: "ramfs"
        case 0x794C_7630: "overlayfs"
        case 0x2FC1_2FC1: "zfs"
        case 0xF2F5_2010: "f2fs"
        case let m where m < 0: "unknown filesystem (fstatfs: errno \(-m))"
        default: "filesystem 0x" + String(magic, radix: 16)
        }
    }

    static func errnoName(_ errno: Int32) -> String {
        switch errno {
        case 22: "EINVAL"
        case 5: "EIO"
        case 28: "ENOSPC"
        case 95: "EOPNOTSUPP"
        case 13: "EACCES"
        case 1: "EPERM"
        default: "errno \(errno)"
        }
    }
}
