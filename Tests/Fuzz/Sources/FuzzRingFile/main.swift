// A ring file with arbitrary contents, as the consumer meets it: the header (identity, positions,
// checkpoints), the data area and a spill segment beside it. The first 8 KiB of the input are the
// ring file (a 4 KiB data area; a shorter input is the whole file, and its size is then refused
// or sets the capacity), the rest, if any, is spill segment 0 (LZ4 frames), reached through a
// spill marker in the ring or as a segment the producer never marked. The reader opens the ring,
// delivers what it can (each record through the hook-record decoder), skips torn claims, drains
// the segment, commits with a checkpoint, and a second reader resumes from that commit. Refusals
// are fine; a crash, a trap, a hang or a read outside the mapping is a bug.
import FuzzSupport
import Glibc
import RingboardRecords
import RingboardRing

let ringPath = scratchDirectory + "/fuzz.ring"
let segmentPath = ringPath + ".spill.0"
let ringFileSize = 8192

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
    // One segment per call; a damaged one stops it.
    for _ in 0..<16 where reader.isDrained && reader.hasUnmarkedSpill {
        guard (try? reader.pollUnmarkedSpill({ record in
            _ = try? HookRecord(type: record.type, payload: record.payload)
        })) != nil else { break }
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
        .runAnnouncement(run: 0, rank: 0, worldSize: 1, policy: .chief, arguments: TensorBoardArguments(logDirectory: "/logs/run")),
        .metricName(run: 0, metric: 0, name: "loss"),
        .batch(run: 0, phase: .train, isEnd: true, batch: 0, logs: [MetricValue(metric: 0, value: 0.5)], wallTime: 1_800_000_000_000_000_000),
        .hook(run: 0, kind: .epochEnd, index: 0, logs: [MetricValue(metric: 0, value: 0.25)], wallTime: 1_800_000_000_000_000_000),
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
    // A full ring that spilled to segment 0: marked in the ring once the consumer made room, and
    // never marked (the producer closed while spilling). The segment follows the ring file.
    for marked in [true, false] {
        let rings = scratchDirectory + "/seed-spill"
        var spillOptions = options
        spillOptions.policy = .spill
        let writer = try RingWriter(directory: rings, options: spillOptions)
        let reader = try RingReader(path: writer.path)
        var count = 0
        while writer.spilledCount < 3 {
            let record = HookRecord.batch(run: 0, phase: .train, isEnd: true, batch: Int64(count),
                                          logs: [MetricValue(metric: 0, value: Double(count))], wallTime: 1_800_000_000_000_000_000)
            _ = writer.append(type: record.type, length: record.encodedLength) { record.encode(into: $0) }
            count += 1
        }
        if marked {
            try reader.poll { _ in }
            try reader.commit()
            append(writer, records[3])
        } else {
            writer.close()
        }
        let segment = writer.path + ".spill.0"  // where RingWriter puts its first segment
        writeFile(directory + "/spill-\(marked ? "marked" : "unmarked").ring", try readFile(writer.path) + readFile(segment))
        if !marked {
            // The same ring with a segment of the other kind of frame, which records of 64 KiB
            // and more go into (a 4 KiB ring has none): independent 4 MiB blocks stored
            // uncompressed, no checksums. Three records, the last one cut short.
            var stored: [UInt8] = [0x04, 0x22, 0x4D, 0x18, 0x60, 0x70, 0x73]  // magic, FLG, BD, header checksum
            for number in 0..<3 {
                let record = HookRecord.batch(run: 0, phase: .train, isEnd: true, batch: Int64(number),
                                              logs: [MetricValue(metric: 0, value: Double(number))], wallTime: 1_800_000_000_000_000_000)
                var framed = withUnsafeBytes(of: UInt32(8 + record.encodedLength).littleEndian) { Array($0) }
                framed += withUnsafeBytes(of: record.type.littleEndian) { Array($0) } + [0, 0] + record.encoded
                if number == 2 { framed.removeLast(5) }
                stored += withUnsafeBytes(of: (UInt32(framed.count) | 0x8000_0000).littleEndian) { Array($0) } + framed
            }
            stored += [0, 0, 0, 0]  // end mark
            writeFile(directory + "/spill-stored.ring", try readFile(writer.path) + stored)
        }
        unlink(segment)
        unlink(writer.path)
        rmdir(rings)
    }

    // A producer that died inside its second claim: that record's length is still negative.
    var torn = try readFile(directory + "/records.ring")
    let first = Int(torn.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 4096, as: Int32.self) })
    let second = 4096 + (first + 7) & ~7
    let length = torn.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: second, as: Int32.self) }
    withUnsafeBytes(of: -length) { torn.replaceSubrange(second..<(second + 4), with: $0) }
    writeFile(directory + "/torn.ring", torn)
}

runFuzzer(writeSeeds: writeSeeds) { input in
    writeFile(ringPath, UnsafeRawBufferPointer(rebasing: input.prefix(ringFileSize)))
    if input.count > ringFileSize {
        writeFile(segmentPath, UnsafeRawBufferPointer(rebasing: input.dropFirst(ringFileSize)))
    } else {
        unlink(segmentPath)
    }
    readRing()
}
