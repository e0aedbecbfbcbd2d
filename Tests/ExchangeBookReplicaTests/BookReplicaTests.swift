import ExchangeBookReplica
import ExchangeCore
import Testing

@Suite struct BookReplicaTests {
    @Test func keepsPriorityOrderThroughPartialFillsCancelsAndReplaces() {
        var book = BookReplica(instrumentCount: 2, orderCapacity: 16)
        #expect(book.add(instrument: 0, side: .bid, reference: 1, shares: 100, price: 1_000, attribution: nil) == .applied)
        #expect(book.add(instrument: 0, side: .bid, reference: 2, shares: 200, price: 1_000, attribution: Firm("ALCE")) == .applied)
        #expect(book.add(instrument: 0, side: .bid, reference: 3, shares: 300, price: 1_100, attribution: nil) == .applied)
        #expect(book.add(instrument: 0, side: .ask, reference: 4, shares: 50, price: 1_200, attribution: nil) == .applied)
        #expect(book.add(instrument: 0, side: .bid, reference: 1, shares: 1, price: 1, attribution: nil) == .duplicateReference)
        // In place: same price, fewer shares, keeps its place ahead of 2.
        #expect(book.replace(reference: 1, with: 5, shares: 80, price: 1_000) == .applied)
        #expect(book.restingOrders(instrument: 0, side: .bid).map(\.reference) == [3, 5, 2])
        // Not in place: more shares go to the back.
        #expect(book.replace(reference: 5, with: 6, shares: 90, price: 1_000) == .applied)
        #expect(book.restingOrders(instrument: 0, side: .bid).map(\.reference) == [3, 2, 6])
        #expect(book.reduce(reference: 3, by: 100) == .applied)
        #expect(book.reduce(reference: 3, by: 500) == .tooManyShares)
        #expect(book.reduce(reference: 3, by: 200) == .applied)
        #expect(book.shares(of: 3) == nil)
        #expect(book.depth(instrument: 0, side: .bid) == [DepthLevel(price: 1_000, shares: 290, orders: 2)])
        #expect(book.restingOrders(instrument: 0, side: .bid).first?.attribution == Firm("ALCE"))
        #expect(book.delete(reference: 9) == .unknownReference)
        #expect(book.add(instrument: 2, side: .bid, reference: 10, shares: 1, price: 1, attribution: nil) == .unknownInstrument)
        book.removeAll()
        #expect(book.orderCount == 0 && book.levelCount == 0)
    }

    @Test func saysWhenItIsFull() {
        var book = BookReplica(instrumentCount: 1, orderCapacity: 2)
        #expect(book.add(instrument: 0, side: .bid, reference: 1, shares: 1, price: 1, attribution: nil) == .applied)
        #expect(book.add(instrument: 0, side: .bid, reference: 2, shares: 1, price: 2, attribution: nil) == .applied)
        #expect(book.add(instrument: 0, side: .bid, reference: 3, shares: 1, price: 3, attribution: nil) == .full)
    }
}
