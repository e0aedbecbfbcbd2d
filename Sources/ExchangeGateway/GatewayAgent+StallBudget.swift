import ExchangeAccess
import ExchangeCore
import ExchangeWire

// The stall budget (`durability.stall_budget_ms`, mode sync). In sync no answer leaves before
// its command's journal record is durable, so a disk that stops taking writes (full, EIO, a
// very slow device) stops every answer. Answers wait — nothing unjournaled is acknowledged —
// but once the journal's durable position has not moved for longer than the budget while
// answers wait on it, new orders are refused instead of being queued behind the disk, where
// they would go live, unseen by their sender, whenever the disk comes back:
//
// - Enter Order and Replace (a replacement is a new order: new token, new price or size) are
//   refused with reason `journal_stalled` (OUCH Rejected reason 'O', Other). Cancel and Modify
//   (which only take shares off or change the side of a sell) are taken: they reduce risk.
// - The refusal is an `EngineCommand.refuse`, like every gateway refusal: sequenced and
//   journaled, so the session stream stays a function of the journal (a restart regenerates
//   it byte for byte) and its Rejected leaves, like every answer in sync, once its record is
//   durable. The refused token is not used up (as for every gateway refusal, replay does not
//   record it): the client may send it again. A Debug packet (unsequenced, not gated) tells
//   the client at once why its order is not being answered.
// - Stalled is seen here, without reading the journal's counters: order events wait beyond
//   the durable position and the position has not moved for the budget (the gateway's
//   clock). Any movement of it, or nothing waiting, ends the refusal.
// - `refusing_new_orders` (gauge) and `stall_refusals` (counter) in the gateway block; one log
//   line when refusing starts and one when it stops (posted to the authenticator, which
//   writes it); `/health` and `/ready` degrade while the gauge is 1.
extension GatewayAgent {
    /// After routing in sync: `durable` is the position routing used; `waiting` whether order
    /// events wait beyond it.
    @inline(__always)
    mutating func watchDurability(_ durable: UInt64, waiting: Bool) {
        if !waiting || durable != durableSeen || waitingSince == 0 {
            durableSeen = durable
            waitingSince = waiting ? max(now, 1) : 0
            if refusingNewOrders { setRefusingNewOrders(false) }
        } else if !refusingNewOrders && now &- waitingSince > stallBudgetNanoseconds {
            setRefusingNewOrders(true)
        }
        if let notice = pendingNotice, logins.post(.notice(notice)) { pendingNotice = nil }
    }

    mutating func setRefusingNewOrders(_ refusing: Bool) {
        refusingNewOrders = refusing
        counts[GatewayCounters.refusingNewOrders.index] = refusing ? 1 : 0
        // A start and its stop within one turn of a full login ring: the last word wins.
        pendingNotice = refusing ? .refusingNewOrders : .takingNewOrders
    }

    /// An Enter Order or Replace while the journal is stalled: refused through the engine
    /// (journaled; answered once durable), with a Debug packet at once.
    mutating func refuseForStall(type: UInt8, token: OrderToken, account: Int, slot: Int) {
        count(GatewayCounters.stallRefusals)
        queueDebug(slot, "RTES: new orders are refused while the exchange's journal is stalled (reject reason O); cancels are taken")
        refuse(type: type, token: token, reason: .journalStalled, account: account)
    }
}
