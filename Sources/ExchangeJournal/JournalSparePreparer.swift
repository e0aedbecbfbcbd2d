import CExchangeShim
import Dispatch
import ExchangeRuntime
import ExchangeRuntimePolicy
import Glibc
import Synchronization

/// Makes the journal's next spare segment on a thread of its own, so the journal agent's
/// thread never waits for it: the fallocate, the zeros over the whole segment
/// (`JournalPreallocation.zeros`: 64 MiB by default, 256 MiB in production — a fraction of
/// a second of disk time), the fdatasync and the directory fsync. The agent asks for one when
/// its segment is half full and takes the descriptor when it is ready; a spare it needs
/// before then holds its batch, which it reports as a stall, as it does any wait for the disk.
///
/// One request at a time, handed over through atomics (the agent takes no lock): the agent
/// stores the index and sets `requested`; the preparer works, stores the outcome (the
/// descriptor, or −errno) and sets `done`; the agent takes it and sets `idle`.
public final class JournalSparePreparer: @unchecked Sendable {
    enum State: Int {
        case idle = 0
        case requested = 1
        case done = 2
    }

    /// What a poll finds.
    public enum Outcome: Equatable {
        /// Nothing asked for.
        case idle
        /// Being made.
        case pending
        case ready(fd: Int32)
        case failed(errno: Int32, detail: String)
    }

    let directory: Int32
    let directoryPath: String
    let capacity: Int
    let direct: Bool
    let fill: Bool
    let state = Atomic<Int>(State.idle.rawValue)
    let index = Atomic<UInt64>(0)
    let result = Atomic<Int64>(0)
    let stopping = Atomic<Bool>(false)
    let wake = DispatchSemaphore(value: 0)
    /// The failure's description, written before `done` is published.
    var failure = ""
    var thread: SystemThread?

    /// Starts the preparer's thread. `directory`: the journal directory's descriptor, which
    /// must stay open until `stop()` has returned.
    public init(directory: Int32, directoryPath: String, capacity: Int, direct: Bool,
                preallocation: JournalPreallocation) throws(SystemError) {
        self.directory = directory
        self.directoryPath = directoryPath
        self.capacity = capacity
        self.direct = direct
        fill = preallocation == .zeros
        thread = try SystemThread(name: "rtes-spare") { [self] in run() }
    }

    /// Asks for spare `index` (the agent's thread; only when `poll()` says idle).
    public func request(index spare: UInt64) {
        index.store(spare, ordering: .relaxed)
        state.store(State.requested.rawValue, ordering: .releasing)
        wake.signal()
    }

    /// The outcome of the request, taken once when ready or failed (the agent's thread).
    public func poll() -> Outcome {
        switch state.load(ordering: .acquiring) {
        case State.idle.rawValue: return .idle
        case State.requested.rawValue: return .pending
        default:
            let value = result.load(ordering: .relaxed)
            let outcome: Outcome = value >= 0 ? .ready(fd: Int32(value)) : .failed(errno: Int32(-value), detail: failure)
            state.store(State.idle.rawValue, ordering: .releasing)
            return outcome
        }
    }

    /// Whether a request is out whose outcome the agent has not taken yet.
    public var isBusy: Bool { state.load(ordering: .acquiring) != State.idle.rawValue }

    /// Ends the thread once a spare being made is done, and closes a spare made and never
    /// taken (the next start removes its file, as it removes every spare).
    public func stop() {
        stopping.store(true, ordering: .releasing)
        wake.signal()
        thread?.join()
        thread = nil
        if state.load(ordering: .acquiring) == State.done.rawValue {
            let value = result.load(ordering: .relaxed)
            if value >= 0 { _ = rtes_file_close(Int32(value)) }
            state.store(State.idle.rawValue, ordering: .releasing)
        }
    }

    deinit { stop() }

    func run() {
        let scratch = UnsafeMutableRawPointer.allocate(byteCount: JournalSegmentFile.blockBytes, alignment: JournalSegmentFile.blockBytes)
        defer { scratch.deallocate() }
        while true {
            wake.wait()
            if stopping.load(ordering: .acquiring) { return }
            guard state.load(ordering: .acquiring) == State.requested.rawValue else { continue }
            let spare = index.load(ordering: .relaxed)
            do {
                let file = try JournalSegmentFile.create(
                    directory: directory, directoryPath: directoryPath, name: JournalSegmentFile.spareName(index: spare), index: spare,
                    capacity: capacity, direct: direct, fill: fill, header: nil, scratch: scratch)
                result.store(Int64(file.fd), ordering: .relaxed)
            } catch {
                failure = error.description
                result.store(-Int64(error.errno), ordering: .relaxed)
            }
            state.store(State.done.rawValue, ordering: .releasing)
        }
    }
}
