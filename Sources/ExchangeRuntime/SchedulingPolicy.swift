import CExchangeShim

/// A Linux scheduling policy.
public enum SchedulingPolicy: Sendable, Hashable, CustomStringConvertible {
    case other, fifo, roundRobin, batch, idle, deadline
    case unknown(Int32)

    init(shimPolicy: Int32) {
        switch shimPolicy {
        case RTES_SCHED_OTHER: self = .other
        case RTES_SCHED_FIFO: self = .fifo
        case RTES_SCHED_RR: self = .roundRobin
        case RTES_SCHED_BATCH: self = .batch
        case RTES_SCHED_IDLE: self = .idle
        case RTES_SCHED_DEADLINE: self = .deadline
        default: self = .unknown(shimPolicy)
        }
    }

    public var description: String {
        switch self {
        case .other: "SCHED_OTHER"
        case .fifo: "SCHED_FIFO"
        case .roundRobin: "SCHED_RR"
        case .batch: "SCHED_BATCH"
        case .idle: "SCHED_IDLE"
        case .deadline: "SCHED_DEADLINE"
        case .unknown(let value): "policy \(value)"
        }
    }
}
