/// What the loader returns: the configuration, the secrets from the environment, and
/// anything worth telling the operator that does not stop the exchange from starting.
public struct LoadedConfiguration: Sendable {
    public var configuration: ExchangeConfiguration
    public var secrets: Secrets
    public var warnings: [ConfigurationIssue]

    public init(configuration: ExchangeConfiguration, secrets: Secrets, warnings: [ConfigurationIssue]) {
        self.configuration = configuration
        self.secrets = secrets
        self.warnings = warnings
    }
}
