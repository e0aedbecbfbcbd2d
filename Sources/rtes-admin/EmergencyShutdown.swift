import ArgumentParser

/// `rtes-admin emergency-shutdown --reason R` (role admin): `POST /emergency/shutdown`.
struct EmergencyShutdown: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "emergency-shutdown",
        abstract: "Emergency shutdown (admin): cancel every resting order (the kill switch), halt the whole market (ITCH and OUCH), then drain and exit as on SIGTERM.")
    @OptionGroup var connection: Connection

    func validate() throws {
        // The journal's note says "emergency shutdown: " before it.
        guard connection.reason.utf8.count <= 140 else { throw ValidationError("--reason: at most 140 characters for an emergency shutdown") }
    }

    func run() throws { try connection.post("/emergency/shutdown") }
}
