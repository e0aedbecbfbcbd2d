// The gate lives in ExchangeRuntime (the gateway reads it without linking the etcd client);
// users of ExchangeLeadership see it as before.
@_exported import class ExchangeRuntime.LeadershipGate
