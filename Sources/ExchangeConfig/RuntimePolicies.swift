// `performance.idle_strategy` and `performance.hugepages` parse into the one idle-strategy
// kind and the one hugepage policy, which live in ExchangeRuntimePolicy (no dependencies) so
// that the runtime can apply them without importing the configuration. Re-exported: they
// are part of `PerformanceSettings`.
@_exported import ExchangeRuntimePolicy
