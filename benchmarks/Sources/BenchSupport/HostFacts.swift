import CExchangeShim
import Foundation

/// What a result depends on: the machine, the kernel and how the run was pinned and tuned.
public struct BenchmarkHost: Codable, Sendable {
    public var cpuModel: String
    public var onlineCPUs: Int
    public var kernel: String
    public var pinnedCPU: Int?
    public var tscGHz: Double
    public var transparentHugepages: String
    public var scalingGovernor: String
    public var swiftVersion: String
    public var date: String

    enum CodingKeys: String, CodingKey {
        case cpuModel = "cpu_model", onlineCPUs = "online_cpus", kernel, pinnedCPU = "pinned_cpu", tscGHz = "tsc_ghz"
        case transparentHugepages = "transparent_hugepages", scalingGovernor = "scaling_governor"
        case swiftVersion = "swift_version", date
    }

    public static func current(pinnedCPU: Int?, clock: TSCClock) -> BenchmarkHost {
        let cpuinfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let model = cpuinfo.split(separator: "\n").first { $0.hasPrefix("model name") }
            .map { $0.split(separator: ":", maxSplits: 1).last!.trimmingCharacters(in: .whitespaces) } ?? "unknown"
        var name = utsname()
        uname(&name)
        let release = withUnsafeBytes(of: &name.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        func read(_ path: String) -> String {
            ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "n/a").trimmingCharacters(in: .whitespacesAndNewlines)
        }
        #if swift(>=6.3)
        let swift = "6.3+"
        #else
        let swift = "<6.3"
        #endif
        let formatter = ISO8601DateFormatter()
        return BenchmarkHost(
            cpuModel: model, onlineCPUs: ProcessInfo.processInfo.activeProcessorCount, kernel: release,
            pinnedCPU: pinnedCPU, tscGHz: (Double(clock.ticksPerSecond) / 1e9 * 1000).rounded() / 1000,
            transparentHugepages: read("/sys/kernel/mm/transparent_hugepage/enabled"),
            scalingGovernor: read("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor"),
            swiftVersion: swift, date: formatter.string(from: Date()))
    }

    public var summary: String {
        "\(cpuModel), \(onlineCPUs) CPUs, kernel \(kernel), TSC \(tscGHz) GHz, " +
            (pinnedCPU.map { "pinned to CPU \($0)" } ?? "not pinned") + ", THP \(transparentHugepages), governor \(scalingGovernor)"
    }
}
