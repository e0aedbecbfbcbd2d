// MATCHING.md §Limit up, limit down, the slow obvious way: bands computed from the
// reference whenever they are needed, every instrument looked at after every command.

import ExchangeCore

/// An instrument's LULD state in the model.
struct ModelLULD {
    var limitState = LimitState.none
    var limitStateDeadline: Timestamp = 0
    var paused = false
    var pauseEnd: Timestamp = 0
    var collar = (reference: Price(0), lower: Price(0), upper: Price(0))
    var extensions: UInt32 = 0
}

extension ReferenceExchange {
    /// "bands = the reference ± the tier's width, upper rounded down and lower rounded up to
    /// a tick, lower at least one tick" (LULDRules.bands).
    func luldBands(_ i: Int) -> (lower: UInt64, upper: UInt64)? {
        guard let rules = configuration.luld else { return nil }
        let b = rules.bands(reference: Price(referencePrice(i)), tickSize: instruments[i].spec.tickSize)
        return (UInt64(b.lower), UInt64(b.upper))
    }

    /// "Entry in continuous trading: a buy limit above the upper band is repriced to the
    /// upper band, a sell limit below the lower band to the lower band." Nil: no change.
    /// `.failure` when the band is off the ladder.
    func bandRepricing(_ i: Int, side: BookSide, price: Price) -> Result<Price, RejectReason>? {
        guard let (lower, upper) = luldBands(i) else { return nil }
        if side == .bid && UInt64(price) > upper {
            return isInLadder(i, price: upper) ? .success(Price(upper)) : .failure(.priceOutOfRange)
        }
        if side == .ask && UInt64(price) < lower {
            return isInLadder(i, price: lower) ? .success(Price(lower)) : .failure(.priceOutOfRange)
        }
        return nil
    }

    /// "The taker's limit stops at the far band; when the opposite best is beyond the near
    /// band it takes nothing (blocked)." Returns the limit and whether it is blocked.
    func bandedLimit(_ i: Int, side: BookSide, limit: UInt64) -> (limit: UInt64, blocked: Bool) {
        guard let (lower, upper) = luldBands(i) else { return (limit, false) }
        if side == .bid {
            if let ask = instruments[i].bestPrice(.ask), UInt64(ask) < lower { return (0, true) }
            return (min(limit, upper), false)
        }
        if let bid = instruments[i].bestPrice(.bid), UInt64(bid) > upper { return (UInt64.max, true) }
        return (max(limit, lower), false)
    }

    /// "At the start of a command, before expiry, instruments in ascending index: a pause
    /// whose end is ≤ now reopens through the halt cross (phase changes with reason
    /// luldPause); a limit state whose deadline is ≤ now (in continuous) becomes a pause."
    mutating func luldTimers() {
        guard let rules = configuration.luld else { return }
        for i in instruments.indices {
            if instruments[i].luld.paused {
                guard instruments[i].luld.pauseEnd <= engineTime else { continue }
                // "The reopening price must be inside the collar, else the pause is extended by
                // pause_ms, the collar widens on that side by a band width and J is published."
                if let price = crossPrice(i, .halt).price {
                    let collar = instruments[i].luld.collar
                    if price > collar.upper || price < collar.lower {
                        let (end, overflow) = engineTime.addingReportingOverflow(rules.pauseNanoseconds)
                        instruments[i].luld.pauseEnd = overflow ? .max : end
                        let widened = rules.widenedCollar(lower: collar.lower, upper: collar.upper, upward: price > collar.upper,
                                                          tickSize: instruments[i].spec.tickSize)
                        instruments[i].luld.collar = (collar.reference, widened.lower, widened.upper)
                        instruments[i].luld.extensions += 1
                        emitCollar(i)
                        continue
                    }
                }
                instruments[i].luld.paused = false
                phaseReason = .luldPause
                cross(i, .halt, then: .continuous)
                phaseReason = .command
            } else if instruments[i].luld.limitState != .none && instruments[i].luld.limitStateDeadline <= engineTime
                        && instruments[i].phase == .continuous {
                let side = instruments[i].luld.limitState
                let (lower, upper) = luldBands(i)!
                instruments[i].luld.limitState = .none
                instruments[i].luld.paused = true
                let (end, overflow) = engineTime.addingReportingOverflow(rules.pauseNanoseconds)
                instruments[i].luld.pauseEnd = overflow ? .max : end
                phaseReason = .luldPause
                setPhase(i, .halted)
                phaseReason = .command
                let collar = rules.auctionCollar(side: side, lower: Price(lower), upper: Price(upper),
                                                 tickSize: instruments[i].spec.tickSize)
                instruments[i].luld.collar = (collar.reference, collar.lower, collar.upper)
                instruments[i].luld.extensions = 0
                emitCollar(i)
            }
        }
    }

    mutating func emitCollar(_ i: Int) {
        let l = instruments[i].luld
        emit(.auctionCollar(AuctionCollar(
            timestamp: commandTime, instrument: InstrumentIndex(i), referencePrice: l.collar.reference,
            upperPrice: l.collar.upper, lowerPrice: l.collar.lower, extensions: l.extensions)))
    }

    /// "At the end of every command, instruments in ascending index: upper when the best
    /// bid ≥ the upper band, else lower when the best ask ≤ the lower band, else none (none
    /// outside continuous); a change is a limitState event, a new state ends at now + N."
    mutating func settleLimitStates() {
        guard let rules = configuration.luld else { return }
        for i in instruments.indices {
            let (lower, upper) = luldBands(i)!
            var state = LimitState.none
            if instruments[i].phase == .continuous {
                if let bid = instruments[i].bestPrice(.bid), UInt64(bid) >= upper {
                    state = .upper
                } else if let ask = instruments[i].bestPrice(.ask), UInt64(ask) <= lower {
                    state = .lower
                }
            }
            guard state != instruments[i].luld.limitState else { continue }
            instruments[i].luld.limitState = state
            if state != .none {
                let (deadline, overflow) = engineTime.addingReportingOverflow(rules.limitStateNanoseconds)
                instruments[i].luld.limitStateDeadline = overflow ? .max : deadline
            }
            emit(.limitState(LimitStateChanged(
                timestamp: commandTime, instrument: InstrumentIndex(i), state: state,
                lowerBand: Price(lower), upperBand: Price(upper))))
        }
    }
}
