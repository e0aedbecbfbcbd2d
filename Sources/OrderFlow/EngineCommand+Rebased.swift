import ExchangeCore

extension EngineCommand {
    /// The same command at another time and for another client: how a recorded stream is
    /// replayed live next to real clients (`timestamp` the live clock, `clientOffset` moving
    /// its clients past the real accounts).
    public func rebased(timestamp: Timestamp, clientOffset: ClientID) -> EngineCommand {
        switch self {
        case .enter(var c):
            c.timestamp = timestamp
            c.client &+= clientOffset
            return .enter(c)
        case .replace(var c):
            c.timestamp = timestamp
            c.client &+= clientOffset
            return .replace(c)
        case .cancel(var c):
            c.timestamp = timestamp
            c.client &+= clientOffset
            return .cancel(c)
        case .modify(var c):
            c.timestamp = timestamp
            c.client &+= clientOffset
            return .modify(c)
        case .cancelAll(var c):
            c.timestamp = timestamp
            c.client &+= clientOffset
            return .cancelAll(c)
        case .killClient(var c):
            c.timestamp = timestamp
            c.client &+= clientOffset
            return .killClient(c)
        case .reinstateClient(var c):
            c.timestamp = timestamp
            c.client &+= clientOffset
            return .reinstateClient(c)
        case .killExchange: return .killExchange(timestamp)
        case .reinstateExchange: return .reinstateExchange(timestamp)
        case .haltInstrument(var c):
            c.timestamp = timestamp
            return .haltInstrument(c)
        case .resumeInstrument(var c):
            c.timestamp = timestamp
            return .resumeInstrument(c)
        case .advanceTime: return .advanceTime(timestamp)
        case .refuse(var r):
            r.timestamp = timestamp
            r.client &+= clientOffset
            return .refuse(r)
        case .session(var e):
            e.timestamp = timestamp
            e.client &+= clientOffset
            return .session(e)
        case .fixSession(var f):
            f.timestamp = timestamp
            f.client &+= clientOffset
            return .fixSession(f)
        case .leadership(var l):
            l.timestamp = timestamp
            return .leadership(l)
        case .startOfDay: return .startOfDay(timestamp)
        case .endOfDay: return .endOfDay(timestamp)
        case .tradingPhase(var c):
            c.timestamp = timestamp
            return .tradingPhase(c)
        case .operatorNote(var n):
            n.timestamp = timestamp
            return .operatorNote(n)
        }
    }
}
