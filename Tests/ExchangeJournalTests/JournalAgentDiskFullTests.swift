import ExchangeClock
import ExchangeEngine
@_spi(Testing) import ExchangeJournal
import ExchangeRuntime
import Foundation
import Glibc
import Testing

/// A real full disk: a small tmpfs mounted for the test (root only), filled with a filler
/// file so the next spare segment's fallocate gets ENOSPC.
enum SmallFilesystem {
    /// Why a tmpfs cannot be mounted here (nil: it can).
    static let unavailableReason: String? = {
        do {
            return try withJournalDirectory { dir -> String? in
                guard mount("tmpfs", dir, "tmpfs", 0, "size=64k") == 0 else {
                    return "mount(tmpfs) refused: \(String(cString: strerror(errno))) (needs root and CAP_SYS_ADMIN)"
                }
                umount2(dir, Int32(MNT_DETACH))
                return nil
            }
        } catch {
            return "\(error)"
        }
    }()

    /// Mounts a `type` filesystem (tmpfs of `bytes`, or ramfs) on a fresh directory for
    /// `body`; always unmounts and removes it.
    static func with<R>(type: String = "tmpfs", bytes: Int, _ body: (String) throws -> R) throws -> R {
        try withJournalDirectory { dir in
            let options = type == "tmpfs" ? "size=\(bytes),mode=0700" : "mode=0700"
            guard mount(type, dir, type, 0, options) == 0 else {
                throw SystemError(call: "mount", errno: errno, detail: "\(type) on \(dir)")
            }
            defer { umount2(dir, Int32(MNT_DETACH)) }
            return try body(dir)
        }
    }

    /// Takes every free byte of the filesystem at `dir` into one file; returns its path.
    static func fill(_ dir: String) throws -> String {
        let path = dir + "/filler"
        let fd = open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw SystemError(call: "open", errno: errno, detail: path) }
        defer { close(fd) }
        var fs = statvfs()
        guard statvfs(dir, &fs) == 0 else { throw SystemError(call: "statvfs", errno: errno, detail: dir) }
        let free = Int(fs.f_bavail) * Int(fs.f_frsize)
        let rc = posix_fallocate(fd, 0, off_t(free))
        guard rc == 0 else { throw SystemError(call: "posix_fallocate", errno: rc, detail: "\(free) bytes in \(path)") }
        return path
    }
}

@Suite(.serialized) struct JournalAgentDiskFullTests {
    @Test(.enabled(if: SmallFilesystem.unavailableReason == nil, "cannot mount a tmpfs here: needs root and CAP_SYS_ADMIN"))
    func aFullDiskStallsCountsAndPublishesNothingNewThenResumesWhenSpaceIsFreed() throws {
        try SmallFilesystem.with(bytes: 1 << 20) { dir in
            var rig = try JournalRig(directory: dir, segmentBytes: 65_536, groupCommitMaxBytes: 8_192, ioMode: .auto)
            let filler = try SmallFilesystem.fill(dir)
            // About three segments' worth: the first segment fills, the spare cannot be made.
            rig.push(3_000)
            // Stalled, and every batch of the first segment durable (nothing taken is waiting); the
            // spare preparer (on its own thread, in real time) has answered.
            do {
                let done = rig.drive {
                    $0.count(JournalCounters.stalled) == 1 && $0.count(JournalCounters.lag) == 0 && !$0.agent.isPreparingSpare
                }
                #expect(done)
            }
            let stuck = rig.durable.load()
            #expect(stuck > 0 && stuck < 3_000)
            #expect(rig.count(JournalCounters.errorsNoSpace) >= 1)
            #expect(rig.count(JournalCounters.stalledSinceNanoseconds) > 0)
            // Time passes, retries fail, nothing new is published.
            for _ in 0..<5 {
                rig.clock.advance(milliseconds: 200)
                _ = rig.agent.doWork()  // the backoff has passed: the spare is asked for again
                let asked = rig.agent.isPreparingSpare
                #expect(asked)
                do { let answered = rig.drive { !$0.agent.isPreparingSpare }; #expect(answered) }
            }
            #expect(rig.durable.load() == stuck)
            #expect(rig.count(JournalCounters.errorsNoSpace) >= 3)
            #expect(rig.count(JournalCounters.stalled) == 1)
            // Space comes back: the journal resumes and everything becomes durable.
            #expect(unlink(filler) == 0)
            rig.clock.advance(milliseconds: 200)
            do { let done = rig.driveUntilDurable(3_000); #expect(done) }
            #expect(rig.count(JournalCounters.stalled) == 0)
            rig.agent.onClose()
            let journal = try readJournal(dir)
            #expect(journal.records == rig.pushed)
            #expect(journal.headers.count >= 3)
        }
    }
}
