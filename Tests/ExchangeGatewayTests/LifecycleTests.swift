import ExchangeClock
import ExchangeConfig
import ExchangeRuntime
import ExchangeTestRig
import Glibc
import Testing

/// The gateway as an agent: `onStart` on its thread arms the accept; `onClose` releases
/// everything it holds in the kernel — connections with receives armed and the listener —
/// without a drain first (a thread that is stopped), and a second `onClose` is harmless.
@Suite struct GatewayLifecycle {
    @Test func closesEveryConnectionAndTheListenerOnCloseWithoutADrain() throws {
        let clock = ManualClock()
        var rig = try GatewayEngineRig(configuration: StalledEngine.configuration(ExchangeKnobs()), clock: clock)
        let memory = rig.memory
        let port = rig.port
        let loggedIn = try SoupTestClient(port: port)
        loggedIn.send(Client.login(.demo1))
        #expect(rig.next(loggedIn).packet?.loginAccepted != nil)
        let waiting = try SoupTestClient(port: port)  // connected, never logs in
        rig.run(seconds: 0.01)
        rig.advance(clock, milliseconds: 1)
        #expect(memory.counters.snapshot().gatewayCount("active_connections") == 2)
        #expect(memory.counters.snapshot().gatewayCount("listening") == 1, "onStart armed the accept")

        rig.gateway.onClose()
        #expect(loggedIn.next(timeout: 3) == .closed)
        #expect(waiting.next(timeout: 3) == .closed)
        #expect(memory.counters.snapshot().gatewayCount("active_connections") == 0)
        #expect(memory.counters.snapshot().gatewayCount("listening") == 0)
        // The listener is gone: a new connection is refused by the kernel.
        #expect(throws: (any Error).self) { _ = try SoupTestClient(port: port) }

        rig.gateway.onClose()  // again: nothing left to release
        rig.shutDown()
        memory.release()
    }
}
