import CExchangeShim

/// Which CPUs threads run on.
public enum CPUAffinity {
    /// Pins the calling thread to one CPU.
    public static func pinCurrentThread(to cpu: Int) throws(SystemError) {
        try pinCurrentThread(to: [cpu])
    }

    /// Pins the calling thread to a set of CPUs (sched_setaffinity).
    public static func pinCurrentThread(to cpus: [Int]) throws(SystemError) {
        let numbers = cpus.map { Int32(clamping: $0) }
        let result = numbers.withUnsafeBufferPointer {
            rtes_pin_current_thread_to_cpus($0.baseAddress, Int32(clamping: $0.count))
        }
        if result < 0 {
            throw SystemError(call: "sched_setaffinity", result: result, detail: "CPUs \(cpus)")
        }
    }

    /// The CPUs the calling thread may run on, ascending (sched_getaffinity).
    public static func allowedCPUs() throws(SystemError) -> [Int] {
        try readList("sched_getaffinity") { rtes_affinity_cpus($0, $1) }
    }

    /// The online CPUs, ascending (/sys/devices/system/cpu/online).
    public static func onlineCPUs() throws(SystemError) -> [Int] {
        try readList("sysconf(_SC_NPROCESSORS_ONLN)") { rtes_online_cpus($0, $1) }
    }

    /// Calls a shim lister until its whole answer fits the buffer.
    private static func readList(
        _ call: String, _ list: (UnsafeMutablePointer<Int32>?, Int32) -> Int32
    ) throws(SystemError) -> [Int] {
        var capacity = 64
        while true {
            var numbers = [Int32](repeating: 0, count: capacity)
            let count = numbers.withUnsafeMutableBufferPointer { list($0.baseAddress, Int32($0.count)) }
            if count < 0 { throw SystemError(call: call, result: count) }
            if Int(count) <= capacity { return numbers.prefix(Int(count)).map { Int($0) } }
            capacity = Int(count)
        }
    }
}
