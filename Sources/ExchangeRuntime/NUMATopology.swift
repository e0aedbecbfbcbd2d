import CExchangeShim

/// NUMA facts from libnuma. Where libnuma reports no NUMA support the host counts as one
/// node, node 0, holding every CPU.
public enum NUMATopology {
    /// Whether the kernel and libnuma support NUMA policy (numa_available() >= 0).
    public static var isAvailable: Bool { rtes_numa_available() == 1 }

    /// Number of node ids, 0..<nodeCount (numa_max_node() + 1); 1 without NUMA.
    public static var nodeCount: Int { Int(rtes_numa_node_count()) }

    /// Whether a `MemoryRegion` can bind to `node`.
    public static func hasNode(_ node: Int) -> Bool {
        isAvailable && node >= 0 && node < nodeCount
    }

    /// The node of a CPU (numa_node_of_cpu); EINVAL for a CPU the host does not have.
    public static func node(ofCPU cpu: Int) throws(SystemError) -> Int {
        let result = rtes_numa_node_of_cpu(Int32(clamping: cpu))
        if result < 0 { throw SystemError(call: "numa_node_of_cpu", result: result, detail: "CPU \(cpu)") }
        return Int(result)
    }
}
