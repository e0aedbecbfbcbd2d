// Parsers for the SoupBinTCP payloads that carry fields. `payload` is a SoupFrame's
// payload: the bytes after the type byte.

extension SoupBinTCP {
    /// A Login Request payload, or why it is not one.
    @inlinable
    public static func decodeLoginRequest(_ payload: UnsafeRawBufferPointer) -> Result<SoupLoginRequest, SoupLoginRequestError> {
        guard payload.count == LoginRequestLayout.payloadLength, let base = payload.baseAddress else {
            return .failure(.wrongLength(payload.count))
        }
        guard let sequence = NumericField.parse(base, at: LoginRequestLayout.sequence, width: sequenceWidth) else {
            return .failure(.nonNumericSequence)
        }
        return .success(SoupLoginRequest(
            username: SoupUsername.read(base, at: LoginRequestLayout.username),
            password: SoupPassword.read(base, at: LoginRequestLayout.password),
            session: SoupSessionName.read(base, at: LoginRequestLayout.session),
            sequence: sequence))
    }

    /// A Login Request payload; nil for a wrong length or a non-numeric sequence
    /// (`decodeLoginRequest` says which).
    @inlinable
    public static func parseLoginRequest(_ payload: UnsafeRawBufferPointer) -> SoupLoginRequest? {
        if case .success(let request) = decodeLoginRequest(payload) { return request }
        return nil
    }

    /// A Login Accepted payload: the session and the next sequence number.
    @inlinable
    public static func parseLoginAccepted(_ payload: UnsafeRawBufferPointer) -> (session: SoupSessionName, sequence: UInt64)? {
        guard payload.count == LoginAcceptedLayout.payloadLength, let base = payload.baseAddress,
              let sequence = NumericField.parse(base, at: LoginAcceptedLayout.sequence, width: sequenceWidth)
        else { return nil }
        return (SoupSessionName.read(base, at: LoginAcceptedLayout.session), sequence)
    }

    /// A Login Rejected payload: its reason code.
    @inlinable
    public static func parseLoginRejected(_ payload: UnsafeRawBufferPointer) -> UInt8? {
        guard payload.count == 1, let base = payload.baseAddress else { return nil }
        return base.load(as: UInt8.self)
    }
}
