// SoupBinTCP's numeric alpha fields (a20 sequence numbers): ASCII decimal digits in a
// space-padded fixed width. Emitted right-justified; parsed tolerating spaces on either
// side, because some clients left-justify.

public enum NumericField {
    /// Writes `value` as decimal digits right-justified in `width` bytes, spaces in front.
    /// `width` must hold the digits (20 holds every UInt64).
    @inlinable
    public static func writeRightJustified(_ value: UInt64, width: Int, to base: UnsafeMutableRawPointer, at offset: Int) {
        var remaining = value
        var index = offset + width - 1
        repeat {
            base.storeBytes(of: 0x30 &+ UInt8(truncatingIfNeeded: remaining % 10), toByteOffset: index, as: UInt8.self)
            remaining /= 10
            index &-= 1
        } while remaining != 0 && index >= offset
        while index >= offset {
            base.storeBytes(of: 0x20, toByteOffset: index, as: UInt8.self)
            index &-= 1
        }
    }

    /// Parses `width` bytes: optional spaces, decimal digits, optional spaces. All spaces
    /// read as 0. Nil for anything else (a sign, an inner space, a letter) or a value that
    /// does not fit in UInt64.
    @inlinable
    public static func parse(_ base: UnsafeRawPointer, at offset: Int, width: Int) -> UInt64? {
        let end = offset + width
        var index = offset
        while index < end && base.load(fromByteOffset: index, as: UInt8.self) == 0x20 { index &+= 1 }
        var value: UInt64 = 0
        while index < end {
            let digit = base.load(fromByteOffset: index, as: UInt8.self) &- 0x30
            guard digit < 10 else { break }
            let (times10, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times10.addingReportingOverflow(UInt64(digit))
            if overflow1 || overflow2 { return nil }
            value = sum
            index &+= 1
        }
        while index < end {
            guard base.load(fromByteOffset: index, as: UInt8.self) == 0x20 else { return nil }
            index &+= 1
        }
        return value
    }
}
