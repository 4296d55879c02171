import ArgumentParser
import Foundation
import RingboardRing
internal import RingboardSystem

extension RingboardCommand {
    /// `ringboard stress`: real producer processes against one consumer, checking that every
    /// record arrives once and in order.
    struct Stress: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run producer processes against one ring consumer and verify every record.",
            discussion: """
                Starts P producer processes of T threads; each thread appends N records of B \
                bytes, numbered. The consumer checks, per producer thread, that the numbers arrive \
                in order with none missing or repeated (records a full ring dropped under \
                --policy drop are counted, not missed), and that every payload byte is intact. \
                Exits 0 only when every producer passes.

                Examples:
                  ringboard stress
                  ringboard stress --producers 4 --records 100000 --policy drop
                """
        )

        @Option(help: "Producer processes.") var producers = 2
        @Option(help: "Threads per producer.") var threads = 1
        @Option(help: "Records per producer thread.") var records = 100_000
        @Option(help: "Payload bytes per record (at least 16).") var bytes = 32
        @Option(help: "The consumer starts this many milliseconds late, to fill the rings.") var consumerPauseMs = 0
        @Option(help: "What a producer does on a full ring: spill, block or drop.") var policy: StressPolicy = .spill
        @Option(help: "Ring capacity in bytes (a power of two).") var capacity = 16 << 20
        @Option(help: "Ring directory (default: a fresh one under /dev/shm).") var ringDir: String?

        func validate() throws {
            guard producers >= 1, producers <= 64 else { throw ValidationError("--producers must be 1…64") }
            guard threads >= 1, threads <= 64 else { throw ValidationError("--threads must be 1…64") }
            guard records >= 1 else { throw ValidationError("--records must be at least 1") }
            guard RingWriter.Options.isValid(capacity: capacity) else {
                throw ValidationError("--capacity must be a power of two between 4096 (4 KiB) and \(1 << 34) (16 GiB), not \(capacity)")
            }
            guard bytes >= 16, bytes <= capacity / 8 - 8 else {
                throw ValidationError("--bytes must be between 16 and \(capacity / 8 - 8) for this capacity")
            }
        }

        func run() throws {
            let directory = ringDir ?? "/dev/shm/ringboard-stress-\(getpid())"
            let consumer: RingConsumer
            do {
                consumer = try RingConsumer(directory: directory)
            } catch {
                printError("stress", error.description)
                throw ExitCode(2)
            }
            defer { if ringDir == nil { try? FileManager.default.removeItem(atPath: directory) } }
            let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path
            var children: [Process] = []
            let outputs = (0..<producers).map { _ in Pipe() }
            let started = ContinuousClock.now
            for producer in 0..<producers {
                let process = Process()
                process.executableURL = URL(fileURLWithPath: executable)
                process.arguments = [
                    "stress-producer", "--ring-dir", directory, "--id", "\(producer)", "--threads", "\(threads)",
                    "--records", "\(records)", "--bytes", "\(bytes)", "--policy", policy.rawValue, "--capacity", "\(capacity)",
                ]
                process.standardOutput = outputs[producer]
                try process.run()
                children.append(process)
            }
            if consumerPauseMs > 0 { usleep(UInt32(min(consumerPauseMs, 3_600_000)) * 1000) }

            var verifier = StressVerifier(producers: producers, threads: threads, bytes: bytes)
            var progress = ProgressLine()
            while true {
                let count = consumer.poll { _, record in verifier.check(record.payload) }
                do {
                    try consumer.commitAll()
                } catch {
                    printError("stress", error.description)
                    throw ExitCode(1)
                }
                for notice in consumer.notices() {
                    switch notice {
                    case .refused, .quarantined, .directoryLost: printError("stress", notice.description)
                    case .discovered, .retired: break
                    }
                }
                if count == 0 && !children.contains(where: \.isRunning) {
                    // Every producer is done: finish once their rings are drained and retired.
                    consumer.scan()
                    if consumer.sources.isEmpty { break }
                }
                if count == 0 { consumer.waitForRecords(timeout: .milliseconds(50)) }
                progress.update("stress: \(verifier.received) of \(producers * threads * records) records received")
            }
            let elapsed = ContinuousClock.now - started
            for child in children { child.waitUntilExit() }
            progress.clear()
            let seconds = elapsed.inSeconds
            let sent = producers * threads * records
            // Each producer's last line: "spilled S dropped D".
            var spilled = 0
            var droppedByProducers = 0
            for output in outputs {
                let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
                let words = text.split(whereSeparator: \.isWhitespace)
                if words.count == 4 {
                    spilled += Int(words[1]) ?? 0
                    droppedByProducers += Int(words[3]) ?? 0
                }
            }
            print("stress: \(producers) producers × \(threads) threads × \(records) records of \(bytes) bytes, policy \(policy.rawValue)")
            print("received \(verifier.received) of \(sent) records (\(spilled) through spill segments), dropped \(droppedByProducers), in \(String(format: "%.3f", seconds)) s")
            print(String(format: "%.2f M records/s, %.3f GB/s of payload", Double(verifier.received) / seconds / 1e6,
                         Double(verifier.received * bytes) / seconds / 1e9))
            var passed = 0
            var failed = 0
            for producer in 0..<producers {
                let problems = verifier.problems(producer: producer, expectedPerThread: records, dropAllowed: policy == .drop)
                    + (producer == 0 && verifier.received + droppedByProducers != sent
                        ? ["\(sent - verifier.received - droppedByProducers) records neither received nor counted as dropped"] : [])
                    + (children[producer].terminationStatus == 0 ? [] : ["exited with status \(children[producer].terminationStatus)"])
                if problems.isEmpty {
                    passed += 1
                } else {
                    failed += 1
                    print("producer \(producer): FAILED: " + problems.prefix(5).joined(separator: "; "))
                }
            }
            print("\(passed) passed, \(failed) failed")
            if failed > 0 { throw ExitCode(1) }
        }
    }

    /// The producer process `ringboard stress` starts (not for direct use).
    struct StressProducer: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "stress-producer", shouldDisplay: false)

        @Option var ringDir: String
        @Option var id: Int
        @Option var threads: Int
        @Option var records: Int
        @Option var bytes: Int
        @Option var policy: StressPolicy
        @Option var capacity: Int

        func run() throws {
            var options = RingWriter.Options()
            options.capacity = capacity
            options.policy = policy.ringPolicy
            let writer = try RingWriter(directory: ringDir, options: options)
            let producer = UInt32(id)
            // Plain locals: reading an @Option in the loop costs more than the append.
            let records = UInt64(records), bytes = bytes
            DispatchQueue.concurrentPerform(iterations: threads) { thread in
                for sequence in 0..<records {
                    _ = writer.append(type: RingRecordType.firstUser, length: bytes) { payload in
                        StressVerifier.fill(payload, producer: producer, thread: UInt32(thread), sequence: sequence)
                    }
                }
            }
            writer.close()
            print("spilled \(writer.spilledCount) dropped \(writer.droppedCount)")
        }
    }
}

/// What a stress producer does on a full ring.
enum StressPolicy: String, ExpressibleByArgument, CaseIterable {
    case spill, block, drop

    var ringPolicy: RingPolicy {
        switch self {
        case .spill: .spill
        case .block: .block
        case .drop: .dropNewest
        }
    }
}

/// Checks stress records: `u32 producer, u32 thread, u64 sequence`, then bytes that follow from
/// the sequence number.
struct StressVerifier {
    private var next: [[UInt64]]
    private var skipped: [[UInt64]]
    private var errors: [[String]]
    private let bytes: Int
    private(set) var received = 0

    init(producers: Int, threads: Int, bytes: Int) {
        next = Array(repeating: Array(repeating: 0, count: threads), count: producers)
        skipped = next
        errors = Array(repeating: [], count: producers)
        self.bytes = bytes
    }

    /// The payload: the three numbers, then 8-byte words that follow from the sequence number
    /// (and a tail of bytes when the length is not a multiple of 8).
    static func fill(_ payload: UnsafeMutableRawBufferPointer, producer: UInt32, thread: UInt32, sequence: UInt64) {
        payload.storeBytes(of: producer, as: UInt32.self)
        payload.storeBytes(of: thread, toByteOffset: 4, as: UInt32.self)
        payload.storeBytes(of: sequence, toByteOffset: 8, as: UInt64.self)
        var k = 16
        while k + 8 <= payload.count {
            payload.storeBytes(of: word(sequence, k), toByteOffset: k, as: UInt64.self)
            k += 8
        }
        while k < payload.count {
            payload[k] = UInt8(truncatingIfNeeded: word(sequence, k))
            k += 1
        }
    }

    @inline(__always)
    static func word(_ sequence: UInt64, _ offset: Int) -> UInt64 {
        (sequence &* 0x9E37_79B9_7F4A_7C15) ^ UInt64(offset)
    }

    mutating func check(_ payload: UnsafeRawBufferPointer) {
        received += 1
        guard payload.count == bytes else {
            errors[0].append("a record of \(payload.count) bytes, expected \(bytes)")
            return
        }
        let producer = Int(payload.loadUnaligned(as: UInt32.self))
        let thread = Int(payload.loadUnaligned(fromByteOffset: 4, as: UInt32.self))
        let sequence = payload.loadUnaligned(fromByteOffset: 8, as: UInt64.self)
        guard producer < next.count, thread < next[producer].count else {
            errors[0].append("a record from unknown producer \(producer) thread \(thread)")
            return
        }
        var k = 16
        var intact = true
        while k + 8 <= payload.count {
            intact = intact && payload.loadUnaligned(fromByteOffset: k, as: UInt64.self) == Self.word(sequence, k)
            k += 8
        }
        while k < payload.count {
            intact = intact && payload[k] == UInt8(truncatingIfNeeded: Self.word(sequence, k))
            k += 1
        }
        if !intact {
            errors[producer].append("thread \(thread) record \(sequence): payload damaged")
        }
        let expected = next[producer][thread]
        if sequence < expected {
            errors[producer].append("thread \(thread): record \(sequence) again or out of order after \(expected - 1)")
        } else if sequence > expected {
            skipped[producer][thread] += sequence - expected
        }
        next[producer][thread] = sequence + 1
    }

    /// What is wrong with one producer's records: damage, repeats and disorder always; records
    /// missing unless the ring was allowed to drop them.
    func problems(producer: Int, expectedPerThread: Int, dropAllowed: Bool) -> [String] {
        var result = errors[producer]
        guard !dropAllowed else { return result }
        for (thread, next) in next[producer].enumerated() {
            let missing = UInt64(expectedPerThread) - next + skipped[producer][thread]
            if missing > 0 {
                result.append("thread \(thread): \(missing) of \(expectedPerThread) records missing")
            }
        }
        return result
    }
}

extension RingboardCommand {
    /// A consumer process for restart tests (not for direct use): appends every record's
    /// `producer thread sequence` to `--output` as it reads them, and every 20 ms (as the
    /// aggregator flushes and checkpoints) commits with the output's length as the ring
    /// checkpoint; restarted, it cuts the output back to that length. So, killed at any point, it
    /// still writes every record exactly once. Exits once it has written `--expect-records` and
    /// no ring is left.
    struct StressConsumer: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "stress-consumer", shouldDisplay: false)

        @Option var ringDir: String
        @Option var output: String
        @Option(help: "Exit once the output holds this many records and no ring is left.") var expectRecords: Int

        func run() throws {
            let consumer = try RingConsumer(directory: ringDir, waiting: .wait)
            if !FileManager.default.fileExists(atPath: output) {
                _ = FileManager.default.createFile(atPath: output, contents: nil)
            }
            guard let file = FileHandle(forUpdatingAtPath: output) else { throw ExitCode(2) }
            // Undo whatever a killed predecessor wrote after its last commit. (A ring already
            // retired has nothing uncommitted; with none left there is nothing to undo.)
            let committedLengths = consumer.sources.compactMap { source in
                consumer.reader(named: source.name).flatMap { reader in
                    reader.checkpoint.count == 8 ? reader.checkpoint.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) } : nil
                }
            }
            if let committedLength = committedLengths.max() {
                try file.truncate(atOffset: committedLength)
            } else if !consumer.sources.isEmpty {
                try file.truncate(atOffset: 0)
            }
            var written = try file.seekToEnd() == 0 ? 0 : String(decoding: try Data(contentsOf: URL(fileURLWithPath: output)), as: UTF8.self)
                .reduce(0) { $1 == "\n" ? $0 + 1 : $0 }
            var lastCommit = ContinuousClock.now
            while true {
                var lines = ""
                var count = 0
                consumer.poll(batch: 256) { _, record in
                    count += 1
                    let producer = record.payload.loadUnaligned(as: UInt32.self)
                    let thread = record.payload.loadUnaligned(fromByteOffset: 4, as: UInt32.self)
                    let sequence = record.payload.loadUnaligned(fromByteOffset: 8, as: UInt64.self)
                    lines += "\(producer) \(thread) \(sequence)\n"
                }
                if !lines.isEmpty { try file.write(contentsOf: Data(lines.utf8)) }
                written += count
                if count == 0 || ContinuousClock.now - lastCommit >= .milliseconds(20) {
                    let length = try file.offset()
                    try consumer.commitAll(checkpoint: withUnsafeBytes(of: length.littleEndian) { Array($0) })
                    lastCommit = .now
                }
                _ = consumer.notices()
                if count == 0 {
                    if written >= expectRecords && consumer.sources.isEmpty { break }
                    consumer.waitForRecords(timeout: .milliseconds(20))
                }
            }
            try file.close()
        }
    }
}
