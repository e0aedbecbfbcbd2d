import ExchangeCore
import ExchangeWire

// libFuzzer entry point for the wire codecs: coverage-guided fuzzing under
// AddressSanitizer of SoupFrameReader, OUCHInbound, OUCHMessage and the SoupBinTCP parsers.
// Built and run by .ci/fuzz-wire (not a SwiftPM target: libFuzzer supplies `main`). The
// checks are WireFuzzOracle's (Tests/ExchangeWireTests/WireFuzzOracle.swift), the same the
// seeded test runs; a failed check traps, which libFuzzer reports as a crash and saves the
// input.

@_cdecl("LLVMFuzzerTestOneInput")
public func wireFuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    if let failure = WireFuzzOracle.run(UnsafeRawBufferPointer(start: data, count: size)) {
        fatalError("wire fuzz oracle: \(failure)")
    }
    return 0
}
