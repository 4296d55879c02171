import Foundation
import RingboardRing
import RingboardTestSupport
import Testing

/// The ring across real processes: `ringboard stress` and a producer killed mid-stream.
@Suite struct StressTests {
    static let ringboard = productsDirectory + "/ringboard"

    @Test(arguments: [
        ["--producers", "2", "--threads", "2", "--records", "20000"],
        // A small ring and a late consumer: producers find it full and wait.
        ["--producers", "3", "--records", "5000", "--bytes", "200", "--capacity", "16384", "--consumer-pause-ms", "300"],
        // The same with the ring's default policy, spill, and several threads: segments and ring in one order.
        ["--producers", "2", "--threads", "3", "--records", "5000", "--bytes", "64", "--capacity", "8192", "--consumer-pause-ms", "300"],
        // Blocking instead.
        ["--producers", "2", "--records", "5000", "--capacity", "4096", "--policy", "block", "--consumer-pause-ms", "200"],
        // Dropping instead: whatever arrives is whole and in order.
        ["--producers", "2", "--records", "20000", "--capacity", "4096", "--policy", "drop", "--consumer-pause-ms", "100"],
    ])
    func everyProducerPasses(_ arguments: [String]) throws {
        let directory = TemporaryDirectory("ringboard-stress")
        let result = try run(Self.ringboard, ["stress", "--ring-dir", directory.appending("rings")] + arguments, timeout: 120)
        #expect(result.status == 0, "\(result.standardOutput)\n\(result.standardError)")
        let producers = Int(arguments[arguments.firstIndex(of: "--producers")! + 1])!
        #expect(result.standardOutput.hasSuffix("\(producers) passed, 0 failed\n"), "\(result.standardOutput)")
        // Finished producers' rings are removed once drained.
        let left = try FileManager.default.contentsOfDirectory(atPath: directory.appending("rings")).filter { $0.hasSuffix(".ring") }
        #expect(left.isEmpty)
    }

    @Test func badArgumentsAreOneClearLine() throws {
        let result = try run(Self.ringboard, ["stress", "--bytes", "8"])
        #expect(result.status != 0)
        #expect(result.standardError.hasPrefix("ringboard stress: --bytes must be between 16 and"))
        #expect(result.standardError.hasSuffix(" (see `ringboard stress --help`)\n"))
        #expect(result.standardError.split(separator: "\n").count == 1, "\(result.standardError)")
        // A capacity no ring can have is refused before any producer starts.
        let capacity = try run(Self.ringboard, ["stress", "--capacity", "1000"])
        #expect(capacity.status != 0)
        #expect(capacity.standardError.hasPrefix("ringboard stress: --capacity must be a power of two between 4096 (4 KiB) and"))
        #expect(capacity.standardOutput.isEmpty, "no producer ran: \(capacity.standardOutput)")
    }

    /// `kill -9` of a producer mid-stream: what it committed arrives in order with nothing
    /// repeated, at most one unfinished claim is skipped, and its ring is retired.
    @Test(arguments: ["block", "spill"])
    func aKilledProducersRecordsAllArrive(policy: String) throws {
        let directory = TemporaryDirectory("ringboard-kill")
        let rings = directory.appending("rings")
        let consumer = try RingConsumer(directory: rings)
        let producer = Process()
        producer.executableURL = URL(fileURLWithPath: Self.ringboard)
        producer.arguments = ["stress-producer", "--ring-dir", rings, "--id", "0", "--threads", "1", "--records", "1000000000",
                              "--bytes", "24", "--policy", policy, "--capacity", "65536"]
        try producer.run()
        // Late, so that a spilling producer dies with its last records in a spill segment.
        if policy == "spill" { usleep(300_000) }
        var next: UInt64 = 0
        var errors: [String] = []
        var killed = false
        let started = Date()
        var retired: [RingConsumer.Notice] = []
        while retired.isEmpty && Date().timeIntervalSince(started) < 60 {
            consumer.poll { _, record in
                let sequence = record.payload.loadUnaligned(fromByteOffset: 8, as: UInt64.self)
                if sequence != next { errors.append("got \(sequence), expected \(next)") }
                next = sequence + 1
            }
            try consumer.commitAll()
            if !killed && next > 200_000 {
                kill(producer.processIdentifier, SIGKILL)
                producer.waitUntilExit()
                killed = true
            }
            retired += consumer.notices().filter { if case .retired = $0 { true } else { false } }
        }
        #expect(killed)
        #expect(errors.isEmpty, "\(errors.prefix(3))")
        guard case .retired(_, _, let records, let torn, let clean) = retired.first else {
            Issue.record("the killed producer's ring was not retired")
            return
        }
        #expect(!clean)
        #expect(torn <= 1)
        #expect(records == Int64(next))
        #expect(try FileManager.default.contentsOfDirectory(atPath: rings).filter { $0.hasSuffix(".ring") }.isEmpty)
    }

    @Test func aSecondConsumerIsRefused() throws {
        let directory = TemporaryDirectory("ringboard-lock")
        let first = try RingConsumer(directory: directory.appending("rings"))
        #expect(throws: RingError.consumerRunning(directory: directory.appending("rings"))) {
            _ = try RingConsumer(directory: directory.appending("rings"))
        }
        withExtendedLifetime(first) {}
    }
}

extension StressTests {
    /// The consumer killed (`kill -9`) at random moments and restarted, five times, while one
    /// producer streams: every record ends up in the consumer's output exactly once, in order.
    /// The consumer commits its output length as the ring checkpoint and truncates back to it
    /// on restart: the pattern the aggregator follows with its event files.
    @Test func aKilledConsumerResumesWithNoLossAndNoRepeat() throws {
        let directory = TemporaryDirectory("ringboard-consumer-kill")
        let rings = directory.appending("rings")
        let output = directory.appending("received.txt")
        let records = 300_000
        let producer = Process()
        producer.executableURL = URL(fileURLWithPath: Self.ringboard)
        producer.arguments = ["stress-producer", "--ring-dir", rings, "--id", "0", "--threads", "1", "--records", "\(records)",
                              "--bytes", "24", "--policy", "spill", "--capacity", "65536"]
        var generator = SeededGenerator(seed: 99)
        func startConsumer() throws -> Process {
            let consumer = Process()
            consumer.executableURL = URL(fileURLWithPath: Self.ringboard)
            consumer.arguments = ["stress-consumer", "--ring-dir", rings, "--output", output, "--expect-records", "\(records)"]
            try consumer.run()
            return consumer
        }
        var consumer = try startConsumer()
        try producer.run()
        for _ in 0..<5 {
            usleep(UInt32.random(in: 20_000...120_000, using: &generator))
            kill(consumer.processIdentifier, SIGKILL)
            consumer.waitUntilExit()
            consumer = try startConsumer()
        }
        producer.waitUntilExit()
        let deadline = Date().addingTimeInterval(60)
        while consumer.isRunning && Date() < deadline { usleep(20_000) }
        #expect(!consumer.isRunning)
        if consumer.isRunning { consumer.terminate() }
        #expect(consumer.terminationStatus == 0)
        let lines = try String(contentsOfFile: output, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == records)
        let sequences = lines.map { Int($0.split(separator: " ")[2])! }
        let firstWrong = sequences.indices.first { sequences[$0] != $0 }
        #expect(firstWrong == nil, "line \(firstWrong ?? 0) holds record \(firstWrong.map { sequences[$0] } ?? 0)")
    }
}
