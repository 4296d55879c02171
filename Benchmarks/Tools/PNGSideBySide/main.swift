// Measures PNG encoding throughput through the public API, for Scripts/bench-png.sh.
//
// Usage: PNGSideBySide [seconds per run] [directory]   (defaults: 1.0 s; no files written)
//
// The image is a 1024×1024 weight-like float field (smooth waves plus a little noise, from a
// fixed seed) converted to 8-bit grayscale by `ImageSummary`, as a Dense kernel shown by the
// Keras callback would be. Prints one line per filter strategy, for example
//     png implementation=ringboard filter=adaptive level=-1 width=1024 height=1024 raw_bytes=1048576
//         png_bytes=312345 calls=40 seconds=1.002 mbps=41.86
// where mbps is 10^6 raw pixel bytes per second over back-to-back `PNGEncoder.encode` calls.
// With a directory, also writes `pixels.raw` (the image) and `ringboard-<filter>.png` there, so
// that the script can hand the same pixels to its Python writers and compare the outputs.

import Foundation
import RingboardSummaries

let arguments = CommandLine.arguments.dropFirst()
let secondsPerRun = arguments.first.flatMap(Double.init) ?? 1.0
let directory = arguments.dropFirst().first

let width = 1024
let height = 1024

/// A fixed pseudo-random sequence (SplitMix64), so every run encodes the same image.
struct SplitMix64 {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

var generator = SplitMix64(state: 2024)
var weights = [Float](repeating: 0, count: width * height)
for y in 0..<height {
    for x in 0..<width {
        let wave = sin(Float(x) * 0.013) * cos(Float(y) * 0.021) + 0.25 * sin(Float(x + 2 * y) * 0.005)
        let noise = Float(generator.next() >> 40) / Float(1 << 24) * 0.04 - 0.02
        weights[y * width + x] = 0.05 * (wave + noise)
    }
}
let pixels = try ImageSummary.images(tag: "dense/kernel_0", shape: [1, height, width, 1], values: weights)[0].pixels
if let directory {
    try Data(pixels).write(to: URL(fileURLWithPath: directory + "/pixels.raw"))
}

let clock = ContinuousClock()
let budget = Duration.nanoseconds(Int64(secondsPerRun * 1e9))
let strategies: [(name: String, strategy: PNGEncoder.FilterStrategy)] = [("adaptive", .adaptive), ("none", .only(.none))]
for (name, strategy) in strategies {
    let encoder = PNGEncoder(filterStrategy: strategy)
    var png = try encoder.encode(pixels, width: width, height: height, colorType: .grayscale)  // warm up
    if let directory {
        try Data(png).write(to: URL(fileURLWithPath: directory + "/ringboard-\(name).png"))
    }
    var calls = 0
    let start = clock.now
    var elapsed = Duration.zero
    repeat {
        png = try encoder.encode(pixels, width: width, height: height, colorType: .grayscale)
        calls += 1
        elapsed = start.duration(to: clock.now)
    } while elapsed < budget
    let components = elapsed.components
    let seconds = Double(components.seconds) + Double(components.attoseconds) * 1e-18
    let megabytesPerSecond = Double(pixels.count) * Double(calls) / seconds / 1e6
    print(
        "png implementation=ringboard filter=\(name) level=-1 width=\(width) height=\(height) raw_bytes=\(pixels.count)",
        "png_bytes=\(png.count) calls=\(calls) seconds=\(String(format: "%.3f", seconds)) mbps=\(String(format: "%.2f", megabytesPerSecond))"
    )
}
