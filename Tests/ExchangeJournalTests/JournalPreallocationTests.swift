import ExchangeRuntimePolicy
import ExchangeClock
import ExchangeJournal
import Foundation
import Glibc
import Testing

/// `durability.preallocate`: with `zeros` every block of a segment — the first, made at start,
/// and each spare, made by the preparer's thread — is written before a record goes in, so
/// the filesystem has no unwritten extent to convert at an fdatasync; with `fallocate` the
/// blocks are only reserved. Read back from the filesystem's own extent map (`filefrag -v`,
/// e2fsprogs), which flags reserved-but-unwritten extents `unwritten`.
@Suite(.serialized) struct JournalPreallocationTests {
    static let filefrag = ["/usr/sbin/filefrag", "/sbin/filefrag", "/usr/bin/filefrag"].first { FileManager.default.isExecutableFile(atPath: $0) }

    /// The flags column of every extent of `path`; nil when the filesystem has no extent map
    /// to show (tmpfs, for one).
    static func extentFlags(_ path: String) throws -> [String]? {
        guard let filefrag else { return nil }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: filefrag)
        process.arguments = ["-v", path]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { return nil }
        let lines = String(decoding: data, as: UTF8.self).split(separator: "\n")
        let extents = lines.filter { $0.trimmingCharacters(in: .whitespaces).first?.isNumber == true && $0.contains(":") }
        return extents.map { String($0.split(separator: " ").last ?? "") }
    }

    /// Writes past half of a 1 MiB segment (so the spare is asked for) and waits until the
    /// agent holds the spare; returns the first segment's and the spare's paths.
    static func segments(_ preallocation: JournalPreallocation, in dir: String) throws -> (first: String, spare: String) {
        var rig = try JournalRig(directory: dir, segmentBytes: 1 << 20, groupCommitMaxBytes: 64 << 10, preallocation: preallocation)
        rig.push(12_000)  // about 700 KB of records
        do { let done = rig.driveUntilDurable(12_000); #expect(done) }
        do {
            let spareTaken = rig.drive { $0.count(JournalCounters.segmentsCreated) == 2 && !$0.agent.isPreparingSpare }
            #expect(spareTaken, "the preparer made no spare")
        }
        rig.agent.onClose()
        let names = try FileManager.default.contentsOfDirectory(atPath: dir).sorted()
        let first = names.first { $0.hasSuffix(".rtj") }.map { dir + "/" + $0 } ?? ""
        let spare = names.first { $0.hasSuffix(".spare") }.map { dir + "/" + $0 } ?? ""
        return (first, spare)
    }

    /// Why the extent map cannot be read here (nil: it can): no filefrag, or a temporary
    /// directory whose filesystem keeps no extents (tmpfs).
    static let unavailableReason: String? = {
        guard filefrag != nil else { return "filefrag (e2fsprogs) is not installed" }
        let path = NSTemporaryDirectory() + "rtes-extent-probe-\(getpid())"
        defer { unlink(path) }
        let fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return "cannot create \(path)" }
        let allocated = posix_fallocate(fd, 0, 65_536)
        close(fd)
        guard allocated == 0, let flags = try? extentFlags(path), !flags.isEmpty else {
            return "the filesystem of \(NSTemporaryDirectory()) shows no extent map"
        }
        return nil
    }()

    @Test(.enabled(if: unavailableReason == nil, "\(unavailableReason ?? "")"))
    func zerosLeaveNoUnwrittenExtentAndFallocateDoes() throws {
        try withJournalDirectory { dir in
            for mode in JournalPreallocation.allCases {
                let sub = dir + "/" + mode.rawValue
                try FileManager.default.createDirectory(atPath: sub, withIntermediateDirectories: false)
                let (first, spare) = try Self.segments(mode, in: sub)
                #expect(!first.isEmpty && !spare.isEmpty, "\(mode): segments \(first), \(spare)")
                for path in [first, spare] where !path.isEmpty {
                    let flags = try Self.extentFlags(path) ?? []
                    #expect(!flags.isEmpty, "\(path): no extents")
                    let unwritten = flags.contains { $0.contains("unwritten") }
                    switch mode {
                    case .zeros: #expect(!unwritten, "\(path): \(flags)")
                    case .fallocate: #expect(unwritten, "\(path): \(flags)")
                    }
                }
            }
        }
    }
}
