import ExchangeCore

// The OUCH 4.2 letters of the core's order attributes (ExchangeCore/OrderAttributes.swift),
// both ways. The core knows none of them. Each encode is a switch the compiler turns into
// a table load; each decode returns nil for a byte outside the field's set, which the
// inbound decoder turns into a reject naming the field.

extension Side {
    /// `BuySell`: `B` buy, `S` sell, `T` sell short, `E` sell short exempt.
    @inlinable public var ouchCode: UInt8 {
        switch self {
        case .buy: 0x42              // B
        case .sell: 0x53             // S
        case .sellShort: 0x54        // T
        case .sellShortExempt: 0x45  // E
        }
    }

    @inlinable public init?(ouchCode: UInt8) {
        switch ouchCode {
        case 0x42: self = .buy
        case 0x53: self = .sell
        case 0x54: self = .sellShort
        case 0x45: self = .sellShortExempt
        default: return nil
        }
    }
}

extension Display {
    /// `Display`: `Y` anonymous, `A` attributable, `N` non-displayed, `P` post-only,
    /// `L` post-only attributable. OUCH 4.2's other values (`I` imbalance-only, `M`
    /// mid-point peg, `W` mid-point peg post-only, `O`/`T`/`Q` retail, `R` round-lot only)
    /// are order types this exchange does not offer; they decode to nil (Rejected `D`).
    @inlinable public var ouchCode: UInt8 {
        switch self {
        case .anonymous: 0x59             // Y
        case .attributable: 0x41          // A
        case .nonDisplayed: 0x4E          // N
        case .postOnly: 0x50              // P
        case .postOnlyAttributable: 0x4C  // L
        }
    }

    @inlinable public init?(ouchCode: UInt8) {
        switch ouchCode {
        case 0x59: self = .anonymous
        case 0x41: self = .attributable
        case 0x4E: self = .nonDisplayed
        case 0x50: self = .postOnly
        case 0x4C: self = .postOnlyAttributable
        default: return nil
        }
    }
}

extension OrderState {
    /// `OrderState` in Accepted and Replaced: `L` live, `D` dead.
    @inlinable public var ouchCode: UInt8 { self == .live ? 0x4C : 0x44 }

    @inlinable public init?(ouchCode: UInt8) {
        switch ouchCode {
        case 0x4C: self = .live
        case 0x44: self = .dead
        default: return nil
        }
    }
}

extension LiquidityFlag {
    /// `LiquidityFlag` in Executed: `A` added, `R` removed, `J` added non-displayed. OUCH
    /// has many more (crosses, retail, mid-point); the continuous book makes only these.
    @inlinable public var ouchCode: UInt8 {
        switch self {
        case .added: 0x41              // A
        case .removed: 0x52            // R
        case .addedNonDisplayed: 0x4A  // J
        }
    }

    @inlinable public init?(ouchCode: UInt8) {
        switch ouchCode {
        case 0x41: self = .added
        case 0x52: self = .removed
        case 0x4A: self = .addedNonDisplayed
        default: return nil
        }
    }
}

extension Capacity {
    /// `Capacity`: `A` agency, `P` principal, `R` riskless, `O` other.
    @inlinable public var ouchCode: UInt8 {
        switch self {
        case .agency: 0x41     // A
        case .principal: 0x50  // P
        case .riskless: 0x52   // R
        case .other: 0x4F      // O
        }
    }

    @inlinable public init?(ouchCode: UInt8) {
        switch ouchCode {
        case 0x41: self = .agency
        case 0x50: self = .principal
        case 0x52: self = .riskless
        case 0x4F: self = .other
        default: return nil
        }
    }
}

extension IntermarketSweep {
    /// `Intermarket Sweep Eligibility`: `Y` eligible, `N` not eligible.
    @inlinable public var ouchCode: UInt8 { self == .eligible ? 0x59 : 0x4E }

    @inlinable public init?(ouchCode: UInt8) {
        switch ouchCode {
        case 0x59: self = .eligible
        case 0x4E: self = .notEligible
        default: return nil
        }
    }
}

extension CrossType {
    /// `Cross Type`: `N` no cross (continuous market), `O` opening, `C` closing, `H`
    /// halt/IPO, `S` supplemental order, `R` retail.
    @inlinable public var ouchCode: UInt8 {
        switch self {
        case .continuous: 0x4E    // N
        case .opening: 0x4F       // O
        case .closing: 0x43       // C
        case .haltOrIPO: 0x48     // H
        case .supplemental: 0x53  // S
        case .retail: 0x52        // R
        }
    }

    @inlinable public init?(ouchCode: UInt8) {
        switch ouchCode {
        case 0x4E: self = .continuous
        case 0x4F: self = .opening
        case 0x43: self = .closing
        case 0x48: self = .haltOrIPO
        case 0x53: self = .supplemental
        case 0x52: self = .retail
        default: return nil
        }
    }
}

extension CustomerType {
    /// `Customer Type`: space (the account's default), `R` retail designated, `N` not
    /// retail designated.
    @inlinable public var ouchCode: UInt8 {
        switch self {
        case .unspecified: 0x20  // space
        case .retail: 0x52       // R
        case .notRetail: 0x4E    // N
        }
    }

    @inlinable public init?(ouchCode: UInt8) {
        switch ouchCode {
        case 0x20: self = .unspecified
        case 0x52: self = .retail
        case 0x4E: self = .notRetail
        default: return nil
        }
    }
}
