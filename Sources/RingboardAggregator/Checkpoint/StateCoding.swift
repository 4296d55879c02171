import RingboardFormat
import RingboardRing

/// Appends the aggregator's checkpoint fields in a compact little-endian form.
struct StateEncoder {
    /// The layout version of state and model files (2: a `.mean` group's queued hooks saved
    /// as slots and values, where 1 saved each log by name; 3: absolute run directories, an
    /// optional log root, and the wall time of each queued hook; 4: weight values named by the
    /// weight segment they are mapped from, and each ring's highest segment named; 5: a run's
    /// semantics in its arguments, and the Keras 3 callback's counters and recording conditions).
    static let version: UInt32 = 5
    private(set) var bytes: [UInt8] = []

    init() {}

    /// An empty encoder writing into `storage`'s memory, so that a large file encoded again and
    /// again reuses one buffer (take it back with `storage`).
    init(reusing storage: consuming [UInt8]) {
        storage.removeAll(keepingCapacity: true)
        bytes = storage
    }

    /// Makes room for `count` bytes in all, so that a large body is not copied as it grows.
    mutating func reserveCapacity(_ count: Int) { bytes.reserveCapacity(count) }

    /// The encoded body, giving up the encoder.
    consuming func storage() -> [UInt8] { bytes }

    mutating func integer<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    mutating func int(_ value: Int) { integer(Int64(value)) }

    mutating func bool(_ value: Bool) { bytes.append(value ? 1 : 0) }

    mutating func double(_ value: Double) { integer(value.bitPattern) }

    mutating func string(_ value: String) { data(Array(value.utf8)) }

    mutating func optionalString(_ value: String?) {
        bool(value != nil)
        if let value { string(value) }
    }

    mutating func data(_ value: [UInt8]) {
        int(value.count)
        bytes.append(contentsOf: value)
    }

    mutating func floats(_ values: [Float]) {
        int(values.count)
        values.withUnsafeBytes { bytes.append(contentsOf: $0) }  // little-endian on every supported target
    }

    /// A count, then the values' bytes at once (little-endian on every supported target).
    mutating func values<T: BitwiseCopyable>(_ values: ArraySlice<T>) {
        int(values.count)
        values.withUnsafeBytes { bytes.append(contentsOf: $0) }
    }

    /// A count followed by each element.
    mutating func array<C: Collection>(_ values: C, _ element: (inout StateEncoder, C.Element) -> Void) {
        int(values.count)
        for value in values { element(&self, value) }
    }

    /// The whole file: magic, version, the body's length and CRC32C, then the body.
    func file(magic: [UInt8]) -> [UInt8] {
        fileHeader(magic: magic) + bytes
    }

    /// What `file(magic:)` puts before the body.
    func fileHeader(magic: [UInt8]) -> [UInt8] {
        var header = StateEncoder()
        header.bytes = magic
        header.integer(StateEncoder.version)
        header.integer(UInt64(bytes.count))
        header.integer(CRC32C.checksum(bytes))
        return header.bytes
    }
}

/// Reads what `StateEncoder` wrote, refusing anything malformed instead of trapping.
struct StateDecoder {
    private let bytes: [UInt8]
    private var offset: Int

    /// Checks the file's magic, version, length and CRC32C, and positions at the body.
    init(file: [UInt8], magic: [UInt8]) throws(AggregatorError) {
        let headerSize = magic.count + 4 + 8 + 4
        guard file.count >= headerSize, Array(file[0..<magic.count]) == magic else {
            throw .malformed("not an aggregator state file")
        }
        bytes = file
        offset = magic.count
        let version: UInt32 = try integer()
        guard version == StateEncoder.version else {
            throw .malformed("state version \(version), this build reads \(StateEncoder.version): finish its runs with the ringboard that wrote it")
        }
        let length: UInt64 = try integer()
        let sum: UInt32 = try integer()
        guard length == UInt64(file.count - headerSize) else { throw .malformed("length \(length) does not match the file") }
        guard CRC32C.checksum(Array(file[headerSize...])) == sum else { throw .malformed("checksum mismatch") }
    }

    var isAtEnd: Bool { offset == bytes.count }

    mutating func integer<T: FixedWidthInteger>(_: T.Type = T.self) throws(AggregatorError) -> T {
        let size = MemoryLayout<T>.size
        guard bytes.count - offset >= size else { throw .malformed("ends early") }
        let value = bytes.withUnsafeBytes { T(littleEndian: $0.loadUnaligned(fromByteOffset: offset, as: T.self)) }
        offset += size
        return value
    }

    mutating func int() throws(AggregatorError) -> Int {
        let value: Int64 = try integer()
        return Int(value)
    }

    /// A count, checked against what is left so that a damaged count cannot ask for a huge array.
    mutating func count(elementSize: Int = 1) throws(AggregatorError) -> Int {
        let value = try int()
        guard value >= 0, value <= (bytes.count - offset) / max(elementSize, 1) else { throw .malformed("count \(value) out of range") }
        return value
    }

    mutating func bool() throws(AggregatorError) -> Bool {
        let value: UInt8 = try integer()
        return value != 0
    }

    mutating func double() throws(AggregatorError) -> Double {
        Double(bitPattern: try integer())
    }

    mutating func data() throws(AggregatorError) -> [UInt8] {
        let count = try count()
        defer { offset += count }
        return Array(bytes[offset..<(offset + count)])
    }

    mutating func string() throws(AggregatorError) -> String {
        String(decoding: try data(), as: UTF8.self)
    }

    mutating func optionalString() throws(AggregatorError) -> String? {
        try bool() ? try string() : nil
    }

    mutating func floats() throws(AggregatorError) -> [Float] {
        let count = try count(elementSize: 4)
        let values = [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            bytes.withUnsafeBytes { raw in
                UnsafeMutableRawBufferPointer(buffer).copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[offset..<(offset + count * 4)]))
            }
            initialized = count
        }
        offset += count * 4
        return values
    }

    /// What `StateEncoder.values` wrote.
    mutating func values<T: BitwiseCopyable>(_: T.Type = T.self) throws(AggregatorError) -> [T] {
        let size = MemoryLayout<T>.stride
        let count = try count(elementSize: size)
        let values = [T](unsafeUninitializedCapacity: count) { buffer, initialized in
            bytes.withUnsafeBytes { raw in
                UnsafeMutableRawBufferPointer(buffer).copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[offset..<(offset + count * size)]))
            }
            initialized = count
        }
        offset += count * size
        return values
    }

    mutating func array<T>(_ element: (inout StateDecoder) throws(AggregatorError) -> T) throws(AggregatorError) -> [T] {
        let count = try count()
        var values: [T] = []
        values.reserveCapacity(count)
        for _ in 0..<count { values.append(try element(&self)) }
        return values
    }
}

/// Why an aggregator cannot start, or cannot save its checkpoint.
public enum AggregatorError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The ring directory cannot be served (another aggregator holds it, or it is unusable).
    case ring(RingError)
    /// The state file is damaged or of another version.
    case malformed(String)
    /// The state file names a log root other than the one the aggregator was started with.
    case otherLogRoot(stateFile: String, checkpointed: String, given: String)
    /// Reading or writing a state file failed.
    case io(path: String, reason: String)
    /// A checkpoint file (the state, or a model file it names) that cannot be resumed from:
    /// damaged, or of another version; `stateFile` is the state, whose removal starts its runs
    /// afresh.
    case checkpoint(path: String, reason: String, stateFile: String)

    public var description: String {
        switch self {
        case .ring(let error): error.description
        case .malformed(let reason): "aggregator state: \(reason)"
        case .otherLogRoot(let file, let checkpointed, let given):
            "\(file) holds runs in progress under the log root \(checkpointed), not \(given): restart with --logdir \(checkpointed), "
                + "or remove \(file) to start those runs afresh"
        case .io(let path, let reason): "\(path): \(reason)"
        case .checkpoint(let path, let reason, let stateFile):
            "\(path): cannot resume from this aggregator checkpoint: \(reason); remove \(path == stateFile ? "it" : stateFile) to start its runs afresh"
        }
    }
}

import RingboardRecords

extension StateEncoder {
    /// A hook record, as its ring payload.
    mutating func record(_ record: HookRecord) {
        integer(record.type)
        data(record.encoded)
    }

    /// TensorBoard arguments, as the payload of a run announcement.
    mutating func arguments(_ arguments: TensorBoardArguments) {
        record(.runAnnouncement(run: 0, rank: 0, worldSize: 1, policy: .chief, arguments: arguments))
    }
}

extension StateDecoder {
    mutating func record() throws(AggregatorError) -> HookRecord {
        let type: UInt16 = try integer()
        let bytes = try data()
        do {
            return try HookRecord(type: type, bytes: bytes)
        } catch {
            throw .malformed("a checkpointed record: \(error)")
        }
    }

    mutating func arguments() throws(AggregatorError) -> TensorBoardArguments {
        guard case .runAnnouncement(_, _, _, _, let arguments) = try record() else {
            throw .malformed("run arguments are not a run announcement")
        }
        return arguments
    }
}
