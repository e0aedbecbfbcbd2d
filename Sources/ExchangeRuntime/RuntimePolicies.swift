// The idle-strategy kind `IdleStrategy` runs and the hugepage policy `MemoryRegion` applies
// come from ExchangeRuntimePolicy, the dependency-free target the configuration parses them
// into. Re-exported: they are part of `IdleStrategy` and `MemoryRegion`.
@_exported import ExchangeRuntimePolicy
