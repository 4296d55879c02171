// Runs one workload of Scripts/bench-peers.sh through Ringboard: the TensorBoard callback in the
// trainer process(es), a real `ringboard aggregate` process writing the event files, and a check
// that the files hold every event. Python's peers run the same workloads in
// Benchmarks/Tools/Peers/peers.py; the script alternates the two and prints the table.
//
// Usage:
//   PeersSideBySide reference [--seconds S]
//   PeersSideBySide w1 --ringboard BIN --work DIR [--batches N] [--metrics M] [--ring-mib R] [--workload NAME]
//   PeersSideBySide w2 --ringboard BIN --work DIR --procs K --policy mean|chief|per-rank [--batches N]
//                      [--ring-mib R] [--workload NAME]
//   PeersSideBySide w3 --ringboard BIN --work DIR [--epochs E] [--layers L] [--values V] [--ring-mib R]
//   PeersSideBySide w4 --ringboard BIN --work DIR [--epochs E] [--side S] [--ring-mib R]
//   PeersSideBySide hook-cost [--metrics M] [--batches N] [--ring-kib K] [--profile-batch B]   (the trainer alone, for bench-plot.sh)
//   PeersSideBySide runs --ringboard BIN --work DIR --runs R [--batches N]   (memory, for bench-plot.sh)
//   (`trainer` is one W2 rank, started by `w2`.)
//
// Each prints result lines, one fact each, for example
//     result workload=W1 side=ringboard key=call_ns value=24.9
// Keys: `call_ns` (median cost of one batch-end call in the trainer, over blocks of 1024 calls),
// `call_p99_ns`, `seconds` (first hook until the aggregator has retired every ring, every event in
// the files), `scalars_per_second`, `hooks_per_second`, `histograms_per_second`,
// `images_per_second`, `epoch_end_ms` (the trainer's epoch-end call), `events` (counted back from
// the files), `spilled_share` (W1: the share of its batch-end records that went to spill
// segments because the ring was full); for `reference` `memcpy_gbps`, `ring64k_gbps` and `ring_empty_mrps`; for `runs`
// `trainer_rss_mib` (growth), `aggregator_rss_mib` and `aggregator_peak_mib`.
//
// Timing starts once the aggregator runs and the trainers have made their callbacks (a node's
// aggregator is a daemon; TensorFlow's and tensorboardX's writers are made before their clocks
// start too), and stops when the aggregator has retired every ring: it removes a closed ring only
// once it has drained it and flushed everything its records produced into the event files.

import Foundation
import Ringboard
import RingboardFormat
import RingboardRecords
import RingboardRing

#if canImport(Glibc)
import Glibc
#endif

// MARK: Arguments

let command = CommandLine.arguments.dropFirst().first ?? ""
let arguments = Array(CommandLine.arguments.dropFirst(2))
if command.isEmpty {
    FileHandle.standardError.write(Data("usage: PeersSideBySide reference|w1|w2|w3|w4|trainer [options]\n".utf8))
    exit(2)
}

@MainActor func option(_ name: String) -> String? {
    guard let index = arguments.firstIndex(of: "--" + name), index + 1 < arguments.count else { return nil }
    return arguments[index + 1]
}
@MainActor func option(_ name: String, default value: Int) -> Int { option(name).flatMap { Int($0) } ?? value }
@MainActor func option(_ name: String, default value: Double) -> Double { option(name).flatMap { Double($0) } ?? value }
@MainActor func require(_ name: String) -> String {
    guard let value = option(name) else {
        FileHandle.standardError.write(Data("PeersSideBySide \(command): --\(name) is required\n".utf8))
        exit(2)
    }
    return value
}

@MainActor func report(_ workload: String, _ key: String, _ value: Double) {
    print("result workload=\(workload) side=ringboard key=\(key) value=\(value)")
}

@MainActor func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("PeersSideBySide \(command): \(message)\n".utf8))
    exit(1)
}

let clock = ContinuousClock()
@MainActor func seconds(_ duration: Duration) -> Double {
    let components = duration.components
    return Double(components.seconds) + Double(components.attoseconds) * 1e-18
}

/// 0.05 × standard normal values (Box–Muller over SplitMix64): a layer's weights.
@MainActor func weights(count: Int, seed: UInt64) -> [Float] {
    var state = seed
    func next() -> Double {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return Double((z ^ (z >> 31)) >> 11) * 0x1p-53
    }
    return (0..<count).map { _ in
        let u = Swift.max(next(), Double.ulpOfOne), v = next()
        return Float(0.05 * (-2 * log(u)).squareRoot() * cos(2 * Double.pi * v))
    }
}

// MARK: The aggregator process

/// `ringboard aggregate` over a fresh ring directory, writing under `logs`.
@MainActor final class AggregatorProcess {
    let process = Process()
    let ringDirectory: String
    let logs: String
    /// The aggregator's CPU time (user and system) until it had drained every ring.
    private(set) var cpuSeconds = Double.nan

    /// User plus system CPU seconds of a process, from `/proc/<pid>/stat`.
    static func cpuSeconds(of pid: Int32) -> Double {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return .nan }
        // Fields after the command's closing parenthesis, from field 3 (state): utime is 14, stime 15.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return .nan }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    init(binary: String, work: String, name: String) {
        ringDirectory = "/dev/shm/ringboard-peers-\(getpid())-\(name)"
        logs = work + "/" + name
        try? FileManager.default.removeItem(atPath: ringDirectory)
        try? FileManager.default.removeItem(atPath: logs)
        try? FileManager.default.createDirectory(atPath: logs, withIntermediateDirectories: true)
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["aggregate", "--logdir", logs, "--ring-dir", ringDirectory]
        process.standardOutput = FileHandle.standardError
        do {
            try process.run()
        } catch {
            fail("cannot start \(binary): \(error)")
        }
        // Serving once it holds the directory's consumer lock.
        let lock = ringDirectory + "/consumer.lock"
        while !FileManager.default.fileExists(atPath: lock) { usleep(1_000) }
        usleep(20_000)
    }

    /// Waits until every ring in the directory is retired (the aggregator removes a closed ring
    /// once it has drained it and flushed what its records produced into the event files), then
    /// stops the aggregator (SIGTERM: it closes its files and exits) and waits for it.
    ///
    /// - Returns: When the last ring was gone: the end of the end-to-end measurement.
    func waitUntilDone(beforeStopping: () -> Void = {}) -> ContinuousClock.Instant {
        func ringsLeft() -> Bool {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: ringDirectory)) ?? []
            return names.contains { $0.hasSuffix(".ring") || $0.contains(".spill.") }
        }
        while ringsLeft() {
            guard process.isRunning else { fail("the aggregator exited with \(process.terminationStatus) before draining") }
            usleep(200)
        }
        let done = ContinuousClock.now
        cpuSeconds = AggregatorProcess.cpuSeconds(of: process.processIdentifier)
        beforeStopping()
        // Not `--exit-when-idle`: it misses a producer whose ring is attached, drained and retired
        // within one step of the aggregator's loop, and then never exits.
        process.terminate()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { fail("the aggregator exited with \(process.terminationStatus)") }
        try? FileManager.default.removeItem(atPath: ringDirectory)
        return done
    }
}

/// `VmRSS` and `VmHWM` of a process, in MiB.
@MainActor func memory(of pid: String = "self") -> (resident: Double, peak: Double) {
    let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
    func field(_ name: String) -> Double {
        guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix(name + ":") }) else { return .nan }
        return (Double(line.split(separator: " ").dropFirst().first ?? "") ?? .nan) / 1024  // kB
    }
    return (field("VmRSS"), field("VmHWM"))
}

/// Counts the summary values in every event file under `directory`, by kind, checking every CRC.
@MainActor func countEvents(under directory: String) -> (scalars: Int, histograms: Int, images: Int) {
    var counts = (scalars: 0, histograms: 0, images: 0)
    guard let walker = FileManager.default.enumerator(atPath: directory) else { return counts }
    for case let path as String in walker where path.split(separator: "/").last?.hasPrefix("events.out.tfevents.") == true {
        let reader: EventFileReader
        do {
            reader = try EventFileReader(path: directory + "/" + path)
        } catch {
            fail("cannot read \(path): \(error)")
        }
        reading: while true {
            let item: EventFileReader.EventItem
            do {
                item = try reader.nextEvent()
            } catch {
                fail("cannot read \(path): \(error)")
            }
            switch item {
            case .event(let event, _):
                guard case .summary(let summary) = event.what else { continue }
                for value in summary.values {
                    switch value.kind {
                    case .simpleValue: counts.scalars += 1
                    case .histogram: counts.histograms += 1
                    case .image: counts.images += 1
                    default: break
                    }
                }
            case .end: break reading
            case .truncated(let offset): fail("\(path) is truncated at \(offset)")
            case .corrupt(let offset, let why): fail("\(path) is corrupt at \(offset): \(why)")
            }
        }
    }
    return counts
}

// MARK: Trainer loops

/// Ring options from `--ring-mib` (the default ring otherwise).
@MainActor func ringOptions() -> RingWriter.Options {
    var options = RingWriter.Options()
    if let mebibytes = option("ring-mib").flatMap(Int.init) { options.capacity = mebibytes << 20 }
    return options
}

/// The hot loop: `batches` batch-end calls with `metrics` metrics each, timed in blocks of 1024
/// calls. Returns the median and 99th percentile block mean, in nanoseconds per call.
@MainActor func hotLoop(_ callback: TensorBoard, batches: Int, metrics: Int) -> (median: Double, p99: Double) {
    let names = (0..<metrics).map { ["loss", "accuracy", "precision", "recall"].indices.contains($0) ? ["loss", "accuracy", "precision", "recall"][$0] : "metric_\($0)" }
    var logs = callback.batchLogs(names)
    callback.onTrainBegin(logs: [:])
    callback.onEpochBegin(0, logs: [:])
    let block = 1024
    var means: [Double] = []
    means.reserveCapacity(batches / block + 1)
    var batch = 0
    var loss = 2.3
    while batch < batches {
        let end = min(batches, batch + block)
        let start = clock.now
        while batch < end {
            loss *= 0.999_999
            for k in 0..<metrics { logs[k] = loss + Double(k) }
            callback.onTrainBatchEnd(batch, logs: logs)
            batch += 1
        }
        means.append(seconds(start.duration(to: clock.now)) * 1e9 / Double(block))
    }
    callback.onEpochEnd(0, logs: [:])
    callback.onTrainEnd(logs: [:])
    means.sort()
    return (means[means.count / 2], means[min(means.count - 1, means.count * 99 / 100)])
}

/// Polls for a file to appear (the parent's start signal).
@MainActor func waitForFile(_ path: String) {
    while !FileManager.default.fileExists(atPath: path) { usleep(50) }
}

// MARK: Workloads

switch command {
case "reference":
    // Memory bandwidth on one core, and the bare ring (append, drain, commit on one thread) with
    // 64 KiB records and with empty ones: the ceilings the other figures sit under.
    let budget = option("seconds", default: 0.5)
    let large = [UInt8](repeating: 7, count: 64 << 10)
    var destination = [UInt8](repeating: 0, count: 64 << 10)
    func rate(_ body: () -> Int) -> Double {
        _ = body()
        var units = 0
        let start = clock.now
        var elapsed = 0.0
        repeat {
            units += body()
            elapsed = seconds(start.duration(to: clock.now))
        } while elapsed < budget
        return Double(units) / elapsed
    }
    let memcpyRate = rate {
        for _ in 0..<64 {
            destination.withUnsafeMutableBytes { to in large.withUnsafeBytes { from in _ = memcpy(to.baseAddress!, from.baseAddress!, from.count) } }
        }
        return 64 * large.count
    }
    report("reference", "memcpy_gbps", memcpyRate / 1e9)

    let directory = "/dev/shm/ringboard-peers-ring-\(getpid())"
    defer { try? FileManager.default.removeItem(atPath: directory) }
    var options = RingWriter.Options()
    options.capacity = 1 << 20
    let writer = try RingWriter(directory: directory, options: options)
    let reader = try RingReader(path: writer.path)
    var sum: UInt64 = 0
    let type = RingRecordType.firstUser
    let ringRate = rate {
        for _ in 0..<64 {
            _ = writer.tryAppend(type: type, large)
            _ = try! reader.poll { record in sum &+= UInt64(record.payload[record.payload.count - 1]) }
            try! reader.commit()
        }
        return 64 * large.count
    }
    report("reference", "ring64k_gbps", ringRate / 1e9)
    let emptyRate = rate {
        for _ in 0..<4096 {
            _ = writer.tryClaim(type: type, length: 0) { _ in }
        }
        _ = try! reader.poll { record in sum &+= UInt64(record.type) }
        try! reader.commit()
        return 4096
    }
    report("reference", "ring_empty_mrps", emptyRate / 1e6)
    if sum == 0x5EED { print("sink \(sum)") }

case "w1":
    // One trainer process, `batches` batch-end hooks with `metrics` metrics, update_freq='batch'.
    let batches = option("batches", default: 1_000_000)
    let metrics = option("metrics", default: 4)
    let workload = option("workload") ?? "W1"
    let aggregator = AggregatorProcess(binary: require("ringboard"), work: require("work"), name: "w1")
    let callback = try TensorBoard(logDir: aggregator.logs + "/run", writeGraph: false, updateFreq: .batch, profileBatch: 0,
                                   ringDirectory: aggregator.ringDirectory, ringOptions: ringOptions())
    let start = clock.now
    let (median, p99) = hotLoop(callback, batches: batches, metrics: metrics)
    let trainerSeconds = seconds(start.duration(to: clock.now))
    // Read before closing: the aggregator removes the ring once it has drained a closed one.
    let ring = (try? RingStatus.all(in: aggregator.ringDirectory))?.first { $0.producerID == getpid() }
    _ = TensorBoard.closeRing(directory: aggregator.ringDirectory)
    let elapsed = seconds(start.duration(to: aggregator.waitUntilDone()))
    let counted = countEvents(under: aggregator.logs)
    guard counted.scalars == batches * metrics else { fail("expected \(batches * metrics) scalars, found \(counted.scalars)") }
    guard let ring else { fail("no ring of this process in \(aggregator.ringDirectory)") }
    report(workload, "call_ns", median)
    // The batch-end records that went to spill segments because the ring was full (the hot
    // loop's few other hooks are not counted).
    report(workload, "spilled_share", Double(ring.spilledRecords) / Double(batches))
    report(workload, "call_p99_ns", p99)
    report(workload, "trainer_seconds", trainerSeconds)
    report(workload, "seconds", elapsed)
    report(workload, "aggregator_cpu_seconds", aggregator.cpuSeconds)
    report(workload, "events", Double(counted.scalars))
    report(workload, "scalars_per_second", Double(counted.scalars) / elapsed)

case "w2":
    // K trainer processes of `batches` batch-end hooks each, one run, one aggregator.
    let procs = option("procs", default: 2)
    let batches = option("batches", default: 500_000)
    let policy = option("policy") ?? "mean"
    let work = require("work")
    let aggregator = AggregatorProcess(binary: require("ringboard"), work: work, name: "w2-\(policy)-\(procs)")
    let signal = work + "/w2-go-\(getpid())"
    try? FileManager.default.removeItem(atPath: signal)
    let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
    var children: [(Process, Pipe)] = []
    for rank in 0..<procs {
        let process = Process()
        let pipe = Pipe()
        process.executableURL = executable
        process.arguments = ["trainer", "--rank", "\(rank)", "--procs", "\(procs)", "--policy", policy, "--batches", "\(batches)",
                             "--ring-dir", aggregator.ringDirectory, "--logdir", aggregator.logs + "/run", "--ready", work + "/w2-ready-\(getpid())-\(rank)",
                             "--go", signal] + (option("ring-mib").map { ["--ring-mib", $0] } ?? [])
        process.standardOutput = pipe
        try process.run()
        children.append((process, pipe))
    }
    for rank in 0..<procs { waitForFile(work + "/w2-ready-\(getpid())-\(rank)") }
    let start = clock.now
    _ = FileManager.default.createFile(atPath: signal, contents: nil)
    var callMedians: [Double] = []
    for (child, pipe) in children {
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        child.waitUntilExit()
        guard child.terminationStatus == 0 else { fail("a trainer exited with \(child.terminationStatus)") }
        for line in output.split(separator: "\n") where line.hasPrefix("call_ns ") {
            callMedians.append(Double(line.dropFirst(8)) ?? .nan)
        }
    }
    let elapsed = seconds(start.duration(to: aggregator.waitUntilDone()))
    for rank in 0..<procs { try? FileManager.default.removeItem(atPath: work + "/w2-ready-\(getpid())-\(rank)") }
    try? FileManager.default.removeItem(atPath: signal)
    let counted = countEvents(under: aggregator.logs)
    // .mean merges the ranks' hooks into one per step; .chief writes rank 0's; .perRank every rank's.
    let expected = batches * 4 * (policy == "per-rank" ? procs : 1)
    guard counted.scalars == expected else { fail("expected \(expected) scalars, found \(counted.scalars)") }
    let workload = option("workload") ?? "W2-\(policy)-K\(procs)"
    report(workload, "call_ns", callMedians.sorted()[callMedians.count / 2])
    report(workload, "seconds", elapsed)
    report(workload, "aggregator_cpu_seconds", aggregator.cpuSeconds)
    report(workload, "events", Double(counted.scalars))
    // The rate counts the scalars the trainers handed in, as the peers' rate does.
    report(workload, "scalars_per_second", Double(procs * batches * 4) / elapsed)
    report(workload, "hooks_per_second", Double(procs * batches) / elapsed)

case "trainer":
    // One rank of W2 (started by `w2`).
    let rank = option("rank", default: 0), procs = option("procs", default: 1)
    let policy: RankPolicy = switch option("policy") {
    case "chief": .chief
    case "per-rank": .perRank
    default: .mean
    }
    let callback = try TensorBoard(logDir: require("logdir"), writeGraph: false, updateFreq: .batch, profileBatch: 0, rank: rank,
                                   worldSize: procs, rankPolicy: policy, ringDirectory: require("ring-dir"), ringOptions: ringOptions(),
                                   startAggregator: false)
    _ = FileManager.default.createFile(atPath: require("ready"), contents: nil)
    waitForFile(require("go"))
    let (median, _) = hotLoop(callback, batches: option("batches", default: 500_000), metrics: 4)
    _ = TensorBoard.closeRing(directory: require("ring-dir"))
    print("call_ns \(median)")

case "w3", "w4":
    // W3: `layers` layers of `values` Float32 weights, histogram_freq=1, for `epochs` epochs.
    // W4: one 512×512 weight, histogram_freq=1 and write_images (Keras writes images of the
    // weights at the epochs it writes their histograms).
    let images = command == "w4"
    let epochs = option("epochs", default: 20)
    let layerCount = images ? 1 : option("layers", default: 8)
    let side = option("side", default: 512)
    let valueCount = images ? side * side : option("values", default: 1 << 20)
    let shape = images ? [side, side] : [1024, valueCount / 1024]
    let workload = images ? "W4" : "W3"
    let aggregator = AggregatorProcess(binary: require("ringboard"), work: require("work"), name: command)
    let layers = (0..<layerCount).map { index in
        ModelDescription.Layer(name: "dense_\(index)", className: "Dense",
                               weights: [.init(name: "dense_\(index)/kernel:0", shape: shape, values: weights(count: valueCount, seed: UInt64(42 + index)))])
    }
    let callback = try TensorBoard(logDir: aggregator.logs + "/run", histogramFreq: 1, writeGraph: false, writeImages: images, profileBatch: 0,
                                   ringDirectory: aggregator.ringDirectory, ringOptions: ringOptions())
    try callback.setParams(TrainingParameters(batchSize: 32, epochs: epochs, steps: 1, doValidation: true, metrics: ["loss"]))
    try callback.setModel(ModelDescription(name: "model", layers: layers))
    let start = clock.now
    var epochCalls: [Double] = []
    callback.onTrainBegin(logs: [:])
    for epoch in 0..<epochs {
        callback.onEpochBegin(epoch, logs: [:])
        let call = clock.now
        callback.setWeights(layers)
        callback.onEpochEnd(epoch, logs: ["loss": 1.0 / Double(epoch + 1)])
        epochCalls.append(seconds(call.duration(to: clock.now)))
    }
    callback.onTrainEnd(logs: [:])
    _ = TensorBoard.closeRing(directory: aggregator.ringDirectory)
    let elapsed = seconds(start.duration(to: aggregator.waitUntilDone()))
    let counted = countEvents(under: aggregator.logs)
    guard counted.histograms == epochs * layerCount else { fail("expected \(epochs * layerCount) histograms, found \(counted.histograms)") }
    if images {
        guard counted.images == epochs else { fail("expected \(epochs) images, found \(counted.images)") }
    }
    report(workload, "epoch_end_ms", epochCalls.sorted()[epochCalls.count / 2] * 1e3)
    report(workload, "seconds", elapsed)
    report(workload, "aggregator_cpu_seconds", aggregator.cpuSeconds)
    report(workload, "events", Double(counted.histograms + counted.images))
    report(workload, "histograms_per_second", Double(counted.histograms) / elapsed)
    if images { report(workload, "images_per_second", Double(counted.images) / elapsed) }

case "hook-cost":
    // The trainer's side alone: `batches` batch-end calls of `metrics` metrics into a ring that
    // holds them all, with no aggregator (nothing competes for the cores).
    let metrics = option("metrics", default: 4)
    let batches = option("batches", default: 100_000)
    let directory = "/dev/shm/ringboard-peers-hooks-\(getpid())"
    defer { try? FileManager.default.removeItem(atPath: directory) }
    var options = RingWriter.Options()
    let needed = batches * (8 + HookRecord.batchLength(metricCount: metrics)) + (1 << 20)  // 8: the ring's record header
    while options.capacity < needed { options.capacity *= 2 }
    // `--ring-kib K`: a ring of K KiB instead, which fills at once: the spill path's cost.
    if let kibibytes = option("ring-kib").flatMap(Int.init) { options.capacity = kibibytes << 10 }
    // `--profile-batch N`: a callback that traces batch N (Keras's default is 2), whose hooks
    // count train batch ends to stamp that batch to the clock's resolution.
    let profileBatch = option("profile-batch", default: 0)
    let callback = try TensorBoard(logDir: directory + "/run", writeGraph: false, updateFreq: .batch, profileBatch: profileBatch,
                                   ringDirectory: directory, ringOptions: options, startAggregator: false)
    let (median, p99) = hotLoop(callback, batches: batches, metrics: metrics)
    _ = TensorBoard.closeRing(directory: directory)
    report("hook-cost-\(metrics)", "call_ns", median)
    report("hook-cost-\(metrics)", "call_p99_ns", p99)

case "runs":
    // `runs` runs (callbacks) in one trainer process, `batches` batch-end hooks of 4 metrics each,
    // interleaved; the trainer's memory growth and the aggregator's once everything is written.
    let runCount = option("runs", default: 1)
    let batches = option("batches", default: 10_000)
    let aggregator = AggregatorProcess(binary: require("ringboard"), work: require("work"), name: "runs-\(runCount)")
    let before = memory()
    var callbacks: [TensorBoard] = []
    var logs: [BatchLogs] = []
    for index in 0..<runCount {
        let callback = try TensorBoard(logDir: aggregator.logs + "/run_\(index)", writeGraph: false, updateFreq: .batch, profileBatch: 0,
                                       ringDirectory: aggregator.ringDirectory)
        callbacks.append(callback)
        logs.append(callback.batchLogs(["loss", "accuracy", "precision", "recall"]))
        callback.onTrainBegin(logs: [:])
    }
    for batch in 0..<batches {
        for index in 0..<runCount {
            for k in 0..<4 { logs[index][k] = Double(batch + k) }
            callbacks[index].onTrainBatchEnd(batch, logs: logs[index])
        }
    }
    for callback in callbacks { callback.onTrainEnd(logs: [:]) }
    let after = memory()
    _ = TensorBoard.closeRing(directory: aggregator.ringDirectory)
    var aggregatorMemory = (resident: Double.nan, peak: Double.nan)
    let pid = "\(aggregator.process.processIdentifier)"
    _ = aggregator.waitUntilDone { aggregatorMemory = memory(of: pid) }
    let counted = countEvents(under: aggregator.logs)
    guard counted.scalars == runCount * batches * 4 else { fail("expected \(runCount * batches * 4) scalars, found \(counted.scalars)") }
    let workload = "runs-\(runCount)"
    report(workload, "trainer_rss_mib", after.resident - before.resident)
    report(workload, "trainer_rss_before_mib", before.resident)
    report(workload, "aggregator_rss_mib", aggregatorMemory.resident)
    report(workload, "aggregator_peak_mib", aggregatorMemory.peak)

default:
    fail("unknown workload \(command)")
}
