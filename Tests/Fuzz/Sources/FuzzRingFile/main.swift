// A ring file with arbitrary contents, as the consumer meets it: the header (identity, positions,
// checkpoints) and the data area. The input is the whole file (its size sets the capacity); the
// reader opens it, delivers what it can (each record through the hook-record decoder), skips torn
// claims, commits with a checkpoint, and a second reader resumes from that commit. Refusals are
// fine; a crash, a trap or a read outside the mapping is a bug.
import FuzzSupport
import Glibc
import RingboardRecords
import RingboardRing

let ringPath = scratchDirectory + "/fuzz.ring"

func drain(_ reader: RingReader) {
    for _ in 0..<4 {
        do {
            try reader.poll(limit: 256) { record in
                _ = try? HookRecord(type: record.type, payload: record.payload)
            }
        } catch {
            return
        }
        if reader.isDrained || !reader.skipTornClaim() { break }
    }
    _ = reader.producerClosed
    _ = reader.lag
    _ = reader.droppedCount
    _ = reader.hasUnmarkedSpill
}

func readRing() {
    guard let reader = try? RingReader(path: ringPath) else { return }
    drain(reader)
    guard (try? reader.commit(checkpoint: [1, 2, 3])) != nil else { return }
    if let resumed = try? RingReader(path: ringPath) {
        precondition(resumed.readPosition == reader.committedPosition, "a reopened ring does not resume at the commit")
        precondition(resumed.checkpoint == [1, 2, 3], "a reopened ring lost its checkpoint")
        drain(resumed)
    }
}

/// Seeds: real rings made by `RingWriter` (4 KiB data areas): empty, holding hook records, closed,
/// wrapped with a padding record, committed with a checkpoint, and with a claim never finished.
func writeSeeds(_ directory: String) throws {
    var options = RingWriter.Options()
    options.capacity = 4096
    options.policy = .dropNewest
    let records: [HookRecord] = [
        .runAnnouncement(run: 0, rank: 0, worldSize: 1, policy: .chief, arguments: TensorBoardArguments(logDirectory: "run")),
        .metricName(run: 0, metric: 0, name: "loss"),
        .batch(run: 0, phase: .train, isEnd: true, batch: 0, logs: [MetricValue(metric: 0, value: 0.5)]),
        .hook(run: 0, kind: .epochEnd, index: 0, logs: [MetricValue(metric: 0, value: 0.25)]),
        .weightValues(run: 0, weight: 0, version: 1, offset: 0, total: 4, values: [1, 2, 3, 4]),
    ]
    func append(_ writer: RingWriter, _ record: HookRecord) {
        _ = writer.tryClaim(type: record.type, length: record.encodedLength) { record.encode(into: $0) }
    }
    func seed(_ name: String, _ build: (RingWriter) throws -> Void) throws {
        let rings = scratchDirectory + "/seed-" + name
        let writer = try RingWriter(directory: rings, options: options)
        try build(writer)
        let bytes = try readFile(writer.path)
        writeFile(directory + "/" + name + ".ring", bytes)
        unlink(writer.path)
        rmdir(rings)
    }
    try seed("empty") { _ in }
    try seed("records") { writer in records.forEach { append(writer, $0) } }
    try seed("closed") { writer in
        records.forEach { append(writer, $0) }
        writer.close()
    }
    try seed("wrapped") { writer in
        let reader = try RingReader(path: writer.path)
        for round in 0..<40 {
            append(writer, records[round % records.count])
            try reader.poll { _ in }
            try reader.commit(checkpoint: Array("round \(round)".utf8))
        }
    }
    // A producer that died inside its second claim: that record's length is still negative.
    var torn = try readFile(directory + "/records.ring")
    let first = Int(torn.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 4096, as: Int32.self) })
    let second = 4096 + (first + 7) & ~7
    let length = torn.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: second, as: Int32.self) }
    withUnsafeBytes(of: -length) { torn.replaceSubrange(second..<(second + 4), with: $0) }
    writeFile(directory + "/torn.ring", torn)
}

func readFile(_ path: String) throws -> [UInt8] {
    guard let file = fopen(path, "rb") else { throw SeedError(path: path) }
    defer { fclose(file) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 4096)
    while true {
        let count = fread(&chunk, 1, chunk.count, file)
        if count <= 0 { break }
        bytes += chunk[0..<count]
    }
    return bytes
}

struct SeedError: Error { var path: String }

runFuzzer(writeSeeds: writeSeeds) { input in
    writeFile(ringPath, input)
    readRing()
}
