@testable import ExchangeConfig
import Testing

@Suite struct SecretTests {
    private let value = "hunter2-very-secret"

    @Test func secretsComeOnlyFromTheEnvironment() throws {
        let loaded = try load(minimalJSON, environment: ["RTES_API_KEYS_FILE": "/etc/rtes/keys.json"])
        #expect(loaded.secrets.apiKeysFile?.reveal() == "/etc/rtes/keys.json")
        #expect(try load(minimalJSON).secrets.apiKeysFile == nil)
    }

    @Test func anEmptySecretIsTreatedAsUnsetWithAWarning() throws {
        let loaded = try load(minimalJSON, environment: ["RTES_API_KEYS_FILE": ""])
        #expect(loaded.secrets.apiKeysFile == nil)
        #expect(loaded.warnings.map(\.description) == ["environment variable RTES_API_KEYS_FILE: is set but empty; treated as not set"])
    }

    @Test func aSecretNeverShowsItsValue() {
        let secret = Secret(value)
        var dumped = ""
        dump(secret, to: &dumped)
        var dumpedOptional = ""
        dump(Optional(secret), to: &dumpedOptional)
        var printed = ""
        print(secret, to: &printed)
        var debugPrinted = ""
        debugPrint(secret, to: &debugPrinted)
        let renderings = [
            secret.description, secret.debugDescription, "\(secret)", String(describing: secret),
            String(reflecting: secret), dumped, dumpedOptional, printed, debugPrinted,
            "\(Optional(secret) as Any)", "\([secret])", "\(["k": secret])",
            Mirror(reflecting: secret).children.map { "\($0.label ?? "") \($0.value)" }.joined(),
        ]
        for rendering in renderings {
            #expect(!rendering.contains(value), "\(rendering)")
            #expect(!rendering.contains("hunter"), "\(rendering)")
        }
        #expect("\(secret)" == "<redacted>")
        #expect(String(reflecting: secret) == "Secret(<redacted>)")
        #expect(Mirror(reflecting: secret).children.isEmpty)
    }

    @Test func theSecretsCollectionNeverShowsValuesEither() throws {
        let secrets = try load(minimalJSON, environment: ["RTES_API_KEYS_FILE": value]).secrets
        var dumped = ""
        dump(secrets, to: &dumped)
        for rendering in ["\(secrets)", String(reflecting: secrets), dumped] {
            #expect(!rendering.contains(value), "\(rendering)")
        }
        #expect("\(secrets)" == "Secrets(apiKeysFile: set)")
    }
}
