import ExchangeCore
import ExchangeFIX

// libFuzzer entry point for FIX 4.4: coverage-guided fuzzing under AddressSanitizer of the
// frame reader, the field parser, the acceptor session and the application mapping. Built
// and run by .ci/fuzz-fix (not a SwiftPM target: libFuzzer supplies `main`). The checks are
// FIXFuzzOracle's (Tests/ExchangeFIXTests/FIXFuzzOracle.swift), the same the seeded test
// runs; a failed check traps, which libFuzzer reports as a crash and saves the input.

@_cdecl("LLVMFuzzerTestOneInput")
public func fixFuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    if let failure = FIXFuzzOracle.run(UnsafeRawBufferPointer(start: data, count: size)) {
        fatalError("FIX fuzz oracle: \(failure)")
    }
    return 0
}
