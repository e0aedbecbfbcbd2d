/// One request's order in a load session's table, found by the number in its token.
struct LoadOrder {
    enum Phase: UInt8 {
        case free
        /// Sent; Accepted or Rejected not yet received.
        case entering
        /// Accepted with state L: on the book.
        case resting
        /// Accepted with state D (immediate-or-cancel): its executions and the Canceled of
        /// its remainder are still to come.
        case taking
        /// Done trading, but the answer to a cancel sent for it is still to come.
        case finishing
    }

    var number: UInt64 = 0
    /// When the Enter Order was sent (closed loop) or due (open loop), in clock ticks.
    var sentTicks: UInt64 = 0
    var cancelSentTicks: UInt64 = 0
    var leaves: UInt32 = 0
    var phase = Phase.free
    var isTaker = false
    /// A Cancel for it is out and unanswered.
    var cancelPending = false
    /// Its latencies go into the histograms (false during warm-up and for the cleanup).
    var recorded = false
    var cancelRecorded = false
    /// A taker's first execution has been seen.
    var executed = false
}
