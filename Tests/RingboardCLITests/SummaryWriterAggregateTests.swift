import Foundation
import Ringboard
import RingboardFormat
import RingboardRecords
import RingboardTestSupport
import Testing

/// The Swift `SummaryWriter` with a running `ringboard aggregate`: what it writes reaches one
/// event file in the log directory, a summary larger than a ring record included.
@Suite struct SummaryWriterAggregateTests {
    @Test func summariesReachTheEventFileThroughARunningAggregator() throws {
        let directory = TemporaryDirectory("ringboard-writer-aggregate")
        let rings = directory.appending("rings"), logs = directory.appending("logs")
        let aggregator = Process()
        aggregator.executableURL = URL(fileURLWithPath: AggregateTests.ringboard)
        aggregator.arguments = ["aggregate", "--logdir", logs, "--ring-dir", rings]
        aggregator.standardError = FileHandle.nullDevice
        try aggregator.run()
        defer {
            aggregator.terminate()
            aggregator.waitUntilExit()
        }
        let writer = try SummaryWriter(logDir: logs + "/run", ringDirectory: rings, startAggregator: false)
        let loss = try writer.tag("loss")
        for step in 0..<100 { try writer.addScalar(loss, Double(step) / 4, step: step, wallTime: 1_765_000_000 + Double(step)) }
        // 2.4 MB of pixels (800 × 1000 × 3), more than a record of the default 16 MiB ring holds (2 MiB).
        let pixels = (0..<(800 * 1000 * 3)).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 13) }
        try writer.addImage("noise", pixels: pixels.span, height: 800, width: 1000, channels: 3, step: 7, wallTime: 1_765_000_100)
        try writer.addAudio("sound", .float([0.5, -0.5, 0.25]), sampleRate: 8000, step: 8, wallTime: 1_765_000_101)
        #expect(writer.flush(timeout: .seconds(60)), "the aggregator did not write everything within 60 s")

        let names = try FileManager.default.contentsOfDirectory(atPath: logs + "/run").filter { $0.contains("tfevents") }
        try #require(names.count == 1, "one event file, not \(names)")
        let reader = try EventFileReader(path: logs + "/run/" + names[0])
        var scalars: [Int64] = [], others: [String] = []
        while case .event(let event, _) = try reader.nextEvent() {
            guard case .summary(let summary) = event.what, let value = summary.values.first else { continue }
            switch value.kind {
            case .simpleValue(let number):
                #expect(Double(number) == Double(event.step) / 4)
                scalars.append(event.step)
            case .image(let image):
                others.append("\(value.tag)@\(event.step) \(image.width)×\(image.height)")
            case .audio:
                others.append("\(value.tag)@\(event.step) audio")
            default:
                others.append("\(value.tag)@\(event.step) ?")
            }
        }
        #expect(scalars == (0..<100).map { Int64($0) })
        #expect(others == ["noise@7 1000×800", "sound@8 audio"])
    }
}
