// Event files with arbitrary contents, read as `ringboard inspect` reads them: record by record,
// both CRCs checked, each record decoded as an `Event` and its tags counted. The first input byte
// picks the form: even, the rest is the file as it is (framing, lengths and CRCs are fuzzed);
// odd, the rest is cut into records (a length byte, then that many bytes) that are framed with
// correct CRCs, so the protobuf decoder behind the checksums is reached too. Every event the
// decoder accepts must encode again into bytes it accepts. Refusals are fine; a crash, a trap or
// a hang is a bug.
import FuzzSupport
import RingboardFormat

let eventPath = scratchDirectory + "/events.out.tfevents.0.fuzz.0.0.v2"

/// TFRecord framing: length, masked CRC of the length, data, masked CRC of the data.
func frame(_ data: [UInt8]) -> [UInt8] {
    let length = withUnsafeBytes(of: UInt64(data.count).littleEndian) { Array($0) }
    func crc(_ bytes: [UInt8]) -> [UInt8] {
        withUnsafeBytes(of: CRC32C.mask(CRC32C.checksum(bytes)).littleEndian) { Array($0) }
    }
    return length + crc(length) + data + crc(data)
}

func checkEvent(_ data: [UInt8]) {
    guard let event = try? Event(serializedBytes: data) else { return }
    do {
        _ = try Event(serializedBytes: event.serializedBytes())
    } catch {
        preconditionFailure("a decoded event re-encodes to bytes the decoder refuses: \(error)")
    }
}

/// Seeds: events as the aggregator writes them, framed as in a file.
func writeSeeds(_ directory: String) throws {
    let image = SummaryImage(height: 1, width: 2, colorspace: 1, encodedImage: [0x89, 0x50, 0x4e, 0x47])
    let histogram = HistogramProto(min: -1, max: 2, num: 3, sum: 1, sumSquares: 6, bucketLimit: [0, 1e-12, 2.2, .greatestFiniteMagnitude],
                                   bucket: [1, 0, 2, 0])
    let events: [Event] = [
        Event(wallTime: 1_795_828_192.5, what: .fileVersion("brain.Event:2")),
        Event(wallTime: 1_795_828_192.6, step: 3, what: .summary(Summary(values: [Summary.Value(tag: "batch_loss", kind: .simpleValue(0.69))]))),
        Event(wallTime: 1_795_828_192.7, step: 1, what: .summary(Summary(values: [Summary.Value(tag: "dense/kernel_0", kind: .histogram(histogram))]))),
        Event(wallTime: 1_795_828_192.8, step: 1, what: .summary(Summary(values: [
            Summary.Value(tag: "dense/kernel_0/image/0", kind: .image(image)),
        ]))),
        Event(wallTime: 1_795_828_192.9, step: 0, what: .summary(Summary(values: [
            Summary.Value(tag: "keras", metadata: SummaryMetadata(pluginName: "graph_keras_model", pluginContent: [0x31]),
                          kind: .tensor(.strings([Array(#"{"class_name": "Sequential"}"#.utf8)]))),
            Summary.Value(tag: "epoch_loss", metadata: SummaryMetadata(pluginName: "scalars", dataClass: 1),
                          kind: .tensor(TensorProto(dtype: .float, shape: [], floatValues: [0.5]))),
            Summary.Value(tag: "t", kind: .tensor(TensorProto(dtype: .int64, shape: [2, 1], int64Values: [1, -2], boolValues: [true]))),
        ]))),
        Event(wallTime: 1_795_828_193, step: 2, what: .graphDef([0x0a, 0x03, 0x61, 0x62, 0x63])),
        Event(wallTime: 1_795_828_193.1, step: 2, what: .taggedRunMetadata(TaggedRunMetadata(tag: "batch_2", runMetadata: [0x0a, 0x00]))),
    ]
    var file: [UInt8] = []
    var records: [UInt8] = []
    for (index, event) in events.enumerated() {
        let data = event.serializedBytes()
        file += frame(data)
        writeFile(directory + "/event-\(index)", [0] + frame(data))
        if data.count < 256 {
            records += [UInt8(data.count)] + data
            writeFile(directory + "/framed-\(index)", [1, UInt8(data.count)] + data)
        }
    }
    writeFile(directory + "/file", [0] + file)
    writeFile(directory + "/framed-all", [1] + records)
    writeFile(directory + "/truncated", [0] + file.dropLast(3))
}

runFuzzer(writeSeeds: writeSeeds) { input in
    guard let mode = input.first else { return }
    let rest = input.dropFirst()
    if mode & 1 == 0 {
        writeFile(eventPath, UnsafeRawBufferPointer(rebasing: rest))
    } else {
        var file: [UInt8] = []
        var at = rest.startIndex
        while at < rest.endIndex {
            let length = Int(rest[at])
            let start = rest.index(after: at)
            let end = min(start + length, rest.endIndex)
            let data = Array(rest[start..<end])
            checkEvent(data)
            file += frame(data)
            at = end
        }
        writeFile(eventPath, file)
    }
    let report = try? LogDirectoryReport.scan(eventPath)
    if let report {
        precondition(report.runs.count == 1 && report.runs[0].files.count == 1, "one file, one run")
    }
    guard let reader = try? EventFileReader(path: eventPath) else { return }
    for _ in 0..<10_000 {
        guard case .record(_, let data) = try? reader.next() else { break }
        checkEvent(data)
    }
}
