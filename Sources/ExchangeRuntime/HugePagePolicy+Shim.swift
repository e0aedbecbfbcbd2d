import CExchangeShim
import ExchangeRuntimePolicy

extension HugePagePolicy {
    /// The policy as the C shim's region allocator takes it.
    var shimValue: Int32 {
        switch self {
        case .off: RTES_HUGEPAGES_OFF
        case .auto: RTES_HUGEPAGES_AUTO
        case .require: RTES_HUGEPAGES_REQUIRE
        }
    }
}
