// Measures CRC32C throughput through the public API, for Scripts/bench-crc32c.sh.
//
// Usage: CRC32CSideBySide [seconds per size] [size …]   (defaults: 0.3 s; 64, 4096 and 1048576 bytes)
//
// Prints one line per size, for example
//     crc32c implementation=hardware size=4096 crc=3456789012 calls=1234567 seconds=0.300 gbps=28.10
// where gbps is 10^9 bytes per second over back-to-back `CRC32C.checksum` calls on one buffer. Byte i
// of the buffer is ((i * 2654435761) >> 13) & 0xff, so the script can check `crc` against Python.

import RingboardFormat

let arguments = CommandLine.arguments.dropFirst()
let secondsPerSize = arguments.first.flatMap(Double.init) ?? 0.3
let sizes = arguments.count > 1 ? arguments.dropFirst().compactMap { Int($0) } : [64, 4096, 1 << 20]
let implementation = CRC32C.hardwareAccelerated ? "hardware" : "portable"

let clock = ContinuousClock()
let budget = Duration.nanoseconds(Int64(secondsPerSize * 1e9))
var sink: UInt32 = 0

for size in sizes {
    let bytes = (0..<size).map { UInt8(truncatingIfNeeded: ($0 &* 2_654_435_761) >> 13) }
    let crc = CRC32C.checksum(bytes.span.bytes)
    // Calls between clock reads: about 100 µs of work, so reading the clock costs nothing measurable.
    let batch = max(1, 100_000 / (size / 32 + 8))
    for _ in 0..<batch { sink ^= CRC32C.checksum(bytes.span.bytes) }  // warm up caches and branch predictors

    var calls = 0
    let start = clock.now
    var elapsed = Duration.zero
    repeat {
        for _ in 0..<batch { sink ^= CRC32C.checksum(bytes.span.bytes) }
        calls += batch
        elapsed = start.duration(to: clock.now)
    } while elapsed < budget

    let components = elapsed.components
    let seconds = Double(components.seconds) + Double(components.attoseconds) * 1e-18
    let gigabytesPerSecond = Double(size) * Double(calls) / seconds / 1e9
    print(
        "crc32c implementation=\(implementation) size=\(size) crc=\(crc) calls=\(calls)",
        "seconds=\(formatted(seconds, decimals: 3)) gbps=\(formatted(gigabytesPerSecond, decimals: 2))"
    )
}

// Keeps the checksums observable so the calls can't be optimised away.
if sink == 0x5EED_5EED { print("crc32c sink=\(sink)") }

/// `value` with a fixed number of decimals, without Foundation.
func formatted(_ value: Double, decimals: Int) -> String {
    var scale = 1.0
    for _ in 0..<decimals { scale *= 10 }
    let scaled = Int((value * scale).rounded())
    let whole = scaled / Int(scale)
    let fraction = String(scaled % Int(scale))
    return "\(whole)." + String(repeating: "0", count: decimals - fraction.count) + fraction
}
