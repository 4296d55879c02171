import RingboardRing
import RingboardTestSupport
import Testing
@testable import RingboardRecords

@Suite struct HookRecordTests {
    static let samples: [HookRecord] = [
        .runAnnouncement(run: 0, rank: 0, worldSize: 1, policy: .chief, arguments: TensorBoardArguments(logDirectory: "/logs")),
        .runAnnouncement(run: 7, rank: 2, worldSize: 4, policy: .mean, arguments: TensorBoardArguments(
            logDirectory: "/data/experiments/ré sumé/run 1", histogramFrequency: 2, writeGraph: false, writeImages: true,
            updateFrequency: .samples(96), profileBatch: 0, embeddingsFrequency: 3, embeddingsMetadata: .all("meta.tsv"))),
        .runAnnouncement(run: 1, rank: 1, worldSize: 2, policy: .perRank, arguments: TensorBoardArguments(
            logDirectory: "/", updateFrequency: .batch,
            embeddingsMetadata: .perLayer(["embedding": "words.tsv", "embedding_1": "chars.tsv"]))),
        .runAnnouncement(run: 2, rank: 0, worldSize: 1, policy: .chief, arguments: TensorBoardArguments(
            logDirectory: "/logs/keras3", updateFrequency: .samples(3), profileBatch: 0, semantics: .keras3)),
        .metricName(run: 0, metric: 3, name: "val_accuracy"),
        .metricName(run: 0, metric: 4, name: "ßize ✓"),
        .batch(run: 0, phase: .train, isEnd: true, batch: 41, logs: [
            MetricValue(metric: 0, value: 41), MetricValue(metric: 1, value: 32), MetricValue(metric: 2, value: 0.6931),
        ], wallTime: 1_800_000_000_000_000_000),
        .batch(run: 1, phase: .test, isEnd: false, batch: 0, logs: [], wallTime: 1_800_000_000_000_000_000),
        .batch(run: 1, phase: .predict, isEnd: true, batch: -1, logs: [MetricValue(metric: .max, value: -.infinity)], wallTime: 1_800_000_000_000_000_000),
        .hook(run: 0, kind: .epochEnd, index: 3, logs: [MetricValue(metric: 2, value: .nan), MetricValue(metric: 3, value: -0.0)], wallTime: 1_800_000_000_000_000_000),
        .hook(run: 0, kind: .trainBegin, index: 0, logs: [], wallTime: 1_800_000_000_000_000_000),
        .parameters(run: 0, json: #"{"batch_size": 32, "epochs": 2, "steps": 10, "do_validation": true}"#),
        .model(run: 0, json: #"{"name": "m", "layers": []}"#, graphDef: [0x0a, 0x01, 0x78], wallTime: 1_800_000_000_000_000_000),
        .model(run: 0, json: "{}", graphDef: [], wallTime: 1_800_000_000_000_000_000),
        .weightValues(run: 0, weight: 5, version: 2, offset: 3, total: 10, values: [1, -2.5, .greatestFiniteMagnitude, 0]),
        .weightValues(run: 0, weight: 0, version: 0, offset: 0, total: 0, values: []),
        .span(run: 0, name: "on_train_batch_end", start: 1_764_000_000_000_000_000, duration: 1500, thread: 9),
        .weightSegment(run: 2, weight: 7, version: 3, segment: 11, offset: 128, count: 1 << 20),
        .runAnnouncement(run: 3, rank: 1, worldSize: 2, policy: .perRank, arguments: TensorBoardArguments(
            logDirectory: "/logs/writer", writeGraph: false, profileBatch: 0, semantics: .summaryWriter)),
        .summary(run: 3, tag: 0, directory: nil, step: -7, wallTime: 1_765_000_000.125, value: .scalar(.nan)),
        .summary(run: 3, tag: 1, directory: 2, step: 1 << 40, wallTime: 0, value: .scalar(-0.0)),
        .summary(run: 3, tag: 1, directory: nil, step: 0, wallTime: 1, value: .text("# Title\n\n| a | ü |")),
        .summary(run: 3, tag: 1, directory: nil, step: 0, wallTime: 1, value: .text("")),
        .summary(run: 3, tag: 4, directory: nil, step: 2, wallTime: 2, value: .histogram(.float([1, -2.5, 0]))),
        .summary(run: 3, tag: 4, directory: nil, step: 2, wallTime: 2, value: .histogram(.double([.leastNonzeroMagnitude, 3]))),
        .summary(run: 3, tag: 4, directory: nil, step: 2, wallTime: 2, value: .rawHistogram(RawHistogram(
            min: -1, max: 2, num: 3, sum: 1, sumSquares: 5, bucketLimits: [0, .greatestFiniteMagnitude], bucketCounts: [1, 2]))),
        .summary(run: 3, tag: 5, directory: nil, step: 3, wallTime: 3, value: .image(height: 1, width: 2, channels: 3, pixels: [1, 2, 3, 4, 5, 6])),
        .summary(run: 3, tag: 6, directory: 2, step: 0, wallTime: 3, value: .hparams(HParamsSet(
            values: [HParamsSet.Entry(name: "lr", value: .number(0.01)), HParamsSet.Entry(name: "optimizer", value: .string("")),
                     HParamsSet.Entry(name: "bn", value: .bool(false))],
            discrete: ["optimizer": [.string("adam"), .string("")], "lr": [.number(0.01), .number(0.1)]], metrics: ["loss", "accuracy"]))),
        .summary(run: 3, tag: 6, directory: nil, step: 0, wallTime: 3, value: .hparams(HParamsSet(values: [], metrics: []))),
        .summary(run: 3, tag: 7, directory: nil, step: 0, wallTime: 3, value: .customScalars(CustomScalarsLayout(categories: [
            CustomScalarsLayout.Category(title: "Loss", charts: [
                CustomScalarsLayout.Chart(title: "both", content: .multiline(["loss", "val_.*"])),
                CustomScalarsLayout.Chart(title: "", content: .margin(value: "m", lower: "lo", upper: "hi")),
            ]),
            CustomScalarsLayout.Category(title: "", charts: []),
        ]))),
        .summary(run: 3, tag: 8, directory: nil, step: 4, wallTime: 3, value: .prCurve(numThresholds: 200, columns: 2,
                                                                                  values: [5, 3, 2, 1, 0, 1, 1, 3, 0.7, 0.75, 0.8, 0.5])),
        .summary(run: 3, tag: 9, directory: nil, step: 5, wallTime: 3, value: .audio(sampleRate: 16000, samples: .float([0.5, -1, 2]))),
        .summary(run: 3, tag: 9, directory: nil, step: 5, wallTime: 3, value: .audio(sampleRate: 22050.5, samples: .double([0.25]))),
        .summary(run: 3, tag: 10, directory: nil, step: 6, wallTime: 3, value: .mesh(MeshData(components: [
            MeshData.Component(content: .vertex, batch: 1, count: 2, values: [0, 1, 2, 3, 4, 5]),
            MeshData.Component(content: .face, batch: 1, count: 1, values: [0, 1, 0]),
            MeshData.Component(content: .color, batch: 1, count: 2, values: [255, 0, 0, 0, 255, 0]),
        ], jsonConfig: #"{"camera": {"fov": 75}}"#))),
        .summary(run: 3, tag: 11, directory: nil, step: 0, wallTime: 3, value: .graph(graphDef: [0x0A, 0x03, 0x0A, 0x01, 0x61], runMetadata: [])),
        .summary(run: 3, tag: 11, directory: 2, step: 0, wallTime: 3, value: .graph(graphDef: [0x0A, 0x00], runMetadata: [0x0A, 0x00])),
        .summary(run: 3, tag: 12, directory: nil, step: 7, wallTime: 3, value: .embedding(EmbeddingData(rows: 2, columns: 1, values: [1, 2]))),
        .summary(run: 3, tag: 12, directory: nil, step: 7, wallTime: 3, value: .embedding(EmbeddingData(
            rows: 1, columns: 2, values: [1, 2], metadata: "Name\tKind\na\tb\n",
            sprite: EmbeddingData.Sprite(imageHeight: 1, imageWidth: 1, side: 1, pixels: [1, 2, 3])))),
        .summary(run: 3, tag: 5, directory: 2, step: 8, wallTime: 3, value: .inSegment(sequence: 4, offset: 64, length: 3_000_001)),
        .summary(run: 3, tag: 5, directory: 2, step: 9, wallTime: 3, value: .tensorScalar(0.1, doublePrecision: true)),
        .summary(run: 3, tag: 5, directory: nil, step: 9, wallTime: 3, value: .tensorScalar(-2.5, doublePrecision: false)),
        .summary(run: 3, tag: 6, directory: nil, step: 100, wallTime: 3, value: .sessionStart),
    ]

    @Test func everyRecordRoundTrips() throws {
        for record in Self.samples {
            let bytes = record.encoded
            #expect(bytes.count == record.encodedLength)
            let decoded = try HookRecord(type: record.type, bytes: bytes)
            // NaN never equals itself: compare those payloads bit for bit.
            if case .hook(_, _, _, let logs, _) = record, logs.contains(where: { $0.value.isNaN }) {
                guard case .hook(_, _, _, let decodedLogs, _) = decoded else { Issue.record("not a hook"); continue }
                #expect(decodedLogs.map(\.value.bitPattern) == logs.map(\.value.bitPattern))
            } else if case .summary(_, _, _, _, _, .scalar(let value)) = record, value.isNaN {
                guard case .summary(_, _, _, _, _, .scalar(let decodedValue)) = decoded else { Issue.record("not a scalar"); continue }
                #expect(decodedValue.bitPattern == value.bitPattern)
            } else {
                #expect(decoded == record)
            }
        }
    }

    /// The batch record's layout, pinned: run, phase, end, count, batch, wall time (ns), metric
    /// numbers, padding, values.
    @Test func batchLayoutIsPinned() {
        let record = HookRecord.batch(run: 2, phase: .train, isEnd: true, batch: 5, logs: [MetricValue(metric: 9, value: 1.0)], wallTime: 1_800_000_000_000_000_000)
        #expect(record.encoded == bytes(hex: """
            02000000 00 01 0100 0500000000000000
            0000b49376e2fa18
            09000000 00000000
            000000000000f03f
            """))
        #expect(HookRecord.batchLength(metricCount: 0) == 24)
        #expect(HookRecord.batchLength(metricCount: 1) == 40)
        #expect(HookRecord.batchLength(metricCount: 4) == 72)
    }

    /// The allocation-free encoder writes the same bytes as the general one.
    @Test(arguments: 0...6) func hotPathEncoderMatches(count: Int) {
        let metrics = (0..<count).map { UInt32($0 * 3 + 1) }
        let values = (0..<count).map { Double($0) * 0.25 - 1 }
        var bytes = [UInt8](repeating: 0xAA, count: HookRecord.batchLength(metricCount: count))
        bytes.withUnsafeMutableBytes { payload in
            HookRecord.encodeBatch(into: payload, run: 3, phase: .train, isEnd: true, batch: 77, metrics: metrics.span, values: values.span,
                                   wallTime: 1_800_000_000_000_000_000)
        }
        let record = HookRecord.batch(run: 3, phase: .train, isEnd: true, batch: 77,
                                      logs: zip(metrics, values).map { MetricValue(metric: $0, value: $1) }, wallTime: 1_800_000_000_000_000_000)
        #expect(bytes == record.encoded)
    }

    /// Every record cut short at every length is refused, never read past its end; one byte more
    /// is refused too.
    @Test func truncationsAndTrailingBytesAreRefused() throws {
        for record in Self.samples {
            let bytes = record.encoded
            for length in 0..<bytes.count {
                #expect(throws: RecordError.self) { _ = try HookRecord(type: record.type, bytes: Array(bytes[0..<length])) }
            }
            #expect(throws: RecordError.trailingBytes(type: record.type, offset: bytes.count)) {
                _ = try HookRecord(type: record.type, bytes: bytes + [0])
            }
        }
    }

    /// The aggregator's allocation-free batch decoder accepts and refuses exactly what
    /// `HookRecord` does, and decodes the same record, reusing one storage throughout.
    @Test func batchRecordDecodesAsHookRecordDoes() throws {
        var decoded = BatchRecord()
        func check(_ bytes: [UInt8]) {
            let expected = Result { () throws(RecordError) in try HookRecord(type: RecordType.batch, bytes: bytes) }
            let actual = Result { () throws(RecordError) -> HookRecord in
                let failure: RecordError? = bytes.withUnsafeBytes { payload in
                    do throws(RecordError) {
                        try decoded.decode(payload)
                        return nil
                    } catch {
                        return error
                    }
                }
                if let failure { throw failure }
                return decoded.record
            }
            // Compared as bytes: a NaN among the values is equal to itself only bit for bit.
            #expect(actual.map(\.encoded) == expected.map(\.encoded))
        }
        var batches = Self.samples.filter { $0.type == RecordType.batch }
        batches.append(.batch(run: 9, phase: .predict, isEnd: false, batch: -4, logs: (0..<7).map { MetricValue(metric: UInt32($0 * 3), value: Double($0) - 0.5) }, wallTime: 1_800_000_000_000_000_000))
        #expect(batches.count >= 2)
        for record in batches {
            let bytes = record.encoded
            for length in 0...bytes.count { check(Array(bytes[0..<length])) }
            check(bytes + [0])
            for index in bytes.indices {
                var changed = bytes
                changed[index] ^= 0x41
                check(changed)
            }
        }
    }

    /// A run announcement carries its run directory absolute and normalized (the trainer resolves
    /// `log_dir`): anything else is refused, whatever a damaged or forged record holds.
    @Test(arguments: ["", "logs", "a/b", "../up", "/a/../b", "/a/./b", "/a//b", "/a/", "/a/..", "/nul\u{0}byte", "//", "/."])
    func runDirectoriesNotAbsoluteAndNormalizedAreRefused(_ path: String) {
        let record = HookRecord.runAnnouncement(run: 0, rank: 0, worldSize: 1, policy: .chief,
                                                arguments: TensorBoardArguments(logDirectory: path))
        #expect(throws: RecordError.invalidRunDirectory(path)) { _ = try HookRecord(type: record.type, bytes: record.encoded) }
    }

    /// The semantics byte (after the embeddings metadata kind) names TF 2.0 (0) or Keras 3 (1).
    @Test func anUnknownSemanticsIsRefused() throws {
        let record = HookRecord.runAnnouncement(run: 0, rank: 0, worldSize: 1, policy: .chief,
                                                arguments: TensorBoardArguments(logDirectory: "/logs", semantics: .keras3))
        var bytes = record.encoded
        let offset = 2 + 1 + 1 + 4 + 4 + 4 + 8 + 8 + 8 + 8 + 1 + 1 + 1
        #expect(bytes[offset] == Semantics.keras3.rawValue)
        bytes[offset] = 7
        #expect(throws: RecordError.invalidValue(type: record.type, field: "semantics", value: 7)) {
            _ = try HookRecord(type: record.type, bytes: bytes)
        }
    }

    @Test(arguments: ["/", "/etc", "/data/tb/exp1", "/runs/..hidden", "/with space", "/ünï", "/a.b/c"])
    func absoluteNormalizedRunDirectoriesAreAccepted(_ path: String) throws {
        try HookRecord.validateRunDirectory(path)
    }

    /// `log_dir` as Keras takes it, made absolute as Python's `os.path.abspath` makes it.
    @Test func logDirectoriesResolveAgainstTheWorkingDirectory() throws {
        let cases: [(String, String, String)] = [
            ("logs", "/home/u/exp", "/home/u/exp/logs"),
            ("./logs/", "/home/u", "/home/u/logs"),
            ("../tb/run1", "/home/u/exp", "/home/u/tb/run1"),
            ("/data/tb/exp1", "/home/u", "/data/tb/exp1"),
            ("/data//tb/./exp1/", "/x", "/data/tb/exp1"),
            ("../../../..", "/a/b", "/"),
            (".", "/home/u", "/home/u"),
            ("a/../b", "/", "/b"),
        ]
        for (path, workingDirectory, expected) in cases {
            let resolved = try HookRecord.runDirectory(path, in: workingDirectory)
            #expect(resolved == expected, "\(path) in \(workingDirectory)")
            try HookRecord.validateRunDirectory(resolved)
        }
        #expect(throws: RecordError.invalidRunDirectory("")) { _ = try HookRecord.runDirectory("", in: "/home") }
        #expect(throws: RecordError.invalidRunDirectory("a\u{0}b")) { _ = try HookRecord.runDirectory("a\u{0}b", in: "/home") }
    }

    @Test func invalidFieldsAreNamed() {
        func refuses(_ type: UInt16, _ hex: String, _ expected: RecordError) {
            #expect(throws: expected) { _ = try HookRecord(type: type, bytes: bytes(hex: hex)) }
        }
        // A batch record with phase 3.
        refuses(RecordType.batch, "00000000 03 01 0000 0000000000000000", .invalidValue(type: RecordType.batch, field: "batch phase", value: 3))
        // "end" must be 0 or 1.
        refuses(RecordType.batch, "00000000 00 02 0000 0000000000000000", .invalidValue(type: RecordType.batch, field: "end", value: 2))
        // A hook kind out of range.
        refuses(RecordType.hook, "00000000 08 00 0000 0000000000000000", .invalidValue(type: RecordType.hook, field: "hook", value: 8))
        // A metric name that is not UTF-8.
        refuses(RecordType.metricName, "00000000 01000000 02000000 c328",
                .invalidString(type: RecordType.metricName, field: "metric name", reason: "not UTF-8 at byte 8"))
        // An empty metric name, and one with a control character.
        refuses(RecordType.metricName, "00000000 01000000 00000000",
                .invalidString(type: RecordType.metricName, field: "metric name", reason: "empty or with control characters"))
        refuses(RecordType.metricName, "00000000 01000000 01000000 0a",
                .invalidString(type: RecordType.metricName, field: "metric name", reason: "empty or with control characters"))
        // Weight values beyond their total, and a count the payload cannot hold.
        refuses(RecordType.weightValues, "00000000 00000000 0000000000000000 0200000000000000 0300000000000000 0200000000000000 0000803f 0000803f",
                .invalidValue(type: RecordType.weightValues, field: "values 2 + 2 of", value: 3))
        refuses(RecordType.weightValues, "00000000 00000000 0000000000000000 0000000000000000 ffffffffffffffff ffffffffffffffff",
                .truncated(type: RecordType.weightValues, offset: 40))
        // A weight segment record (record layout 3, unchanged in 4): its golden bytes, then a negative
        // segment and an offset between values.
        #expect(RecordType.version == 4 && RecordType.weightSegment == 24)
        #expect(HookRecord.weightSegment(run: 1, weight: 2, version: 3, segment: 4, offset: 64, count: 5).encoded == bytes(hex:
            "01000000 02000000 0300000000000000 0400000000000000 4000000000000000 0500000000000000"))
        refuses(RecordType.weightSegment, "00000000 00000000 0000000000000000 ffffffffffffffff 4000000000000000 0100000000000000",
                .invalidValue(type: RecordType.weightSegment, field: "weight segment", value: -1))
        refuses(RecordType.weightSegment, "00000000 00000000 0000000000000000 0000000000000000 4200000000000000 0100000000000000",
                .invalidValue(type: RecordType.weightSegment, field: "weight segment offset", value: 66))
        refuses(99, "", .unknownType(99))
    }

    /// Summary records (record layout 4): golden bytes of the hot path's scalar, and what the
    /// decoder refuses.
    @Test func summaryRecordsArePinnedAndChecked() throws {
        #expect(RecordType.summary == 25)
        let scalar = bytes(hex: "03000000 00000000 05000000 ffffffff 0700000000000000 000000000000f03f 0000000000000440")
        #expect(HookRecord.summary(run: 3, tag: 5, directory: nil, step: 7, wallTime: 1, value: .scalar(2.5)).encoded == scalar)
        var hot = [UInt8](repeating: 0xAA, count: HookRecord.scalarSummaryLength)
        hot.withUnsafeMutableBytes {
            HookRecord.encodeScalarSummary(into: $0, run: 3, tag: 5, directory: HookRecord.noDirectory, step: 7, wallTime: 1, value: 2.5)
        }
        #expect(hot == scalar)
        let values: [Float] = [1, 2, 3]
        var histogram = [UInt8](repeating: 0xAA, count: HookRecord.histogramSummaryLength(count: 3, width: 4))
        histogram.withUnsafeMutableBytes {
            HookRecord.encodeHistogramSummary(into: $0, run: 0, tag: 1, directory: 2, step: 3, wallTime: 4, values: values.span)
        }
        #expect(histogram == HookRecord.summary(run: 0, tag: 1, directory: 2, step: 3, wallTime: 4, value: .histogram(.float(values))).encoded)
        let pixels: [UInt8] = [9, 8, 7, 6]
        var image = [UInt8](repeating: 0xAA, count: HookRecord.imageSummaryLength(byteCount: 4))
        image.withUnsafeMutableBytes {
            HookRecord.encodeImageSummary(into: $0, run: 0, tag: 1, directory: HookRecord.noDirectory, step: 3, wallTime: 4, height: 2, width: 2,
                                          channels: 1, pixels: pixels.span)
        }
        #expect(image == HookRecord.summary(run: 0, tag: 1, directory: nil, step: 3, wallTime: 4, value: .image(height: 2, width: 2, channels: 1, pixels: pixels)).encoded)

        // The aggregator's scalar path reads what the full decoder reads, and leaves it anything else.
        let fields = scalar.withUnsafeBytes { HookRecord.scalarSummary($0) }
        #expect(fields.map { [Double($0.run), Double($0.tag), Double($0.step), $0.wallTime, $0.value] } == [3, 5, 7, 1, 2.5] && fields?.directory == nil)
        #expect(histogram.withUnsafeBytes { HookRecord.scalarSummary($0) } == nil)
        var negative = scalar
        negative[31] = 0xBF  // a negative wall time: the full decoder refuses it
        #expect(negative.withUnsafeBytes { HookRecord.scalarSummary($0) } == nil)
        #expect(HookRecord.summary(run: 0, tag: 1, directory: 4, step: 0, wallTime: 0, value: .scalar(1)).encoded.withUnsafeBytes {
            HookRecord.scalarSummary($0)?.directory } == 4)

        func refused(_ record: HookRecord, patch: (inout [UInt8]) -> Void = { _ in }) -> RecordError? {
            var bytes = record.encoded
            patch(&bytes)
            do {
                _ = try HookRecord(type: RecordType.summary, bytes: bytes)
                return nil
            } catch {
                return error
            }
        }
        let t = RecordType.summary
        #expect(refused(.summary(run: 0, tag: 0, directory: nil, step: 0, wallTime: .nan, value: .scalar(1)))
                == .invalidValue(type: t, field: "wall time", value: -1))
        #expect(refused(.summary(run: 0, tag: 0, directory: nil, step: 0, wallTime: -1, value: .scalar(1)))
                == .invalidValue(type: t, field: "wall time", value: -1))
        #expect(refused(.summary(run: 0, tag: 0, directory: nil, step: 0, wallTime: 1, value: .scalar(1))) { $0[4] = 99 }
                == .invalidValue(type: t, field: "summary kind", value: 99))
        #expect(refused(.summary(run: 0, tag: 0, directory: nil, step: 0, wallTime: 1, value: .scalar(1))) { $0[6] = 1 }
                == .invalidValue(type: t, field: "reserved", value: 1))
        // A summary in a weight segment at an unaligned offset, or of no bytes.
        #expect(refused(.summary(run: 0, tag: 0, directory: nil, step: 0, wallTime: 1, value: .inSegment(sequence: 0, offset: 6, length: 8)))
                == .invalidValue(type: t, field: "weight segment offset", value: 6))
        #expect(refused(.summary(run: 0, tag: 0, directory: nil, step: 0, wallTime: 1, value: .inSegment(sequence: 0, offset: 8, length: 0)))
                == .invalidValue(type: t, field: "summary length", value: 0))
        // Audio without samples or at no rate; a mesh without vertices first, or of ragged parts;
        // an empty graph; an embedding whose values or sprite its dimensions do not account for.
        #expect(refused(.summary(run: 0, tag: 0, directory: nil, step: 0, wallTime: 1, value: .audio(sampleRate: 8000, samples: .float([]))))
                == .invalidValue(type: t, field: "audio samples", value: 0))
        #expect(refused(.summary(run: 0, tag: 0, directory: nil, step: 0, wallTime: 1, value: .audio(sampleRate: 0.5, samples: .float([1]))))
                == .invalidValue(type: t, field: "audio sample rate", value: 0))
        #expect(refused(.summary(run: 0, tag: 0, directory: nil, step: 0, wallTime: 1, value: .mesh(MeshData(components: [
            MeshData.Component(content: .color, batch: 1, count: 1, values: [1, 2, 3])]))))
                == .invalidString(type: t, field: "mesh", reason: "a mesh starts with its vertices"))
        #expect(refused(.summary(run: 0, tag: 0, directory: nil, step: 0, wallTime: 1, value: .mesh(MeshData(components: [
            MeshData.Component(content: .vertex, batch: 1, count: 2, values: [1, 2, 3, 4, 5, 6]),
            MeshData.Component(content: .color, batch: 1, count: 1, values: [1, 2, 3])]))))
                == .invalidString(type: t, field: "mesh", reason: "1 colors for 2 vertices"))
        #expect(refused(.summary(run: 0, tag: 0, directory: nil, step: 0, wallTime: 1, value: .graph(graphDef: [], runMetadata: [1])))
                == .invalidValue(type: t, field: "graph length", value: 0))
        #expect(refused(.summary(run: 0, tag: 0, directory: nil, step: 0, wallTime: 1, value: .embedding(EmbeddingData(
            rows: 1, columns: 2, values: [1, 2], sprite: EmbeddingData.Sprite(imageHeight: 1, imageWidth: 1, side: 2, pixels: [1, 2, 3])))))
                == .invalidString(type: t, field: "embedding", reason: "3 sprite bytes are not 2 × 2 × 3"))
        #expect(refused(.summary(run: 0, tag: 0, directory: nil, step: 0, wallTime: 1, value: .embedding(EmbeddingData(rows: 2, columns: 1, values: [1, 2])))) {
            $0[32] = 3  // three rows of the two values
        } == .truncated(type: t, offset: 40))
        // An image whose pixels its dimensions do not account for, one of 2 channels, and a
        // height × width that would overflow if multiplied.
        #expect(refused(.summary(run: 0, tag: 0, directory: nil, step: 0, wallTime: 1, value: .image(height: 2, width: 2, channels: 3, pixels: [1, 2, 3])))
                == .invalidValue(type: t, field: "image of 2×2×3 with pixel bytes", value: 3))
        #expect(refused(.summary(run: 0, tag: 0, directory: nil, step: 0, wallTime: 1, value: .image(height: 1, width: 1, channels: 2, pixels: [1, 2])))
                == .invalidValue(type: t, field: "image channels", value: 2))
        #expect(refused(.summary(run: 0, tag: 0, directory: nil, step: 0, wallTime: 1, value: .image(height: 1, width: 3, channels: 1, pixels: [1, 2, 3]))) {
            for k in 32..<40 { $0[k] = 0xFF }
        } != nil)
        #expect(refused(.summary(run: 0, tag: 0, directory: nil, step: 0, wallTime: 1, value: .rawHistogram(RawHistogram(
            min: 0, max: 1, num: 1, sum: .infinity, sumSquares: 1, bucketLimits: [1], bucketCounts: [1]))))
                == .invalidString(type: t, field: "raw histogram", reason: "sum is inf"))
        // A histogram count the payload cannot hold.
        #expect(refused(.summary(run: 0, tag: 0, directory: nil, step: 0, wallTime: 1, value: .histogram(.float([1])))) {
            for k in 32..<40 { $0[k] = 0xFF }
        } == .truncated(type: t, offset: 40))
    }

    @Test func announcementsAreChecked() throws {
        var record = HookRecord.runAnnouncement(run: 0, rank: 4, worldSize: 4, policy: .chief, arguments: TensorBoardArguments(logDirectory: "/logs"))
        #expect(throws: RecordError.self) { _ = try HookRecord(type: record.type, bytes: record.encoded) }
        // A world of billions made the aggregator's .mean group count every rank on each hook
        // (found by Tests/Fuzz, FuzzAggregator): refused past maximumWorldSize.
        for (worldSize, accepted) in [(UInt32(1 << 16), true), (UInt32(1 << 16) + 1, false), (UInt32.max, false)] {
            record = .runAnnouncement(run: 0, rank: 0, worldSize: worldSize, policy: .mean, arguments: TensorBoardArguments(logDirectory: "/logs"))
            if accepted {
                #expect(try HookRecord(type: record.type, bytes: record.encoded) == record)
            } else {
                #expect(throws: RecordError.invalidValue(type: RecordType.runAnnouncement, field: "rank 0 of world size", value: Int64(worldSize))) {
                    _ = try HookRecord(type: record.type, bytes: record.encoded)
                }
            }
        }
        record = .runAnnouncement(run: 0, rank: 0, worldSize: 1, policy: .chief, arguments: TensorBoardArguments(updateFrequency: .samples(0)))
        #expect(throws: RecordError.invalidValue(type: RecordType.runAnnouncement, field: "update_freq", value: 0)) {
            _ = try HookRecord(type: record.type, bytes: record.encoded)
        }
        var bytes = HookRecord.runAnnouncement(run: 0, rank: 0, worldSize: 1, policy: .chief, arguments: TensorBoardArguments(logDirectory: "/logs")).encoded
        bytes[0] = 9
        #expect(throws: RecordError.unsupportedVersion(9)) { _ = try HookRecord(type: RecordType.runAnnouncement, bytes: bytes) }
        // Layout 3 (before summary records) reads the same.
        bytes[0] = 3
        #expect(try HookRecord(type: RecordType.runAnnouncement, bytes: bytes)
                == .runAnnouncement(run: 0, rank: 0, worldSize: 1, policy: .chief, arguments: TensorBoardArguments(logDirectory: "/logs")))
        bytes[0] = UInt8(RecordType.version)
        bytes[2] = 3
        #expect(throws: RecordError.invalidValue(type: RecordType.runAnnouncement, field: "rank policy", value: 3)) {
            _ = try HookRecord(type: RecordType.runAnnouncement, bytes: bytes)
        }
    }

    /// Random and mutated payloads of every type: an error or a record, never a crash.
    @Test func randomBytesNeverCrashTheDecoder() {
        var generator = SeededGenerator(seed: 21)
        for record in Self.samples {
            let valid = record.encoded
            for _ in 0..<3_000 {
                var bytes = valid
                if bytes.isEmpty || Bool.random(using: &generator) {
                    bytes = (0..<Int.random(in: 0...64, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
                } else {
                    for _ in 0..<Int.random(in: 1...3, using: &generator) {
                        bytes[Int.random(in: 0..<bytes.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
                    }
                }
                _ = try? HookRecord(type: record.type, bytes: bytes)
            }
        }
    }

    /// A batch hook written straight into a ring claim comes out of the ring as the same record.
    @Test func throughARealRing() throws {
        let directory = TemporaryDirectory("ringboard-records")
        let writer = try RingWriter(directory: directory.appending("rings"))
        let reader = try RingReader(path: writer.path)
        let metrics: [UInt32] = [0, 1, 2, 3]
        let values: [Double] = [12, 32, 0.5, 0.875]
        for batch in 0..<100 {
            let outcome = writer.append(type: RecordType.batch, length: HookRecord.batchLength(metricCount: 4)) { payload in
                HookRecord.encodeBatch(into: payload, run: 0, phase: .train, isEnd: true, batch: Int64(batch), metrics: metrics.span, values: values.span,
                                       wallTime: 1_800_000_000_000_000_000 + Int64(batch))
            }
            #expect(outcome != .dropped)
        }
        var decoded: [HookRecord] = []
        var failures: [RecordError] = []
        try reader.poll { record in
            do throws(RecordError) {
                decoded.append(try HookRecord(type: record.type, payload: record.payload))
            } catch {
                failures.append(error)
            }
        }
        #expect(failures.isEmpty)
        #expect(decoded == (0..<100).map { batch in
            .batch(run: 0, phase: .train, isEnd: true, batch: Int64(batch), logs: zip(metrics, values).map { MetricValue(metric: $0, value: $1) },
                   wallTime: 1_800_000_000_000_000_000 + Int64(batch))
        })
    }
}
