// The summary record (`RecordType.summary`), little-endian:
//
//     0  run        u32
//     4  kind       u8    (`SummaryValue.kind`)
//     5  reserved   u8 + u16, zero
//     8  tag        u32   (a name number)
//    12  directory  u32   (a name number; `noDirectory` for the run's own directory)
//    16  step       i64
//    24  wall time  f64   (seconds since the Unix epoch)
//    32  the value:
//          scalar         f64
//          text           u32 length, UTF-8
//          histogram      u64 count, then count f32 (kind 2) or f64 (kind 3)
//          histogram in a weight segment (kind 6): i64 segment, u64 byte offset, u64 count
//          raw histogram  f64 min, max, num, sum, sum of squares; u32 count; count f64 limits,
//                         count f64 counts
//          image          u32 height, width, channels, zero; u32 length = height × width ×
//                         channels; the pixels
//          hparams        u32 count, then each a string name and a value; u32 count, then each
//                         a string name, a u32 count and that many values; u32 count, then each a
//                         metric tag. A value: u8 kind (0 number: f64; 1 string; 2 bool: u8).
//          custom scalars u32 count, then each category: a string title, u32 count, then each chart:
//                         a string title, u8 kind (0 multiline: u32 count, that many strings;
//                         1 margin: three strings)
//          PR curve       u32 num_thresholds, u32 columns; 6 × columns f32, row-major
//          audio          f64 sample rate, u64 count, then count f32 (kind 10) or f64 (kind 11)
//          mesh           a string JSON config; u32 count, then each tensor: u8 content
//                         (1 vertex, 2 face, 3 color), u32 batch, u32 count, batch × count × 3 f32
//          graph          u32 length, the GraphDef; u32 length, the RunMetadata (0: none)
//          embedding      u32 rows, u32 columns, rows × columns f32; u8 1 and a string (the
//                         metadata TSV) or u8 0; u8 1 and u32 image height, image width, side,
//                         then u32 length = side × side × 3 and the sprite's RGB bytes, or u8 0
//          in a segment   i64 weight segment, u64 byte offset, u64 length: a whole summary
//                         payload (not itself in a segment) too large for a ring record
//          tensor scalar  f64, u8 1 for double precision or 0
//          session start  nothing

extension HookRecord {
    /// The directory number of a summary in the run's own directory.
    public static let noDirectory = UInt32.max

    /// The bytes before a summary record's value.
    public static let summaryHeaderLength = 32

    /// The payload length of a scalar summary record: 40 bytes.
    public static let scalarSummaryLength = summaryHeaderLength + 8

    /// Writes a scalar summary record without building a `HookRecord`: `add_scalar`'s hot path,
    /// which allocates nothing.
    ///
    /// - Parameters:
    ///   - payload: Exactly `scalarSummaryLength` bytes.
    ///   - run: The run's number.
    ///   - tag: The tag's name number.
    ///   - directory: The subdirectory's name number, or `noDirectory`.
    ///   - step: The step.
    ///   - wallTime: Seconds since the Unix epoch.
    ///   - value: The scalar.
    /// - Warning: Do not escape the pointer.
    @inlinable
    public static func encodeScalarSummary(
        into payload: UnsafeMutableRawBufferPointer, run: UInt32, tag: UInt32, directory: UInt32, step: Int64, wallTime: Double,
        value: Double
    ) {
        precondition(payload.count == scalarSummaryLength)
        encodeSummaryHeader(into: payload, run: run, kind: 0, tag: tag, directory: directory, step: step, wallTime: wallTime)
        payload.storeBytes(of: value.bitPattern.littleEndian, toByteOffset: 32, as: UInt64.self)
    }

    /// Writes the first `summaryHeaderLength` bytes of a summary record.
    @inlinable
    public static func encodeSummaryHeader(
        into payload: UnsafeMutableRawBufferPointer, run: UInt32, kind: UInt8, tag: UInt32, directory: UInt32, step: Int64,
        wallTime: Double
    ) {
        payload.storeBytes(of: run.littleEndian, toByteOffset: 0, as: UInt32.self)
        payload.storeBytes(of: UInt32(kind).littleEndian, toByteOffset: 4, as: UInt32.self)
        payload.storeBytes(of: tag.littleEndian, toByteOffset: 8, as: UInt32.self)
        payload.storeBytes(of: directory.littleEndian, toByteOffset: 12, as: UInt32.self)
        payload.storeBytes(of: step.littleEndian, toByteOffset: 16, as: Int64.self)
        payload.storeBytes(of: wallTime.bitPattern.littleEndian, toByteOffset: 24, as: UInt64.self)
    }

    /// The payload length of a histogram summary record of `count` values of `width` bytes each.
    public static func histogramSummaryLength(count: Int, width: Int) -> Int {
        summaryHeaderLength + 8 + width * count
    }

    /// Writes a histogram summary record straight from the caller's values (Float32 or Float64),
    /// the one copy of them: the same bytes as the `HookRecord.summary` of `.histogram`.
    ///
    /// - Parameter payload: Exactly `histogramSummaryLength(count:width:)` bytes.
    /// - Warning: Do not escape the pointer.
    public static func encodeHistogramSummary<Value: BinaryFloatingPoint & BitwiseCopyable>(
        into payload: UnsafeMutableRawBufferPointer, run: UInt32, tag: UInt32, directory: UInt32, step: Int64, wallTime: Double,
        values: Span<Value>
    ) {
        let width = MemoryLayout<Value>.size
        precondition(width == 4 || width == 8)
        precondition(payload.count == histogramSummaryLength(count: values.count, width: width))
        encodeSummaryHeader(into: payload, run: run, kind: width == 4 ? 2 : 3, tag: tag, directory: directory, step: step,
                            wallTime: wallTime)
        payload.storeBytes(of: UInt64(values.count).littleEndian, toByteOffset: summaryHeaderLength, as: UInt64.self)
        let start = summaryHeaderLength + 8
        #if _endian(little)
        values.withUnsafeBytes { UnsafeMutableRawBufferPointer(rebasing: payload[start..<(start + $0.count)]).copyMemory(from: $0) }
        #else
        for index in 0..<values.count {
            if width == 4 {
                payload.storeBytes(of: Float(values[index]).bitPattern.littleEndian, toByteOffset: start + 4 * index, as: UInt32.self)
            } else {
                payload.storeBytes(of: Double(values[index]).bitPattern.littleEndian, toByteOffset: start + 8 * index, as: UInt64.self)
            }
        }
        #endif
    }

    /// The payload length of an image summary record of `byteCount` pixel bytes.
    public static func imageSummaryLength(byteCount: Int) -> Int {
        summaryHeaderLength + 20 + byteCount
    }

    /// Writes an image summary record straight from the caller's pixels (HWC bytes).
    ///
    /// - Parameter payload: Exactly `imageSummaryLength(byteCount: pixels.count)` bytes.
    /// - Warning: Do not escape the pointer.
    public static func encodeImageSummary(
        into payload: UnsafeMutableRawBufferPointer, run: UInt32, tag: UInt32, directory: UInt32, step: Int64, wallTime: Double,
        height: Int, width: Int, channels: Int, pixels: Span<UInt8>
    ) {
        precondition(payload.count == imageSummaryLength(byteCount: pixels.count) && height * width * channels == pixels.count)
        encodeSummaryHeader(into: payload, run: run, kind: 5, tag: tag, directory: directory, step: step, wallTime: wallTime)
        var out = RecordBuilder(UnsafeMutableRawBufferPointer(rebasing: payload[summaryHeaderLength...]))
        out.u32(UInt32(height))
        out.u32(UInt32(width))
        out.u32(UInt32(channels))
        out.u32(0)
        out.u32(UInt32(pixels.count))
        pixels.withUnsafeBytes { out.raw($0) }
    }

    func writeSummary(
        _ out: inout RecordBuilder, run: UInt32, tag: UInt32, directory: UInt32?, step: Int64, wallTime: Double, value: SummaryValue
    ) {
        out.u32(run)
        out.u32(UInt32(value.kind))
        out.u32(tag)
        out.u32(directory ?? HookRecord.noDirectory)
        out.i64(step)
        out.u64(wallTime.bitPattern)
        switch value {
        case .scalar(let scalar):
            out.u64(scalar.bitPattern)
        case .text(let text):
            out.string(text)
        case .histogram(.float(let values)):
            out.u64(UInt64(values.count))
            out.floats(values)
        case .histogram(.double(let values)):
            out.u64(UInt64(values.count))
            for value in values { out.u64(value.bitPattern) }
        case .histogram(.segment(let sequence, let offset, let count)):
            out.i64(sequence)
            out.u64(offset)
            out.u64(count)
        case .rawHistogram(let histogram):
            for field in [histogram.min, histogram.max, histogram.num, histogram.sum, histogram.sumSquares] { out.u64(field.bitPattern) }
            out.u32(UInt32(histogram.bucketLimits.count))
            for limit in histogram.bucketLimits { out.u64(limit.bitPattern) }
            for count in histogram.bucketCounts { out.u64(count.bitPattern) }
        case .image(let height, let width, let channels, let pixels):
            out.u32(UInt32(height))
            out.u32(UInt32(width))
            out.u32(UInt32(channels))
            out.u32(0)
            out.bytes(pixels)
        case .hparams(let set):
            func write(_ value: HParamsSet.Value) {
                switch value {
                case .number(let number):
                    out.u8(0)
                    out.u64(number.bitPattern)
                case .string(let string):
                    out.u8(1)
                    out.string(string)
                case .bool(let flag):
                    out.u8(2)
                    out.u8(flag ? 1 : 0)
                }
            }
            out.u32(UInt32(set.values.count))
            for entry in set.values {
                out.string(entry.name)
                write(entry.value)
            }
            out.u32(UInt32(set.discrete.count))
            for (name, values) in set.discrete.sorted(by: { $0.key < $1.key }) {
                out.string(name)
                out.u32(UInt32(values.count))
                for value in values { write(value) }
            }
            out.u32(UInt32(set.metrics.count))
            for metric in set.metrics { out.string(metric) }
        case .prCurve(let numThresholds, let columns, let values):
            out.u32(UInt32(numThresholds))
            out.u32(UInt32(columns))
            out.floats(values)
        case .audio(let sampleRate, let samples):
            out.u64(sampleRate.bitPattern)
            out.u64(UInt64(samples.count))
            switch samples {
            case .float(let samples): out.floats(samples)
            case .double(let samples): for sample in samples { out.u64(sample.bitPattern) }
            }
        case .mesh(let mesh):
            out.string(mesh.jsonConfig)
            out.u32(UInt32(mesh.components.count))
            for component in mesh.components {
                out.u8(component.content.rawValue)
                out.u32(UInt32(component.batch))
                out.u32(UInt32(component.count))
                out.floats(component.values)
            }
        case .graph(let graphDef, let runMetadata):
            out.bytes(graphDef)
            out.bytes(runMetadata)
        case .embedding(let embedding):
            out.u32(UInt32(embedding.rows))
            out.u32(UInt32(embedding.columns))
            out.floats(embedding.values)
            if let metadata = embedding.metadata {
                out.u8(1)
                out.string(metadata)
            } else {
                out.u8(0)
            }
            if let sprite = embedding.sprite {
                out.u8(1)
                out.u32(UInt32(sprite.imageHeight))
                out.u32(UInt32(sprite.imageWidth))
                out.u32(UInt32(sprite.side))
                out.bytes(sprite.pixels)
            } else {
                out.u8(0)
            }
        case .tensorScalar(let scalar, let doublePrecision):
            out.u64(scalar.bitPattern)
            out.u8(doublePrecision ? 1 : 0)
        case .sessionStart:
            break
        case .inSegment(let sequence, let offset, let length):
            out.i64(sequence)
            out.u64(offset)
            out.u64(length)
        case .customScalars(let layout):
            out.u32(UInt32(layout.categories.count))
            for category in layout.categories {
                out.string(category.title)
                out.u32(UInt32(category.charts.count))
                for chart in category.charts {
                    out.string(chart.title)
                    switch chart.content {
                    case .multiline(let tags):
                        out.u8(0)
                        out.u32(UInt32(tags.count))
                        for tag in tags { out.string(tag) }
                    case .margin(let value, let lower, let upper):
                        out.u8(1)
                        for tag in [value, lower, upper] { out.string(tag) }
                    }
                }
            }
        }
    }

    /// A scalar summary record's fields, read without building a `HookRecord` (the aggregator's
    /// path for the most frequent summary); `nil` for any other payload, or one the full decoder
    /// would refuse, which then takes the full decoder.
    public static func scalarSummary(
        _ payload: UnsafeRawBufferPointer
    ) -> (run: UInt32, tag: UInt32, directory: UInt32?, step: Int64, wallTime: Double, value: Double)? {
        guard payload.count == scalarSummaryLength, UInt32(littleEndian: payload.loadUnaligned(fromByteOffset: 4, as: UInt32.self)) == 0
        else { return nil }
        let wallTime = Double(bitPattern: UInt64(littleEndian: payload.loadUnaligned(fromByteOffset: 24, as: UInt64.self)))
        guard wallTime.isFinite, wallTime >= 0 else { return nil }
        let directory = UInt32(littleEndian: payload.loadUnaligned(fromByteOffset: 12, as: UInt32.self))
        return (UInt32(littleEndian: payload.loadUnaligned(fromByteOffset: 0, as: UInt32.self)),
                UInt32(littleEndian: payload.loadUnaligned(fromByteOffset: 8, as: UInt32.self)),
                directory == noDirectory ? nil : directory,
                Int64(littleEndian: payload.loadUnaligned(fromByteOffset: 16, as: Int64.self)),
                wallTime,
                Double(bitPattern: UInt64(littleEndian: payload.loadUnaligned(fromByteOffset: 32, as: UInt64.self))))
    }

    /// A place in a weight segment: its sequence number (not negative), a byte offset (a multiple
    /// of 4) and a count (more than 0), the field `counting` names.
    private static func segmentReference(
        _ input: inout RecordCursor, type: UInt16, counting: String
    ) throws(RecordError) -> (sequence: Int64, offset: UInt64, count: UInt64) {
        let sequence = try input.i64()
        guard sequence >= 0 else { throw .invalidValue(type: type, field: "weight segment", value: sequence) }
        let offset = try input.u64()
        guard offset % 4 == 0 else {
            throw .invalidValue(type: type, field: "weight segment offset", value: Int64(truncatingIfNeeded: offset))
        }
        let count = try input.u64()
        guard count > 0 else { throw .invalidValue(type: type, field: counting, value: 0) }
        return (sequence, offset, count)
    }

    /// The longest text a summary carries (`add_text`): 16 MiB.
    public static let maximumTextLength = 16 << 20

    /// Decodes a summary record's payload (`RecordType.summary`), validating every field: a
    /// finite wall time, a known kind, counts the payload holds, an image whose pixels its
    /// dimensions account for, a raw histogram TensorBoard can show.
    static func decodeSummary(_ input: inout RecordCursor, type: UInt16) throws(RecordError) -> HookRecord {
        let run = try input.u32()
        let kind = try input.u8()
        guard try input.u8() == 0, try input.u16() == 0 else { throw .invalidValue(type: type, field: "reserved", value: 1) }
        let tag = try input.u32()
        let directoryNumber = try input.u32()
        let step = try input.i64()
        let wallTime = Double(bitPattern: try input.u64())
        guard wallTime.isFinite, wallTime >= 0 else {
            throw .invalidValue(type: type, field: "wall time", value: Int64(exactly: wallTime.rounded(.towardZero)) ?? -1)
        }
        let value: SummaryValue
        switch kind {
        case 0:
            value = .scalar(Double(bitPattern: try input.u64()))
        case 1:
            value = .text(try input.string("text", maximumLength: HookRecord.maximumTextLength))
        case 2:
            let count = try input.count(minimumBytesEach: 4, width: 8)
            value = .histogram(.float(try input.floats(count: count)))
        case 3:
            let count = try input.count(minimumBytesEach: 8, width: 8)
            var values: [Double] = []
            values.reserveCapacity(count)
            for _ in 0..<count { values.append(Double(bitPattern: try input.u64())) }
            value = .histogram(.double(values))
        case 6:
            let (sequence, offset, count) = try segmentReference(&input, type: type, counting: "histogram values")
            value = .histogram(.segment(sequence: sequence, offset: offset, count: count))
        case 4:
            var fields: [Double] = []
            for _ in 0..<5 { fields.append(Double(bitPattern: try input.u64())) }
            let count = try input.count(minimumBytesEach: 16)
            var limits: [Double] = [], counts: [Double] = []
            for _ in 0..<count { limits.append(Double(bitPattern: try input.u64())) }
            for _ in 0..<count { counts.append(Double(bitPattern: try input.u64())) }
            let histogram = RawHistogram(min: fields[0], max: fields[1], num: fields[2], sum: fields[3], sumSquares: fields[4],
                                         bucketLimits: limits, bucketCounts: counts)
            if let problem = histogram.problem { throw .invalidString(type: type, field: "raw histogram", reason: problem) }
            value = .rawHistogram(histogram)
        case 5:
            let height = Int(try input.u32()), width = Int(try input.u32()), channels = Int(try input.u32())
            guard try input.u32() == 0 else { throw .invalidValue(type: type, field: "reserved", value: 1) }
            guard channels == 1 || channels == 3 || channels == 4 else {
                throw .invalidValue(type: type, field: "image channels", value: Int64(channels))
            }
            let pixels = try input.bytes()
            // Division only: a forged dimension cannot overflow.
            guard height > 0, width > 0, pixels.count % (channels * height) == 0, pixels.count / channels / height == width else {
                throw .invalidValue(type: type, field: "image of \(height)×\(width)×\(channels) with pixel bytes", value: Int64(pixels.count))
            }
            value = .image(height: height, width: width, channels: channels, pixels: pixels)
        case 7:
            func readValue() throws(RecordError) -> HParamsSet.Value {
                let kind = try input.u8()
                switch kind {
                case 0: return .number(Double(bitPattern: try input.u64()))
                case 1: return .string(try input.string("hparam value"))
                case 2: return .bool(try input.bool("hparam value"))
                default: throw .invalidValue(type: type, field: "hparam value kind", value: Int64(kind))
                }
            }
            var entries: [HParamsSet.Entry] = []
            for _ in 0..<(try input.count(minimumBytesEach: 6)) {
                let name = try input.name("hparam name")
                entries.append(HParamsSet.Entry(name: name, value: try readValue()))
            }
            var discrete: [String: [HParamsSet.Value]] = [:]
            for _ in 0..<(try input.count(minimumBytesEach: 9)) {
                let name = try input.name("hparam name")
                var values: [HParamsSet.Value] = []
                for _ in 0..<(try input.count(minimumBytesEach: 2)) { values.append(try readValue()) }
                discrete[name] = values
            }
            var metrics: [String] = []
            for _ in 0..<(try input.count(minimumBytesEach: 5)) { metrics.append(try input.name("metric tag")) }
            value = .hparams(HParamsSet(values: entries, discrete: discrete, metrics: metrics))
        case 9:
            let numThresholds = Int(try input.u32())
            let columns = try input.count(minimumBytesEach: 24)
            guard columns > 0, numThresholds > 0 else { throw .invalidValue(type: type, field: "PR curve columns", value: Int64(columns)) }
            value = .prCurve(numThresholds: numThresholds, columns: columns, values: try input.floats(count: 6 * columns))
        case 8:
            var categories: [CustomScalarsLayout.Category] = []
            for _ in 0..<(try input.count(minimumBytesEach: 8)) {
                let title = try input.string("category title")
                var charts: [CustomScalarsLayout.Chart] = []
                for _ in 0..<(try input.count(minimumBytesEach: 5)) {
                    let chartTitle = try input.string("chart title")
                    let chartKind = try input.u8()
                    switch chartKind {
                    case 0:
                        var tags: [String] = []
                        for _ in 0..<(try input.count(minimumBytesEach: 4)) { tags.append(try input.string("chart tag")) }
                        charts.append(CustomScalarsLayout.Chart(title: chartTitle, content: .multiline(tags)))
                    case 1:
                        let value = try input.string("margin value"), lower = try input.string("margin lower"), upper = try input.string("margin upper")
                        charts.append(CustomScalarsLayout.Chart(title: chartTitle, content: .margin(value: value, lower: lower, upper: upper)))
                    default:
                        throw .invalidValue(type: type, field: "chart kind", value: Int64(chartKind))
                    }
                }
                categories.append(CustomScalarsLayout.Category(title: title, charts: charts))
            }
            value = .customScalars(CustomScalarsLayout(categories: categories))
        case 10, 11:
            let sampleRate = Double(bitPattern: try input.u64())
            guard sampleRate.isFinite, sampleRate >= 1, sampleRate <= Double(UInt32.max) else {
                throw .invalidValue(type: type, field: "audio sample rate", value: Int64(exactly: sampleRate.rounded(.towardZero)) ?? -1)
            }
            if kind == 10 {
                let count = try input.count(minimumBytesEach: 4, width: 8)
                value = .audio(sampleRate: sampleRate, samples: .float(try input.floats(count: count)))
            } else {
                let count = try input.count(minimumBytesEach: 8, width: 8)
                var samples: [Double] = []
                samples.reserveCapacity(count)
                for _ in 0..<count { samples.append(Double(bitPattern: try input.u64())) }
                value = .audio(sampleRate: sampleRate, samples: .double(samples))
            }
            guard case .audio(_, let samples) = value, samples.count > 0 else { throw .invalidValue(type: type, field: "audio samples", value: 0) }
        case 12:
            let config = try input.string("mesh config", maximumLength: HookRecord.maximumTextLength)
            var components: [MeshData.Component] = []
            for _ in 0..<(try input.count(minimumBytesEach: 9)) {
                let raw = try input.u8()
                guard let content = MeshData.Content(rawValue: raw) else { throw .invalidValue(type: type, field: "mesh content", value: Int64(raw)) }
                let batch = Int(try input.u32()), count = Int(try input.u32())
                let (size, overflow) = batch.multipliedReportingOverflow(by: count * 3)
                guard !overflow else { throw .invalidValue(type: type, field: "mesh tensor size", value: -1) }
                components.append(MeshData.Component(content: content, batch: batch, count: count, values: try input.floats(count: size)))
            }
            let mesh = MeshData(components: components, jsonConfig: config)
            if let problem = mesh.problem { throw .invalidString(type: type, field: "mesh", reason: problem) }
            value = .mesh(mesh)
        case 13:
            let graphDef = try input.bytes(), runMetadata = try input.bytes()
            guard !graphDef.isEmpty else { throw .invalidValue(type: type, field: "graph length", value: 0) }
            value = .graph(graphDef: graphDef, runMetadata: runMetadata)
        case 14:
            let rows = Int(try input.u32()), columns = Int(try input.u32())
            let (size, overflow) = rows.multipliedReportingOverflow(by: columns)
            guard !overflow else { throw .invalidValue(type: type, field: "embedding size", value: -1) }
            var embedding = EmbeddingData(rows: rows, columns: columns, values: try input.floats(count: size))
            if try input.bool("embedding metadata") {
                embedding.metadata = try input.string("embedding metadata", maximumLength: HookRecord.maximumTextLength)
            }
            if try input.bool("embedding sprite") {
                let height = Int(try input.u32()), width = Int(try input.u32()), side = Int(try input.u32())
                embedding.sprite = EmbeddingData.Sprite(imageHeight: height, imageWidth: width, side: side, pixels: try input.bytes())
            }
            if let problem = embedding.problem { throw .invalidString(type: type, field: "embedding", reason: problem) }
            value = .embedding(embedding)
        case 16:
            value = .tensorScalar(Double(bitPattern: try input.u64()), doublePrecision: try input.bool("double precision"))
        case 17:
            value = .sessionStart
        case 15:
            let (sequence, offset, length) = try segmentReference(&input, type: type, counting: "summary length")
            value = .inSegment(sequence: sequence, offset: offset, length: length)
        default:
            throw .invalidValue(type: type, field: "summary kind", value: Int64(kind))
        }
        try input.finish()
        return .summary(run: run, tag: tag, directory: directoryNumber == HookRecord.noDirectory ? nil : directoryNumber, step: step,
                        wallTime: wallTime, value: value)
    }
}
