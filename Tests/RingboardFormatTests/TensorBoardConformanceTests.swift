import Foundation
import RingboardTestSupport
import Testing
@testable import RingboardFormat

/// Files from our writer, read by the real TensorBoard (the pinned version in `.venv`, made by
/// `Scripts/setup.sh`): its Python `EventAccumulator` and its Rust data server
/// (`tensorboard --load_fast=true`), through `Tests/Conformance/tensorboard_check.py`.
@Suite(.serialized) struct TensorBoardConformanceTests {
    static let checker = packageRoot + "/Tests/Conformance/tensorboard_check.py"

    /// A 2×2 grayscale PNG.
    static let png = bytes(hex: """
        89504e470d0a1a0a0000000d494844520000000200000002080000000057dd52f80000000e49444154789c63
        60f8cfd0e00000054201c0703636d60000000049454e44ae426082
        """)

    /// A GraphDef with one node: `node { name: "x" op: "Placeholder" }`.
    static let graphDef: [UInt8] = [0x0a, 0x10, 0x0a, 0x01, 0x78, 0x12, 0x0b] + Array("Placeholder".utf8)

    /// Writes every kind of record into `logdir` and returns what TensorBoard must show.
    static func writeEveryKind(into logdir: String) throws -> [String: Any] {
        let train = try EventFileWriter(directory: logdir + "/train")
        let validation = try EventFileWriter(directory: logdir + "/validation")
        let values: [Float] = [0.6931, 0, -0.0, 1e-30, -3.4e38, Float.leastNonzeroMagnitude, 123_456.78, 0.1]
        var trainScalars: [[Any]] = []
        for (step, value) in values.enumerated() {
            try train.appendScalar(tag: "batch_loss", value: value, step: Int64(step), wallTime: 1_700_000_000 + Double(step))
            // JSON writers drop the sign of zero; the checker takes "-0.0" for it.
            trainScalars.append([step, value == 0 && value.sign == .minus ? "-0.0" : Double(value)])
        }
        try validation.appendScalar(tag: "epoch_loss", value: 0.25, step: 320, wallTime: 1_700_000_100)
        try validation.appendScalar(tag: "epoch_loss", value: 0.125, step: 640, wallTime: 1_700_000_200)

        let histogram = HistogramProto(
            min: -0.5, max: 2.25, num: 6, sum: 3.5, sumSquares: 7.8125,
            bucketLimit: [-0.5, 0, 1e-12, 2.5937424601000023, Double.greatestFiniteMagnitude], bucket: [1, 0, 2, 3, 0])
        try train.append(Event(wallTime: 1_700_000_050, step: 1, what: .summary(Summary(values: [
            .init(tag: "dense_kernel_0", kind: .histogram(histogram)),
            .init(tag: "dense_kernel_0/image/0", kind: .image(SummaryImage(height: 2, width: 2, colorspace: 1, encodedImage: png))),
            .init(tag: "custom", metadata: SummaryMetadata(pluginName: "custom_plugin"),
                  kind: .tensor(TensorProto(dtype: .float, shape: [2, 3], floatValues: [1, 2, 3, -4, 5.5, 0]))),
        ]))))
        try train.append(Event(wallTime: 1_700_000_051, step: 0, what: .graphDef(graphDef)))
        try train.append(Event(wallTime: 1_700_000_052, step: 2, what: .taggedRunMetadata(TaggedRunMetadata(tag: "batch_2", runMetadata: []))))
        try train.close()
        try validation.close()

        return ["runs": [
            "train": [
                "scalars": ["batch_loss": trainScalars],
                "histograms": ["dense_kernel_0": [[
                    "step": 1, "min": histogram.min, "max": histogram.max, "num": histogram.num, "sum": histogram.sum,
                    "sum_squares": histogram.sumSquares, "bucket_limit": histogram.bucketLimit, "bucket": histogram.bucket,
                ]]],
                "images": ["dense_kernel_0/image/0": [["step": 1, "width": 2, "height": 2, "png_base64": Data(png).base64EncodedString()]]],
                "tensors": ["custom": [["step": 1, "dtype": "DT_FLOAT", "shape": [2, 3], "values": [1, 2, 3, -4, 5.5, 0], "plugin": "custom_plugin"]]],
                "graph": true,
                "run_metadata": ["batch_2": [2]],
            ],
            "validation": ["scalars": ["epoch_loss": [[320, 0.25], [640, 0.125]]]],
        ]]
    }

    static func check(logdir: String, expect: [String: Any], in directory: TemporaryDirectory) throws -> ProcessOutput {
        let expectPath = directory.appending("expect.json")
        try JSONSerialization.data(withJSONObject: expect, options: [.sortedKeys]).write(to: URL(fileURLWithPath: expectPath))
        return try run(venvPython, [checker, "--logdir", logdir, "--expect", expectPath], timeout: 180)
    }

    @Test func tensorBoardReadsEveryKindWeWrite() throws {
        try #require(FileManager.default.isExecutableFile(atPath: venvPython), "run Scripts/setup.sh to create .venv with TensorBoard")
        let directory = TemporaryDirectory()
        let logdir = directory.appending("logs")
        let expect = try Self.writeEveryKind(into: logdir)
        let result = try Self.check(logdir: logdir, expect: expect, in: directory)
        #expect(result.status == 0, "\(result.standardOutput)\n\(result.standardError)")
    }

    /// The same check fails on a wrong expectation and on a copy with one byte changed, and our
    /// reader reports that byte's record as corrupt: the check has teeth.
    @Test func oneChangedByteIsCaughtByUsAndByTheChecker() throws {
        try #require(FileManager.default.isExecutableFile(atPath: venvPython), "run Scripts/setup.sh to create .venv with TensorBoard")
        let directory = TemporaryDirectory()
        let logdir = directory.appending("logs")
        var expect = try Self.writeEveryKind(into: logdir)

        var runs = expect["runs"] as! [String: Any]
        var validation = runs["validation"] as! [String: Any]
        validation["scalars"] = ["epoch_loss": [[320, 0.25], [640, 0.126]]]
        runs["validation"] = validation
        var wrong = expect
        wrong["runs"] = runs
        let wrongResult = try Self.check(logdir: logdir, expect: wrong, in: directory)
        // The mismatch itself, not any exit status 1 (a Python traceback exits 1 too).
        Self.expectMismatches(wrongResult, [", scalars 'epoch_loss', step 640: value 0.125"])

        let trainFile = try FileManager.default.contentsOfDirectory(atPath: logdir + "/train").first!
        let path = logdir + "/train/" + trainFile
        var contents = try Data(contentsOf: URL(fileURLWithPath: path))
        let position = contents.count - 30
        contents[position] ^= 0x20
        try contents.write(to: URL(fileURLWithPath: path))

        let reader = try EventFileReader(path: path)
        var last = try reader.nextEvent()
        while case .event = last { last = try reader.nextEvent() }
        guard case .corrupt(let offset, _) = last else {
            Issue.record("our reader did not report the changed byte: \(last)")
            return
        }
        #expect(offset < Int64(position))
        let report = try LogDirectoryReport.scan(logdir)
        #expect(report.hasFailures)

        expect = try Self.writeEveryKind(into: directory.appending("unused"))
        let corruptResult = try Self.check(logdir: logdir, expect: expect, in: directory)
        Self.expectMismatches(corruptResult, ["file train/\(trainFile): record ", " CRC mismatch"])
    }

    /// Checks that tensorboard_check.py ran to its end and reported mismatches, one of them a
    /// line holding each of `parts`, in order.
    static func expectMismatches(_ result: ProcessOutput, _ parts: [String], sourceLocation: SourceLocation = #_sourceLocation) {
        let output = "\(result.standardOutput)\n\(result.standardError)"
        #expect(result.status == 1, "\(output)", sourceLocation: sourceLocation)
        #expect(!result.standardError.contains("Traceback"), "\(output)", sourceLocation: sourceLocation)
        let lines = result.standardOutput.split(separator: "\n").map(String.init)
        #expect(lines.last?.hasPrefix("tensorboard_check: FAILED, ") == true, "\(output)", sourceLocation: sourceLocation)
        let matching = lines.filter { line in
            var rest = Substring(line)
            for part in parts {
                guard let range = rest.range(of: part) else { return false }
                rest = rest[range.upperBound...]
            }
            return true
        }
        #expect(!matching.isEmpty, "no mismatch line with \(parts): \(output)", sourceLocation: sourceLocation)
    }
}
