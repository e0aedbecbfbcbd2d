@testable import ExchangeConfig
import Testing

@Suite struct SecretTests {
    private let value = "hunter2-very-secret"

    @Test func secretsComeOnlyFromTheEnvironment() throws {
        let loaded = try load(minimalJSON, environment: ["RTES_HMAC_KEY": value, "RTES_TLS_CERT": "/etc/rtes/cert.pem"])
        #expect(loaded.secrets.hmacKey?.reveal() == value)
        #expect(loaded.secrets.tlsCert?.reveal() == "/etc/rtes/cert.pem")
        #expect(loaded.secrets.apiKeysFile == nil)
        #expect(loaded.secrets.tlsKey == nil)
        #expect(loaded.secrets.caCert == nil)
    }

    @Test func anEmptySecretIsTreatedAsUnsetWithAWarning() throws {
        let loaded = try load(minimalJSON, environment: ["RTES_TLS_KEY": ""])
        #expect(loaded.secrets.tlsKey == nil)
        #expect(loaded.warnings.map(\.description) == ["environment variable RTES_TLS_KEY: is set but empty; treated as not set"])
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
        let secrets = try load(minimalJSON, environment: ["RTES_HMAC_KEY": value, "RTES_CA_CERT": value]).secrets
        var dumped = ""
        dump(secrets, to: &dumped)
        for rendering in ["\(secrets)", String(reflecting: secrets), dumped] {
            #expect(!rendering.contains(value), "\(rendering)")
        }
        #expect("\(secrets)" == "Secrets(hmacKey: set, apiKeysFile: not set, tlsCert: not set, tlsKey: not set, caCert: set)")
    }
}
