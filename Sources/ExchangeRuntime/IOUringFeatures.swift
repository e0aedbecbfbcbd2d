import CExchangeShim

/// What this kernel's io_uring offers, found by trying each feature once
/// (rtes_uring_probe_features: small rings with each setup flag, a multishot accept and
/// a multishot recv on throw-away local sockets). Takes a few milliseconds.
public struct IOUringFeatures: Sendable, Hashable {
    /// A plain ring can be set up at all (io_uring may be disabled or filtered).
    public var ring: FeatureSupport
    /// IORING_SETUP_SQPOLL (a kernel thread polls the submission queue).
    public var submissionQueuePolling: FeatureSupport
    /// IORING_SETUP_SINGLE_ISSUER.
    public var singleIssuer: FeatureSupport
    /// IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG.
    public var cooperativeTaskRun: FeatureSupport
    /// IORING_SETUP_DEFER_TASKRUN with SINGLE_ISSUER and TASKRUN_FLAG.
    public var deferredTaskRun: FeatureSupport
    /// Multishot accept (IORING_ACCEPT_MULTISHOT).
    public var multishotAccept: FeatureSupport
    /// Multishot recv with provided buffers (IORING_RECV_MULTISHOT).
    public var multishotReceive: FeatureSupport
    /// Supported opcodes (io_uring_get_probe), nil when the probe failed.
    public var supportedOpcodes: Int?
    /// Highest opcode the kernel knows, nil when the probe failed.
    public var lastOpcode: Int?
    /// IORING_FEAT_* bits of a plain ring.
    public var featureBits: UInt32

    public static func probe() -> IOUringFeatures {
        var raw = rtes_uring_features()
        _ = rtes_uring_probe_features(&raw)
        return IOUringFeatures(
            ring: FeatureSupport(call: "io_uring_queue_init", shimResult: raw.ring),
            submissionQueuePolling: FeatureSupport(call: "io_uring_setup(SQPOLL)", shimResult: raw.sqpoll),
            singleIssuer: FeatureSupport(call: "io_uring_setup(SINGLE_ISSUER)", shimResult: raw.single_issuer),
            cooperativeTaskRun: FeatureSupport(call: "io_uring_setup(COOP_TASKRUN)", shimResult: raw.coop_taskrun),
            deferredTaskRun: FeatureSupport(call: "io_uring_setup(DEFER_TASKRUN)", shimResult: raw.defer_taskrun),
            multishotAccept: FeatureSupport(call: "io_uring multishot accept", shimResult: raw.multishot_accept),
            multishotReceive: FeatureSupport(call: "io_uring multishot recv", shimResult: raw.multishot_recv),
            supportedOpcodes: raw.opcodes >= 0 ? Int(raw.opcodes) : nil,
            lastOpcode: raw.last_opcode >= 0 ? Int(raw.last_opcode) : nil,
            featureBits: raw.features)
    }

    /// One line for the start-up log.
    public var report: String {
        guard ring.isAvailable else { return "io_uring: \(ring)" }
        let opcodes = supportedOpcodes.map { "\($0) opcodes" } ?? "opcode probe failed"
        return "io_uring: available (\(opcodes)); SQPOLL \(submissionQueuePolling), "
            + "SINGLE_ISSUER \(singleIssuer), COOP_TASKRUN \(cooperativeTaskRun), "
            + "DEFER_TASKRUN \(deferredTaskRun), multishot accept \(multishotAccept), "
            + "multishot recv \(multishotReceive)"
    }
}
