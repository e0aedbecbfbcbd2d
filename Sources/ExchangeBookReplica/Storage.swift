extension UnsafeMutablePointer {
    /// `count` elements, each `value`, allocated once (start-up only).
    static func filled(_ count: Int, with value: Pointee) -> UnsafeMutablePointer<Pointee> {
        let p = UnsafeMutablePointer<Pointee>.allocate(capacity: count)
        p.initialize(repeating: value, count: count)
        return p
    }
}
