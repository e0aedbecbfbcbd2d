@testable import ExchangeMarketData
import ExchangeWire
import Glibc
import Testing

/// What a client writes right behind its Login Request, in the same send, waits while the
/// authenticator checks the login and is handled after it, in order; more than the slot's
/// held-input bound closes the connection as a protocol error.
@Suite(.serialized) struct SnapshotLoginPipeliningTests {
    typealias Cell = MarketDataCounters

    /// Writes `packets` in one send (one segment on loopback).
    func sendTogether(_ client: SnapshotTestClient, _ packets: [(UnsafeMutableRawPointer) -> Int]) {
        var out = [UInt8](repeating: 0, count: 512)
        let n = out.withUnsafeMutableBytes { raw in
            packets.reduce(0) { $0 + $1(raw.baseAddress! + $0) }
        }
        #expect(Glibc.send(client.fd, out, n, Int32(MSG_NOSIGNAL)) == n)
    }

    func login(_ password: String) -> (UnsafeMutableRawPointer) -> Int {
        { SoupBinTCP.loginRequest(username: SoupUsername("ALICE")!, password: SoupPassword(password)!, to: $0) }
    }

    @Test func aLogoutWrittenWithTheLoginRequestIsHandledOnlyOnceTheLoginIsDecided() throws {
        let rig = try SnapshotTestRig()
        var agent = try rig.makeAgent()
        defer { agent.onClose() }
        let client = try SnapshotTestClient(port: agent.snapshotPort)
        sendTogether(client, [login("wrong"), { SoupBinTCP.logoutRequest(to: $0) }])
        // The Logout waits for the authenticator's answer: the client hears its Login Rejected.
        #expect(rig.pump(&agent, [client]) { _ in client.closed })
        #expect(client.frames.map(\.type) == [SoupPacketType.loginRejected])
        #expect(client.frames.first?.payload == [SoupLoginRejectReason.notAuthorized])
        #expect(rig.counter(Cell.snapshotLoginsRejected) == 1)
        #expect(rig.counter(Cell.snapshotProtocolErrors) == 0)
    }

    @Test func heartbeatsWrittenWithTheLoginRequestAreHeldAndTheSnapshotFollows() throws {
        let rig = try SnapshotTestRig(commands: 50)
        var agent = try rig.makeAgent()
        defer { agent.onClose() }
        rig.publishAll(&agent)
        let client = try SnapshotTestClient(port: agent.snapshotPort)
        sendTogether(client, [login("s3cret"), { SoupBinTCP.clientHeartbeat(to: $0) }, { SoupBinTCP.clientHeartbeat(to: $0) }])
        var found: Int?
        for _ in 0..<2_000 where found == nil {
            rig.turns(&agent, 1)
            for slot in 0..<agent.snapshots.capacity where agent.snapshots.table.state(slot) == .open && agent.snapshots.sessions[slot].heldLength > 0 {
                found = slot
            }
        }
        let slot = try #require(found)
        // Held while the login is checked (the authenticator answers on the next turn).
        #expect(agent.snapshots.sessions[slot].phase == .authenticating && agent.snapshots.sessions[slot].heldLength == 6)
        #expect(rig.pump(&agent, [client]) { _ in client.hasEndOfSnapshot })
        #expect(client.frames.first?.type == SoupPacketType.loginAccepted)
        #expect(agent.snapshots.sessions[slot].heldLength == 0)
        #expect(rig.counter(Cell.snapshotProtocolErrors) == 0 && !client.closed)
    }

    @Test func moreThanTheHeldInputBoundBehindTheLoginRequestClosesTheConnectionAsAProtocolError() throws {
        let rig = try SnapshotTestRig()
        var agent = try rig.makeAgent()
        defer { agent.onClose() }
        let client = try SnapshotTestClient(port: agent.snapshotPort)
        let heartbeats = SnapshotService.heldInputBytes / 3 + 1
        sendTogether(client, [login("s3cret")] + Array(repeating: { SoupBinTCP.clientHeartbeat(to: $0) }, count: heartbeats))
        #expect(rig.pump(&agent, [client]) { _ in client.closed })
        #expect(rig.counter(Cell.snapshotProtocolErrors) == 1)
        #expect(!client.frames.contains { $0.type == SoupPacketType.loginAccepted })
        // Exactly the bound is held.
        let fits = try SnapshotTestClient(port: agent.snapshotPort)
        sendTogether(fits, [login("s3cret")] + Array(repeating: { SoupBinTCP.clientHeartbeat(to: $0) }, count: SnapshotService.heldInputBytes / 3))
        #expect(rig.pump(&agent, [fits]) { _ in fits.hasEndOfSnapshot })
        #expect(rig.counter(Cell.snapshotProtocolErrors) == 1)
    }
}
