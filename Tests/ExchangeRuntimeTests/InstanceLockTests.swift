import ExchangeRuntime
import Foundation
import Glibc
import Testing

/// The instance lock and how a reader tells a running exchange from a gone one.
@Suite struct InstanceLockTests {
    static func temporaryPath() -> String {
        NSTemporaryDirectory() + "rtes-lock-\(getpid())-\(UUID().uuidString).lock"
    }

    @Test func aSecondHolderIsRefusedNamingTheFirstsPID() throws {
        let path = Self.temporaryPath()
        defer { unlink(path) }
        let first = try InstanceLock.acquire(path: path)
        var refusal: InstanceLock.Refusal?
        do { _ = try InstanceLock.acquire(path: path) } catch { refusal = error }
        let refused = try #require(refusal)
        #expect(refused.holder == getpid())
        #expect(refused.description.contains("PID \(getpid())"))
        #expect(InstanceLock.isHeld(path: path) == true)
        _ = first
    }

    @Test func theLockIsFreeAgainOnceItsHolderIsGone() throws {
        let path = Self.temporaryPath()
        defer { unlink(path) }
        do { _ = try InstanceLock.acquire(path: path) }
        #expect(InstanceLock.isHeld(path: path) == false)
        _ = try InstanceLock.acquire(path: path)
    }

    @Test func aReaderCallsAnExchangeWhoseProcessIsGoneGone() throws {
        // A PID that certainly belonged to a process that has ended: a child, waited for.
        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/bin/true")
        try child.run()
        child.waitUntilExit()
        let dead = UInt64(child.processIdentifier)
        let path = Self.temporaryPath()
        defer { unlink(path) }
        let holder = InstanceLock.holder(pid: dead, lockPath: path)
        guard case .gone(let reason) = holder else {
            Issue.record("a dead PID reads as \(holder)")
            return
        }
        #expect(reason.contains("PID \(dead) is gone"))
    }

    @Test func aReaderCallsAnExchangeThatHoldsItsLockRunning() throws {
        let path = Self.temporaryPath()
        defer { unlink(path) }
        let lock = try InstanceLock.acquire(path: path)
        #expect(InstanceLock.holder(pid: UInt64(getpid()), lockPath: path) == .running)
        _ = lock
    }

    @Test func aLivePIDWithoutTheLockIsAReusedPID() throws {
        let path = Self.temporaryPath()
        defer { unlink(path) }
        do { _ = try InstanceLock.acquire(path: path) }
        let holder = InstanceLock.holder(pid: UInt64(getpid()), lockPath: path)
        #expect(holder != .running)
    }
}
