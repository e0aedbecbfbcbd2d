import Glibc

/// Memory for an engine region the way the runtime provides it: anonymous, 2 MiB aligned,
/// with transparent huge pages requested before first touch. Unmapped on deinit.
public struct EngineRegion: ~Copyable {
    public let base: UnsafeMutableRawPointer
    public let bytes: Int
    public let hugePagesRequested: Bool
    private let mapping: UnsafeMutableRawPointer
    private let mappedBytes: Int

    public init(bytes: Int, hugePages: Bool = true) {
        let huge = 2 << 20
        let size = (bytes + huge - 1) / huge * huge
        mappedBytes = size + huge
        let raw = mmap(nil, mappedBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
        precondition(raw != MAP_FAILED, "mmap of \(mappedBytes) bytes failed")
        mapping = raw!
        base = UnsafeMutableRawPointer(bitPattern: (Int(bitPattern: mapping) + huge - 1) / huge * huge)!
        hugePagesRequested = hugePages && madvise(base, size, 14 /* MADV_HUGEPAGE */) == 0
        self.bytes = size
    }

    deinit {
        munmap(mapping, mappedBytes)
    }
}
