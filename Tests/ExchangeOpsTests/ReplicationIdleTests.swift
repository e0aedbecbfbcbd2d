import CExchangeShim
@testable import ExchangeOps
import Glibc
import Testing

/// How the replication threads wait (docs/FAILOVER.md, "How the replication threads wait"):
/// yield within `yield_us` of the last turn that moved something, else block on the socket
/// for the poll interval; a frame on the socket ends the block at once.
@Suite struct ReplicationIdleTests {
    @Test func yieldsWithinTheWindowAfterProgressThenBlocks() {
        var idle = ReplicationIdle(pollMicroseconds: 50, yieldMicroseconds: 200)
        #expect(idle.nextStep(progressed: true, now: 1_000_000) == .none)
        #expect(idle.nextStep(progressed: false, now: 1_000_001) == .yield)
        #expect(idle.nextStep(progressed: false, now: 1_199_999) == .yield)
        #expect(idle.nextStep(progressed: false, now: 1_200_000) == .wait(nanoseconds: 50_000))
        #expect(idle.nextStep(progressed: false, now: 5_000_000) == .wait(nanoseconds: 50_000))
        // Progress opens the window again.
        #expect(idle.nextStep(progressed: true, now: 6_000_000) == .none)
        #expect(idle.nextStep(progressed: false, now: 6_100_000) == .yield)
    }

    @Test func withoutAYieldWindowItBlocksAtOnce() {
        var idle = ReplicationIdle(pollMicroseconds: 50, yieldMicroseconds: 0)
        #expect(idle.nextStep(progressed: true, now: 1_000_000) == .none)
        #expect(idle.nextStep(progressed: false, now: 1_000_001) == .wait(nanoseconds: 50_000))
    }

    /// The block is on the socket: nothing there → it times out (0); a byte there → 1 at once.
    @Test func theBlockEndsWhenTheSocketIsReadable() {
        var fds: [Int32] = [-1, -1]
        #expect(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0)
        defer { close(fds[0]); close(fds[1]) }
        #expect(rtes_wait_readable(fds[0], 1_000_000) == 0)
        var byte: UInt8 = 7
        #expect(write(fds[1], &byte, 1) == 1)
        #expect(rtes_wait_readable(fds[0], 10_000_000_000) == 1)
    }
}
