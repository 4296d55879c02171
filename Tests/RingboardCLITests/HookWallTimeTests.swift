import Foundation
import Ringboard
import RingboardFormat
import RingboardTestSupport
import Testing

/// Events carry the time their hook fired in the trainer, as TF 2.0 stamps a summary when the
/// hook writes it, not the time the aggregator got to the record: here the aggregator starts
/// seconds after training has ended, and TensorBoard's wall and relative axes still show the
/// hooks as they were spaced.
@Suite struct HookWallTimeTests {
    static let ringboard = productsDirectory + "/ringboard"

    static func now() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }

    /// Wall times of the scalars tagged `tag` in the event files under `directory`, by step.
    static func wallTimes(_ tag: String, under directory: String) throws -> [Int64: Double] {
        var times: [Int64: Double] = [:]
        let files = ((try? FileManager.default.subpathsOfDirectory(atPath: directory)) ?? []).filter { $0.contains("tfevents") }
        for file in files {
            let reader = try EventFileReader(path: directory + "/" + file)
            while case .event(let event, _) = try reader.nextEvent() {
                if case .summary(let summary) = event.what, summary.values.contains(where: { $0.tag == tag }) {
                    times[event.step] = event.wallTime
                }
            }
        }
        return times
    }

    /// The coarse clock the hooks read lags the precise one by at most a kernel tick (4 ms at
    /// 250 Hz); the event's double holds it to well under a microsecond.
    static let tolerance = 0.010

    /// Expects each step's wall time within `tolerance` of when its hook fired (`fired[step]`).
    static func expectStamped(_ wallTimes: [Int64: Double], firedAt fired: [Double], sourceLocation: SourceLocation = #_sourceLocation) {
        for (step, wallTime) in wallTimes.sorted(by: { $0.key < $1.key }) {
            let hook = fired[Int(step)]
            #expect(abs(wallTime - hook) <= tolerance, "step \(step): \(wallTime) for a hook at \(hook)", sourceLocation: sourceLocation)
        }
    }

    @Test func eventsCarryTheTimeTheirHookFired() throws {
        let directory = TemporaryDirectory("ringboard-wall-time")
        let rings = directory.appending("rings"), logs = directory.appending("logs")
        let callback = try TensorBoard(logDir: logs + "/run", updateFreq: .batch, profileBatch: 0, ringDirectory: rings,
                                       startAggregator: false)
        var fired: [Double] = []
        var hotLoop = callback.batchLogs(["loss"])
        callback.onTrainBegin(logs: [:])
        for batch in 0..<40 {
            fired.append(Self.now())
            // Both forms of the hook: the hot loop's and the dictionary's.
            if batch % 2 == 0 {
                hotLoop[0] = Double(batch)
                callback.onTrainBatchEnd(batch, logs: hotLoop)
            } else {
                callback.onTrainBatchEnd(batch, logs: ["loss": Double(batch)])
            }
            usleep(25_000)
        }
        let epochFired = Self.now()
        callback.onEpochEnd(0, logs: ["loss": 1, "val_loss": 2])
        callback.onTrainEnd(logs: [:])
        _ = TensorBoard.closeRing(directory: rings)
        sleep(2)

        let aggregatorStarted = Self.now()
        let result = try run(Self.ringboard, ["aggregate", "--logdir", logs, "--ring-dir", rings, "--exit-when-idle", "0"], timeout: 120)
        #expect(result.status == 0, "\(result.standardError)")
        let batches = try Self.wallTimes("batch_loss", under: logs + "/run/train")
        #expect(batches.count == 40)
        Self.expectStamped(batches, firedAt: fired)
        // Spread over the second the loop took, all before the aggregator even started.
        let times = batches.values.sorted()
        #expect(times.last! - times.first! >= 0.9)
        #expect(times.last! < aggregatorStarted - 1)
        // The file is dated as TF 2.0 dates it: created when its first event's hook wrote it.
        let trainFiles = try FileManager.default.contentsOfDirectory(atPath: logs + "/run/train").filter { $0.contains("tfevents") }
        #expect(trainFiles.count == 1)
        let file = try #require(trainFiles.first)
        let reader = try EventFileReader(path: logs + "/run/train/" + file)
        guard case .event(let first, _) = try reader.nextEvent(), case .fileVersion = first.what else {
            Issue.record("no file-version record first")
            return
        }
        #expect(first.wallTime == batches[0])
        #expect(file.hasPrefix("events.out.tfevents.\(Int64(try #require(batches[0]))).") , "\(file)")
        // The epoch's scalars are at step 40, the samples seen (update_freq 'batch', no size).
        let epoch = try Self.wallTimes("epoch_loss", under: logs + "/run/train")
        #expect(abs(try #require(epoch[40]) - epochFired) <= Self.tolerance)
        let validation = try Self.wallTimes("epoch_loss", under: logs + "/run/validation")
        #expect(validation[40] == epoch[40])
    }

    /// Under `.mean` a merged step is stamped when its last rank's hook fired.
    @Test func aMergedStepCarriesItsLastRanksTime() throws {
        let directory = TemporaryDirectory("ringboard-wall-time")
        let rings = directory.appending("rings"), logs = directory.appending("logs")
        let ranks = try (0..<2).map { rank in
            try TensorBoard(logDir: logs + "/mean", updateFreq: .batch, profileBatch: 0, rank: rank, worldSize: 2, rankPolicy: .mean,
                            ringDirectory: rings, startAggregator: false)
        }
        var lastFired: [Double] = []
        for batch in 0..<5 {
            // Rank 1 reports each step 100 ms after rank 0.
            ranks[0].onTrainBatchEnd(batch, logs: ["loss": 1])
            usleep(100_000)
            lastFired.append(Self.now())
            ranks[1].onTrainBatchEnd(batch, logs: ["loss": 3])
        }
        for rank in ranks { rank.onTrainEnd(logs: [:]) }
        _ = TensorBoard.closeRing(directory: rings)
        let result = try run(Self.ringboard, ["aggregate", "--logdir", logs, "--ring-dir", rings, "--exit-when-idle", "0"], timeout: 120)
        #expect(result.status == 0, "\(result.standardError)")
        let merged = try Self.wallTimes("batch_loss", under: logs + "/mean/train")
        #expect(merged.count == 5)
        Self.expectStamped(merged, firedAt: lastFired)
    }
}
