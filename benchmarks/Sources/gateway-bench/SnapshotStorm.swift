import CExchangeShim
import ExchangeCore
import ExchangeWire
import Foundation
import Glibc
import Synchronization

/// Late joiners without a pause: `clients` connections to the snapshot service, each logging
/// in, reading its snapshot to the End of Snapshot, logging out and connecting again, all
/// on one thread (poll(2), so it sleeps while the service has nothing for it), pinned to
/// `cpu`, until `stop()`.
final class SnapshotStorm: @unchecked Sendable {
    let port: UInt16
    let account: BenchAccount
    let clients: Int
    let cpu: Int
    /// Each client's pause between one snapshot and its next connection.
    let pauseNanoseconds: UInt64
    private let stopping = Atomic<Bool>(false)
    private(set) var snapshots = 0
    private(set) var bytes = 0
    private(set) var failures = 0
    private var thread = pthread_t()

    init(port: UInt16, account: BenchAccount, clients: Int, cpu: Int, pauseMilliseconds: Int) {
        pauseNanoseconds = UInt64(pauseMilliseconds) * 1_000_000
        self.port = port
        self.account = account
        self.clients = clients
        self.cpu = cpu
    }

    func start() {
        let context = Unmanaged.passRetained(self).toOpaque()
        pthread_create(&thread, nil, { context in
            let storm = Unmanaged<SnapshotStorm>.fromOpaque(context!).takeRetainedValue()
            _ = rtes_pin_current_thread(Int32(storm.cpu))
            // Below the latency client on the same CPU: with --client-blocks it takes the CPU
            // back as soon as its answer arrives. (Linux: who 0 is the calling thread.)
            _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, 19)
            storm.loop()
            return nil
        }, context)
    }

    /// Stops the clients and waits for the thread; the snapshots completed and bytes read.
    @discardableResult
    func stop() -> (snapshots: Int, bytes: Int, failures: Int) {
        stopping.store(true, ordering: .releasing)
        pthread_join(thread, nil)
        return (snapshots, bytes, failures)
    }

    /// One connection and where its byte stream stands: the frame's header bytes seen so
    /// far (length, type, the first payload byte) and the bytes of the frame still to skip.
    private struct Client {
        var fd: Int32 = -1
        var header: (UInt8, UInt8, UInt8, UInt8) = (0, 0, 0, 0)
        var headerCount = 0
        var skip = 0
        /// Not before this (CLOCK_MONOTONIC ns) does it connect again.
        var resumeAt: UInt64 = 0
    }

    /// Walks `bytes` frame by frame without copying them; true at the End of Snapshot.
    private static func scan(_ client: inout Client, _ bytes: UnsafeRawBufferPointer) -> Bool {
        var i = 0
        while i < bytes.count {
            if client.skip > 0 {
                let n = min(client.skip, bytes.count - i)
                client.skip -= n
                i += n
                continue
            }
            switch client.headerCount {
            case 0: client.header.0 = bytes[i]
            case 1: client.header.1 = bytes[i]
            case 2: client.header.2 = bytes[i]
            default: client.header.3 = bytes[i]
            }
            client.headerCount += 1
            i += 1
            let length = Int(client.header.0) << 8 | Int(client.header.1)
            if client.headerCount == 3 && length == 1 {  // a frame with no payload (a heartbeat)
                client.headerCount = 0
            } else if client.headerCount == 4 {
                if client.header.2 == SoupPacketType.sequencedData && client.header.3 == GlimpseSnapshot.endOfSnapshotType { return true }
                client.skip = length - 2
                client.headerCount = 0
            }
        }
        return false
    }

    private func connectClient() -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return -1 }
        var address = FreePorts.loopback(port: port)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close(fd)
            return -1
        }
        var login = [UInt8](repeating: 0, count: 128)
        let n = login.withUnsafeMutableBytes {
            SoupBinTCP.loginRequest(username: account.username, password: account.password, to: $0.baseAddress!)
        }
        guard send(fd, login, n, Int32(MSG_NOSIGNAL)) == n else {
            close(fd)
            return -1
        }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        return fd
    }

    private func loop() {
        var connections = [Client](repeating: Client(), count: clients)
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: 1 << 18, alignment: 64)
        defer { buffer.deallocate() }
        var polls = [pollfd](repeating: pollfd(), count: clients)
        while !stopping.load(ordering: .acquiring) {
            let now = rtes_monotonic_ns()
            for i in 0..<clients where connections[i].fd < 0 && now >= connections[i].resumeAt {
                connections[i] = Client(fd: connectClient())
                if connections[i].fd < 0 {
                    failures += 1
                    usleep(10_000)
                }
            }
            for i in 0..<clients { polls[i] = pollfd(fd: connections[i].fd, events: Int16(POLLIN), revents: 0) }
            guard poll(&polls, nfds_t(clients), 1) > 0 else { continue }
            for i in 0..<clients where polls[i].revents != 0 {
                var done = false
                while !done {
                    let n = recv(connections[i].fd, buffer, 1 << 18, Int32(MSG_DONTWAIT))
                    if n > 0 {
                        bytes += n
                        if Self.scan(&connections[i], UnsafeRawBufferPointer(start: buffer, count: n)) {
                            snapshots += 1
                            var logout = [UInt8](repeating: 0, count: 8)
                            let m = logout.withUnsafeMutableBytes { SoupBinTCP.logoutRequest(to: $0.baseAddress!) }
                            _ = send(connections[i].fd, logout, m, Int32(MSG_NOSIGNAL | MSG_DONTWAIT))
                            done = true
                        }
                        continue
                    }
                    if n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK) {
                        failures += 1
                        done = true
                    }
                    break
                }
                if done {
                    close(connections[i].fd)
                    connections[i] = Client()
                    connections[i].resumeAt = rtes_monotonic_ns() &+ pauseNanoseconds
                }
            }
        }
        for c in connections where c.fd >= 0 { close(c.fd) }
    }
}
