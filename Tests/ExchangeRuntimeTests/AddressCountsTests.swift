import ExchangeRuntime
import Testing

/// `AddressCounts` against a dictionary, over a seeded stream of adds and removes that
/// keeps as many addresses as the table was sized for (the deletions exercise the
/// backward shift across wrapped probe runs).
struct AddressCountsTests {
    @Test func countsLikeADictionaryThroughASeededStreamOfAddsAndRemoves() {
        let maximum = 24
        var table = AddressCounts(maximumCounted: maximum)
        let size = table.size
        #expect(size == 64)
        var reference: [UInt32: Int] = [:]
        var state: UInt64 = 0x5EED
        func random(_ bound: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(bound))
        }
        // Few distinct addresses, many collisions: neighbours and far-apart ones.
        let addresses: [UInt32] = (0..<40).map { i in i % 2 == 0 ? 0x7F00_0000 | UInt32(i) : 0x0A00_0000 &+ UInt32(i) << 16 }
        var held = 0
        for step in 0..<20_000 {
            let address = addresses[random(addresses.count)]
            if held < maximum && (random(2) == 0 || held == 0) {
                let added = table.add(address)
                #expect(added)
                reference[address, default: 0] += 1
                held += 1
            } else if let count = reference[address] {
                table.remove(address)
                reference[address] = count == 1 ? nil : count - 1
                held -= 1
            }
            if step % 97 == 0 {
                for a in addresses {
                    let counted = table.count(of: a)
                    if counted != reference[a, default: 0] {
                        Issue.record("step \(step): \(a) counted \(counted), expected \(reference[a, default: 0])")
                    }
                }
                let distinct = table.addressCount
                #expect(distinct == reference.count)
            }
        }
        // Removing what is not counted changes nothing.
        table.remove(0x0101_0101)
        let distinct = table.addressCount
        #expect(distinct == reference.count)
    }
}
