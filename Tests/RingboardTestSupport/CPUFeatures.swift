import Foundation

/// The CPU's feature flags as Linux reports them (the `flags` line of `/proc/cpuinfo` on x86_64,
/// `Features` on aarch64), read independently of the kernels' own CPUID checks; empty when the
/// file can't be read.
public let cpuFlags: Set<String> = {
    guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return [] }
    for line in text.split(separator: "\n") {
        let parts = line.split(separator: ":", maxSplits: 1)
        guard parts.count == 2 else { continue }
        let key = parts[0].trimmingCharacters(in: .whitespaces)
        if key == "flags" || key == "Features" {
            return Set(parts[1].split(separator: " ").map(String.init))
        }
    }
    return []
}()

/// The vector path the machine is expected to run, from `RINGBOARD_EXPECT_VECTOR_PATH`
/// (`avx512`, `avx2` or `portable`; `.ci/run` sets `avx512` on CPUs that have it), or `nil` when
/// unset. The histogram and CRC32C kernel tests fail when the best path they detect differs, so a
/// machine that silently lacks the widest kernels is noticed.
public let expectedVectorPath: String? = {
    guard let value = ProcessInfo.processInfo.environment["RINGBOARD_EXPECT_VECTOR_PATH"], !value.isEmpty else { return nil }
    return value
}()
