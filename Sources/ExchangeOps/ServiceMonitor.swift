import Dispatch
import ExchangeCore
import ExchangeRuntime
import ExchangeWire
import Foundation
import Logging

/// The exchange's supervisor thread, off every hot path (unpinned, like the admin plane): it
/// reads the counters each turn and pings systemd's watchdog (`WATCHDOG=1`) only while every
/// agent's heartbeat advances (`HeartbeatWatch`), so a stuck engine stops the pings and
/// systemd restarts the service. (Rejected orders are logged at debug by the authenticator,
/// per account and reason, from the gateway's reject notices: `RejectDigest`.)
///
/// `turn(now:)` is one such turn, for tests; `start` runs turns on a thread until `stop()`.
public final class ServiceMonitor: @unchecked Sendable {
    let snapshot: @Sendable () -> CountersSnapshot
    let notifier: ServiceNotifier?
    let logger: Logger
    /// Called each turn with the snapshot and the time (the emergency triggers:
    /// `EmergencyMonitor.turn`); nil: none.
    let emergency: (@Sendable (CountersSnapshot, Double) -> Void)?
    /// The watchdog's window (half of WATCHDOG_USEC), or nil without a watchdog.
    let watchdogWindow: Double?
    /// Seconds between turns.
    public let period: Double
    private var watch: HeartbeatWatch
    private let stopped = DispatchSemaphore(value: 0)
    private let finished = DispatchSemaphore(value: 0)
    private var thread: Thread?

    /// `watchdogSeconds` is WATCHDOG_USEC in seconds: pings go at a quarter of it, and only
    /// while every heartbeat moved within half of it.
    public init(snapshot: @escaping @Sendable () -> CountersSnapshot, notifier: ServiceNotifier?, watchdogSeconds: Double?, logger: Logger,
                emergency: (@Sendable (CountersSnapshot, Double) -> Void)? = nil) {
        self.snapshot = snapshot
        self.emergency = emergency
        self.notifier = notifier
        self.logger = logger
        watchdogWindow = watchdogSeconds.map { $0 / 2 }
        period = min(1, (watchdogSeconds ?? 4) / 4)
        watch = HeartbeatWatch(window: watchdogWindow ?? 5)
    }

    /// One turn at `now` (monotonic seconds); returns whether it pinged the watchdog.
    @discardableResult
    public func turn(now: Double) -> Bool {
        let s = snapshot()
        if s.state == .running { emergency?(s, now) }
        let progressing = watch.allProgressing(HeartbeatWatch.beats(s), now: now)
        guard watchdogWindow != nil, let notifier, progressing, s.state == .running else { return false }
        return notifier.send("WATCHDOG=1")
    }

    /// Runs turns every `period` seconds on a thread of its own until `stop()`.
    public func start() {
        let thread = Thread { [self] in
            let origin = DispatchTime.now().uptimeNanoseconds
            while stopped.wait(timeout: .now() + period) == .timedOut {
                turn(now: Double(DispatchTime.now().uptimeNanoseconds - origin) / 1e9)
            }
            finished.signal()
        }
        thread.name = "rtes-monitor"
        self.thread = thread
        thread.start()
    }

    /// Stops the thread and waits for it to leave.
    public func stop() {
        guard thread != nil else { return }
        stopped.signal()
        finished.wait()
        thread = nil
    }
}
