import Foundation
import RingboardFormat
import RingboardTestSupport
import Testing
@testable @_spi(Benchmarks) import RingboardSummaries

/// Our histograms against independent Python implementations run through the project's venv
/// (`Scripts/setup.sh` makes it): `Tests/Conformance/histogram_reference.py`, histogram.cc written
/// again with bisect, and TensorBoard's own `summary_v2.histogram_pb` through
/// `Tests/Conformance/tensorboard_histogram_check.py`.
@Suite(.serialized) struct HistogramConformanceTests {
    static let reference = packageRoot + "/Tests/Conformance/histogram_reference.py"
    static let tensorBoardCheck = packageRoot + "/Tests/Conformance/tensorboard_histogram_check.py"
    static let fixture = packageRoot + "/Tests/RingboardSummariesTests/Fixtures/tf_histograms.json"
    static let eventFileCheck = packageRoot + "/Tests/Conformance/tensorboard_check.py"

    /// Values of one dtype, written for Python as little-endian bytes.
    enum Values {
        case float32([Float])
        case float64([Double])

        var dtype: String {
            switch self {
            case .float32: "float32"
            case .float64: "float64"
            }
        }

        var bytes: Data {
            switch self {
            case .float32(let values): Data(values.flatMap { withUnsafeBytes(of: $0.bitPattern.littleEndian, Array.init) })
            case .float64(let values): Data(values.flatMap { withUnsafeBytes(of: $0.bitPattern.littleEndian, Array.init) })
            }
        }
    }

    /// One histogram from histogram_reference.py; doubles come as the hex digits of their bits.
    struct ReferenceOutput: Decodable {
        var name: String
        var non_finite: Bool
        var min, max, sum, sum_squares, exact_sum, exact_sum_squares: String?
        var num: Double?
        var bucket_limit: [String]?
        var bucket: [Double]?

        static func double(_ hex: String) -> Double { Double(bitPattern: UInt64(hex, radix: 16)!) }

        var histogram: HistogramProto {
            HistogramProto(
                min: Self.double(min!), max: Self.double(max!), num: num!, sum: Self.double(sum!),
                sumSquares: Self.double(sum_squares!), bucketLimit: bucket_limit!.map(Self.double), bucket: bucket!)
        }

        /// `histogram` with the exact sums in place of histogram.cc's sequential ones.
        var exactHistogram: HistogramProto {
            var histogram = histogram
            histogram.sum = Self.double(exact_sum!)
            histogram.sumSquares = Self.double(exact_sum_squares!)
            return histogram
        }
    }

    static func requireVenv() throws {
        try #require(FileManager.default.isExecutableFile(atPath: venvPython), "run Scripts/setup.sh to create .venv")
    }

    /// The Python reference agrees with TensorFlow on every golden case, sums included, so it can
    /// stand in for TensorFlow on inputs the golden data doesn't have; its exact sums are within
    /// 1e-12 of TensorFlow's sequential ones there.
    @Test func pythonReferenceMatchesTensorFlow() throws {
        try Self.requireVenv()
        let result = try run(venvPython, [Self.reference, "--golden", Self.fixture], timeout: 120)
        #expect(result.status == 0, "\(result.standardOutput)\n\(result.standardError)")
    }

    @Test func tensorFlowHistogramsMatchPythonReference() throws {
        try Self.requireVenv()
        var cases: [(name: String, values: Values)] = []
        for (seed, count) in [(11, 5000), (12, 4097), (13, 31)] as [(UInt64, Int)] {
            cases.append(("gaussian f32 \(seed)", .float32(HistogramInputs.gaussian(count: count, scale: 0.05, seed: seed).map { Float($0) })))
            cases.append(("log-uniform f32 \(seed)", .float32(HistogramInputs.logUniform(count: count, seed: seed).map { Float($0) })))
            cases.append(("float bits \(seed)", .float32(HistogramInputs.floatBits(count: count, seed: seed))))
            cases.append(("adversarial f32 \(seed)", .float32(HistogramInputs.sample(HistogramInputs.adversarialFloats, count: count, seed: seed))))
            cases.append(("gaussian f64 \(seed)", .float64(HistogramInputs.gaussian(count: count, scale: 3, seed: seed))))
            cases.append(("log-uniform f64 \(seed)", .float64(HistogramInputs.logUniform(count: count, seed: seed))))
            cases.append(("double bits \(seed)", .float64(HistogramInputs.doubleBits(count: count, seed: seed))))
            cases.append(("adversarial f64 \(seed)", .float64(HistogramInputs.sample(HistogramInputs.adversarialDoubles, count: count, seed: seed))))
        }
        cases.append(("every limit f32", .float32(HistogramInputs.adversarialFloats)))
        cases.append(("every limit f64", .float64(HistogramInputs.adversarialDoubles)))
        cases.append(("zeros and subnormals f32", .float32([Float.leastNonzeroMagnitude, -0.0, 0, -Float.leastNonzeroMagnitude, Float.leastNormalMagnitude / 10])))
        cases.append(("zeros and subnormals f64", .float64([-Double.leastNonzeroMagnitude, 0, -0.0, 0x1p-1030])))
        cases.append(("empty", .float32([])))
        cases.append(("NaN", .float32([1, .nan, 2])))
        cases.append(("infinity", .float64([1, 2, -.infinity])))

        let directory = TemporaryDirectory("ringboard-histogram")
        var manifest: [[String: String]] = []
        for (index, testCase) in cases.enumerated() {
            let path = directory.appending("\(index).bin")
            try testCase.values.bytes.write(to: URL(fileURLWithPath: path))
            manifest.append(["name": testCase.name, "dtype": testCase.values.dtype, "path": path])
        }
        let manifestPath = directory.appending("manifest.json")
        try JSONSerialization.data(withJSONObject: manifest).write(to: URL(fileURLWithPath: manifestPath))
        let result = try run(venvPython, [Self.reference, manifestPath], timeout: 300)
        try #require(result.status == 0, "\(result.standardError)")
        let outputs = try JSONDecoder().decode([ReferenceOutput].self, from: Data(result.standardOutput.utf8))
        try #require(outputs.count == cases.count)

        for (testCase, output) in zip(cases, outputs) {
            #expect(testCase.name == output.name)
            for path in Histogram.VectorPath.available {
                do {
                    let ours: HistogramProto
                    let reference: HistogramProto
                    switch testCase.values {
                    case .float32(let values):
                        ours = try Histogram.tensorFlow(values.span, tag: testCase.name, path: path)
                        reference = try Histogram.tensorFlowReference(values.span, tag: testCase.name)
                    case .float64(let values):
                        ours = try Histogram.tensorFlow(values.span, tag: testCase.name, path: path)
                        reference = try Histogram.tensorFlowReference(values.span, tag: testCase.name)
                    }
                    #expect(!output.non_finite, "\(testCase.name): Python refused it, we did not")
                    guard !output.non_finite else { continue }
                    // Sums: exact, as Python's integer sums; histogram.cc's sequential sums can be far
                    // from them on these inputs (cancellation), so they are not compared.
                    expectSameHistogram(ours, output.exactHistogram, sums: .exact, "\(testCase.name) on \(path)")
                    expectSameHistogram(reference, output.exactHistogram, sums: .exact, "\(testCase.name), Swift reference")
                } catch {
                    #expect(output.non_finite, "\(testCase.name): \(error)")
                    #expect(error == .nonFiniteValues(tag: testCase.name))
                }
            }
        }
    }

    @Test func tensorBoardHistogramsMatchTensorBoard() throws {
        try Self.requireVenv()
        let gaussian = HistogramInputs.gaussian(count: 10_000, scale: 0.1, seed: 21)
        let ramp = (0..<30).map { Double($0) }
        var cases: [(name: String, values: Values, buckets: Int, description: String)] = [
            ("gaussian f32", .float32(gaussian.map { Float($0) }), 30, ""),
            ("gaussian f64", .float64(gaussian), 30, "weights of `dense`"),
            ("log-uniform f32", .float32(HistogramInputs.logUniform(count: 999, seed: 22).map { Float($0) }), 30, ""),
            ("adversarial f32", .float32(HistogramInputs.sample(HistogramInputs.adversarialFloats, count: 500, seed: 23)), 30, ""),
            ("float bits", .float32(HistogramInputs.floatBits(count: 300, seed: 24)), 30, ""),
            ("ramp, 30 buckets", .float64(ramp), 30, ""),
            ("ramp, 10 buckets", .float64(ramp), 10, ""),
            ("ramp, 7 buckets", .float32(ramp.map { Float($0) }), 7, ""),
            ("tenths", .float64((0...100).map { Double($0) / 10 }), 30, ""),
            ("one bucket", .float32([1, 2, 3, 4]), 1, ""),
            ("two values", .float32([-1, 1]), 2, ""),
            ("many buckets", .float32(gaussian.prefix(100).map { Float($0) }), 1000, ""),
            ("no buckets", .float32([1, 2, 3]), 0, ""),
            ("empty", .float32([]), 30, ""),
            ("empty, 5 buckets", .float64([]), 5, ""),
            ("single value", .float32([-2.5]), 30, ""),
            ("all equal", .float64([Double](repeating: 0.75, count: 11)), 30, ""),
            ("all zero", .float32([Float](repeating: 0, count: 9)), 30, ""),
            ("zero then negative zero", .float64([0, -0.0]), 30, ""),
            ("negative zero then zero", .float64([-0.0, 0]), 30, ""),
            ("subnormals f32", .float32([Float.leastNonzeroMagnitude, 0, -Float.leastNormalMagnitude.nextDown]), 30, ""),
            ("float extremes", .float32([-.greatestFiniteMagnitude, .greatestFiniteMagnitude, 0]), 30, ""),
            ("range overflows", .float64([-1e308, 1e308, 0, 5]), 30, ""),
            ("width underflows", .float64([0, .leastNonzeroMagnitude, 0]), 30, ""),
            ("tiny range", .float64([0, 0x1p-1060, 0x1p-1061]), 30, ""),
        ]
        cases.append(("uniform", .float32(HistogramInputs.sample((0..<1000).map { Float($0) / 999 }, count: 4000, seed: 25)), 30, ""))

        let directory = TemporaryDirectory("ringboard-tb-histogram")
        var manifest: [[String: Any]] = []
        for (index, testCase) in cases.enumerated() {
            let valuesPath = directory.appending("\(index).bin"), eventPath = directory.appending("\(index).event")
            try testCase.values.bytes.write(to: URL(fileURLWithPath: valuesPath))
            let value: Summary.Value
            switch testCase.values {
            case .float32(let values):
                value = try Histogram.tensorBoard(values, tag: "t/\(index)", bucketCount: testCase.buckets, description: testCase.description)
            case .float64(let values):
                value = try Histogram.tensorBoard(values, tag: "t/\(index)", bucketCount: testCase.buckets, description: testCase.description)
            }
            let event = Event(wallTime: 1_700_000_000, step: 3, what: .summary(Summary(values: [value])))
            try Data(event.serializedBytes()).write(to: URL(fileURLWithPath: eventPath))
            manifest.append([
                "name": testCase.name, "dtype": testCase.values.dtype, "values": valuesPath, "event": eventPath,
                "tag": "t/\(index)", "buckets": testCase.buckets, "description": testCase.description,
            ])
        }
        let manifestPath = directory.appending("manifest.json")
        try JSONSerialization.data(withJSONObject: manifest).write(to: URL(fileURLWithPath: manifestPath))
        let result = try run(venvPython, [Self.tensorBoardCheck, manifestPath], timeout: 300)
        #expect(result.status == 0, "\(result.standardOutput)\n\(result.standardError)")
    }

    /// Both forms, written to an event file, read back by the real TensorBoard (its Python loader
    /// and its data server's histograms route) as we wrote them.
    @Test func tensorBoardReadsOurHistograms() throws {
        try Self.requireVenv()
        let directory = TemporaryDirectory("ringboard-tb-read")
        let logdir = directory.appending("logs")
        let writer = try EventFileWriter(directory: logdir + "/train")
        // JSON for a double: the checker takes "-0.0" for negative zero, which JSON writers drop.
        func json(_ value: Double) -> Any { value == 0 && value.sign == .minus ? "-0.0" : value }
        var protos: [[String: Any]] = [], tensors: [[String: Any]] = []
        for step in 0..<3 {
            let weights = HistogramInputs.gaussian(count: 500 + step, scale: 0.1, seed: 60 + UInt64(step)).map { Float($0) }
            let proto = try Histogram.tensorFlow(weights, tag: "dense_kernel_0")
            let value = try Histogram.tensorBoard(weights, tag: "dense_bias_0")
            try writer.append(Event(wallTime: 1_700_000_000 + Double(step), step: Int64(step), what: .summary(Summary(values: [
                Summary.Value(tag: "dense_kernel_0", kind: .histogram(proto)), value,
            ]))))
            protos.append([
                "step": step, "min": json(proto.min), "max": json(proto.max), "num": proto.num, "sum": json(proto.sum),
                "sum_squares": json(proto.sumSquares), "bucket_limit": proto.bucketLimit.map(json), "bucket": proto.bucket,
            ])
            let rows = try HistogramTensorBoardTests.rows(value).flatMap { $0 }
            tensors.append(["step": step, "dtype": "DT_DOUBLE", "shape": [30, 3], "values": rows.map(json), "plugin": "histograms"])
        }
        try writer.close()
        let expect: [String: Any] = ["runs": ["train": ["histograms": ["dense_kernel_0": protos], "tensors": ["dense_bias_0": tensors]]]]
        let expectPath = directory.appending("expect.json")
        try JSONSerialization.data(withJSONObject: expect, options: [.sortedKeys]).write(to: URL(fileURLWithPath: expectPath))
        let result = try run(venvPython, [Self.eventFileCheck, "--logdir", logdir, "--expect", expectPath], timeout: 180)
        #expect(result.status == 0, "\(result.standardOutput)\n\(result.standardError)")
    }
}
