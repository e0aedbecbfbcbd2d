import CCPUHints

// Latency hiding for batches. A command's token lookups land on random cache lines of
// the live-token table (sized for the orders live so far: MiBs on a busy day); an agent that has
// the next commands in hand can start those loads early, while it processes the
// current one. Prefetching changes no state and no result, only when memory arrives.

extension EngineState {
    /// Starts loading the live-token lines the command will probe.
    @inline(__always)
    func prefetch(_ command: EngineCommand) {
        switch command {
        case .enter(let c):
            rtes_prefetch(tokens.slotAddress(client: c.client, token: c.token))
        case .replace(let c):
            rtes_prefetch(tokens.slotAddress(client: c.client, token: c.existingToken))
            rtes_prefetch(tokens.slotAddress(client: c.client, token: c.replacementToken))
        case .cancel(let c):
            rtes_prefetch(tokens.slotAddress(client: c.client, token: c.token))
        case .modify(let c):
            rtes_prefetch(tokens.slotAddress(client: c.client, token: c.token))
        default:
            break
        }
    }
}

extension MatchingEngine {
    /// Hints that `command` will be processed soon (typically a few commands ahead in the
    /// batch being drained), so its memory is on its way by then.
    public func prefetch(_ command: EngineCommand) { state.pointee.prefetch(command) }

}
