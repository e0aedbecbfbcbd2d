/// Why a text is not JSON, and where.
struct JSONSyntaxError: Error, Sendable, Equatable, CustomStringConvertible {
    var location: SourceLocation
    var message: String

    var description: String { "\(location): \(message)" }
}
