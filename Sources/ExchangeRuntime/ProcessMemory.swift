import CExchangeShim

/// Locking the process's memory into RAM, and a few facts about it.
public enum ProcessMemory {
    /// mlockall(MCL_CURRENT | MCL_FUTURE): every present and future page stays resident.
    /// Fails with ENOMEM/EPERM above RLIMIT_MEMLOCK without CAP_IPC_LOCK.
    public static func lockAll() throws(SystemError) {
        try SystemError.check(rtes_lock_all_memory(), "mlockall")
    }

    /// mlock of one range.
    public static func lock(_ address: UnsafeRawPointer, bytes: Int) throws(SystemError) {
        try SystemError.check(rtes_lock_range(address, bytes), "mlock")
    }

    /// munlock of one range.
    public static func unlock(_ address: UnsafeRawPointer, bytes: Int) throws(SystemError) {
        try SystemError.check(rtes_unlock_range(address, bytes), "munlock")
    }

    /// Bytes of this process locked in RAM (VmLck in /proc/self/status). Reserved
    /// hugepages never count: the kernel does not mark them locked, they cannot be swapped.
    public static func lockedBytes() throws(SystemError) -> Int {
        Int(try SystemError.check(rtes_process_locked_bytes(), "read /proc/self/status"))
    }

    /// Whether every page of the range is mapped in this process.
    public static func isMapped(_ address: UnsafeRawPointer, bytes: Int) throws(SystemError) -> Bool {
        try SystemError.check(rtes_range_is_mapped(address, bytes), "msync") == 1
    }

    /// RLIMIT_MEMLOCK, soft and hard; nil means unlimited.
    public static func lockLimit() throws(SystemError) -> (soft: Int?, hard: Int?) {
        var soft: UInt64 = 0
        var hard: UInt64 = 0
        try SystemError.check(rtes_memlock_limit(&soft, &hard), "getrlimit(RLIMIT_MEMLOCK)")
        func value(_ limit: UInt64) -> Int? { limit > UInt64(Int.max) ? nil : Int(limit) }
        return (value(soft), value(hard))
    }
}
