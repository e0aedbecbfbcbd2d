// swift-tools-version: 6.1
// Test- and benchmark-only malloc counting. A package of its own so that its malloc
// interposer can only ever link into tests and benchmarks, never into the appliance.
import PackageDescription

let package = Package(
    name: "CMallocCounter",
    products: [.library(name: "CMallocCounter", targets: ["CMallocCounter"])],
    targets: [.target(name: "CMallocCounter")]
)
