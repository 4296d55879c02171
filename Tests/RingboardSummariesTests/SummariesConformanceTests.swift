import Foundation
import RingboardFormat
import RingboardTestSupport
import Testing
@testable import RingboardSummaries

/// The Keras model graph, a profiled batch and the projector, written by us and read by the real
/// TensorBoard (`Tests/Conformance/tensorboard_check.py`: EventAccumulator, and the data server's
/// graph and projector routes over HTTP).
@Suite struct SummariesConformanceTests {
    static let layers = [
        KerasModelGraph.Layer(name: "embedding", className: "Embedding",
                              configJSON: #"{"name": "embedding", "input_dim": 4, "output_dim": 3, "dtype": "float32"}"#),
        KerasModelGraph.Layer(name: "flatten", className: "Flatten"),
        KerasModelGraph.Layer(name: "dense \"out\"", className: "Dense"),
    ]

    @Test func sequentialJSONIsWhatKerasWrites() throws {
        let json = KerasModelGraph.sequentialJSON(name: "model", layers: Self.layers)
        let object = try JSONSerialization.jsonObject(with: Data(json.utf8)) as! [String: Any]
        #expect(object["class_name"] as? String == "Sequential")
        let config = object["config"] as! [String: Any]
        #expect(config["name"] as? String == "model")
        let layers = config["layers"] as! [[String: Any]]
        #expect(layers.map { $0["class_name"] as! String } == ["Embedding", "Flatten", "Dense"])
        #expect(layers.map { ($0["config"] as! [String: Any])["name"] as! String } == ["embedding", "flatten", "dense \"out\""])
        #expect((layers[0]["config"] as! [String: Any])["output_dim"] as? Int == 3)
    }

    @Test func projectorConfigText() {
        let text = Projector.configText([
            Projector.Embedding(tensorName: "embedding/embeddings:0", rows: 4, columns: 3, metadataPath: "meta\"data\".tsv"),
        ])
        #expect(text == """
            embeddings {
              tensor_name: "embedding/embeddings:0"
              metadata_path: "meta\\"data\\".tsv"
              tensor_shape: 4
              tensor_shape: 3
              tensor_path: "train/embedding_embeddings_0.tsv"
            }

            """)
        #expect(Projector.textFormatString("é\n") == #""\303\251\n""#)
    }

    @Test func tsvRoundTripsFloat32() {
        let values: [Float] = [0.1, -2, 1e-30, 3.4028235e38, 0, -0.0]
        let text = Projector.tsv(values, columns: 3)
        #expect(text == "0.1\t-2.0\t1e-30\n3.4028235e+38\t0.0\t-0.0\n")
        let parsed = text.split(whereSeparator: { $0 == "\t" || $0 == "\n" }).map { Float(String($0))! }
        #expect(parsed.map(\.bitPattern) == values.map(\.bitPattern))
    }

    /// 2025-11-28 01:04:05 UTC, named in zones 5:45 ahead of UTC and 9:30 behind it (POSIX `TZ`
    /// strings, so no zone database is needed). `TZ` is set in a child process: setting it here
    /// would race with every other thread that reads the environment.
    @Test func traceSessionNamesAreLocalTime() async throws {
        let result = try await #require(processExitsWith: .success, observing: [\.standardErrorContent]) {
            var failures: [String] = []
            for (zone, expected) in [("<+0545>-5:45", "2025_11_28_06_49_05"), ("<-0930>9:30", "2025_11_27_15_34_05")] {
                setenv("TZ", zone, 1)
                tzset()
                var seconds = time_t(1_764_291_845), parts = tm()
                localtime_r(&seconds, &parts)
                // The expectation holds in this zone (the TZ string took effect), and is not UTC's.
                if parts.tm_hour != Int32(expected.split(separator: "_")[3])! || expected == "2025_11_28_01_04_05" {
                    failures.append("TZ=\(zone): localtime_r gives hour \(parts.tm_hour), not \(expected)'s")
                }
                let name = ProfileTrace.sessionName(wallTime: 1_764_291_845)
                if name != expected { failures.append("TZ=\(zone): \(name), expected \(expected)") }
            }
            // Told on standard error, for the message below.
            FileHandle.standardError.write(Data(failures.joined(separator: "\n").utf8))
        }
        #expect(result.standardErrorContent.isEmpty, "\(String(decoding: result.standardErrorContent, as: UTF8.self))")
    }

    /// The trace file is gzip'd Chrome trace-event JSON, as Python's gzip and json read it.
    @Test func traceFileReadsBackWithPython() throws {
        try #require(FileManager.default.isExecutableFile(atPath: venvPython), "run Scripts/setup.sh to create .venv")
        let directory = TemporaryDirectory()
        let spans = [
            ProfileTrace.Span(name: "on_train_batch_begin", category: "hook", startMicroseconds: 1_764_000_000_000_000,
                              durationMicroseconds: 1.5, processID: 0, threadID: 7),
            ProfileTrace.Span(name: "forward \"pass\"", category: "user", startMicroseconds: 1_764_000_000_000_010,
                              durationMicroseconds: 250, processID: 1, threadID: 9, arguments: [("layer", "dense\n1")]),
        ]
        let path = try ProfileTrace.write(spans: spans, processNames: [0: "rank 0", 1: "rank 1"],
                                          runDirectory: directory.appending("logs/train"), host: "node-3", wallTime: 1_764_291_845)[0]
        #expect(path.hasPrefix(directory.appending("logs/train/plugins/profile/")))
        #expect(path.hasSuffix("/node-3.trace.json.gz"))
        let script = """
            import gzip, json, sys
            trace = json.load(gzip.open(sys.argv[1]))
            events = [e for e in trace["traceEvents"] if e["ph"] == "X"]
            names = [e for e in trace["traceEvents"] if e["ph"] == "M"]
            assert [e["name"] for e in events] == ["on_train_batch_begin", 'forward "pass"'], events
            assert events[1]["args"] == {"layer": "dense\\n1"}, events[1]
            assert events[1]["dur"] == 250 and events[0]["dur"] == 1.5 and events[1]["tid"] == 9
            assert [n["args"]["name"] for n in names] == ["rank 0", "rank 1"]
            print("ok")
            """
        let result = try run(venvPython, ["-c", script, path])
        #expect(result.status == 0, "\(result.standardError)")
    }

    /// Beside the JSON, the `.xplane.pb` that XProf (the current profile plugin) reads, decoded
    /// with XProf's own descriptor (`Tests/Conformance/xplane.py`): plane `/host:CPU`, a line per
    /// thread, events at their offsets from the first span with their durations, integer and
    /// string arguments as stats, and every metadata id equal to its key.
    @Test func xplaneFileReadsBackWithXProfsDescriptor() throws {
        try #require(FileManager.default.isExecutableFile(atPath: venvPython), "run Scripts/setup.sh to create .venv")
        let directory = TemporaryDirectory()
        let spans = [
            ProfileTrace.Span(name: "on_train_batch_begin", category: "hook", startMicroseconds: 1_764_000_000_000_000,
                              durationMicroseconds: 0, processID: 0, threadID: 0, arguments: [("batch", "2")]),
            ProfileTrace.Span(name: "forward", category: "user", startMicroseconds: 1_764_000_000_000_010.5,
                              durationMicroseconds: 250.25, processID: 0, threadID: 4242, arguments: [("layer", "dense\n1"), ("batch", "-3")]),
            ProfileTrace.Span(name: "on_train_batch_end", category: "hook", startMicroseconds: 1_764_000_000_000_400,
                              durationMicroseconds: 0, processID: 0, threadID: 0, arguments: [("batch", "2")]),
        ]
        let paths = try ProfileTrace.write(spans: spans, runDirectory: directory.appending("logs/train"), host: "node-3",
                                           wallTime: 1_764_291_845, threadNames: [0: "trainer"])
        #expect(paths.map { $0.split(separator: "/").last! } == ["node-3.trace.json.gz", "node-3.xplane.pb"])
        let script = """
            import sys
            sys.path.insert(0, sys.argv[1])
            import xplane
            problems = []
            events = xplane.read(sys.argv[2], problems)
            assert not problems, problems
            assert events == [
                (0, "trainer", "on_train_batch_begin", 0.0, 0.0, {"batch": "2"}),
                (0, "trainer", "on_train_batch_end", 400.0, 0.0, {"batch": "2"}),
                (4242, "thread 4242", "forward", 10.5, 250.25, {"layer": "dense\\n1", "batch": "-3"}),
            ], events
            print("ok")
            """
        let read = try run(venvPython, ["-c", script, packageRoot + "/Tests/Conformance", paths[1]])
        #expect(read.status == 0 && read.standardOutput == "ok\n", "\(read.standardOutput)\(read.standardError)")
        let compared = try run(venvPython, [packageRoot + "/Tests/Conformance/xplane.py", directory.appending("logs")])
        #expect(compared.status == 0, "\(compared.standardOutput)")
        #expect(compared.standardOutput == "xplane: ok, 1 sessions, 3 spans in both files\n")
    }

    @Test func tensorBoardShowsTheModelTheTraceStepAndTheProjector() throws {
        try #require(FileManager.default.isExecutableFile(atPath: venvPython), "run Scripts/setup.sh to create .venv")
        let directory = TemporaryDirectory()
        let logdir = directory.appending("logs")
        let json = KerasModelGraph.sequentialJSON(name: "model", layers: Self.layers)
        let writer = try EventFileWriter(directory: logdir + "/train")
        let graph = LayerGraph.graphDef(LayerGraph.sequential(Self.layers.map { (name: $0.name, className: $0.className) }))
        try writer.append(Event(wallTime: 1_764_000_000, step: 0, what: .graphDef(graph)))
        try writer.append(Event(wallTime: 1_764_000_000, step: 0, what: .summary(Summary(values: [KerasModelGraph.summaryValue(modelJSON: json)]))))
        let spans = [ProfileTrace.Span(name: "on_train_batch_end", category: "hook", startMicroseconds: 1_764_000_000_000_000,
                                       durationMicroseconds: 12, processID: 0, threadID: 1)]
        try writer.append(ProfileTrace.runMetadataEvent(step: 2, spans: spans, graphDef: graph, wallTime: 1_764_000_001))
        try writer.close()
        let embedding: [Float] = (0..<12).map { Float($0) * 0.25 - 1 }
        let metadata = "word\nalpha\nbeta\ngamma\ndelta\n"
        try metadata.write(toFile: logdir + "/metadata.tsv", atomically: false, encoding: .utf8)
        try Projector.write([(Projector.Embedding(tensorName: "embedding/embeddings:0", rows: 4, columns: 3, metadataPath: "metadata.tsv"), embedding)],
                            logDirectory: logdir)

        let expect: [String: Any] = [
            "runs": ["train": [
                "tensors": ["keras": [["step": 0, "dtype": "DT_STRING", "shape": [Int](), "values": [json], "plugin": "graph_keras_model"]]],
                "graph": true,
                "run_metadata": ["batch_2": [2]],
            ]],
            "projector": ["run": ".", "embeddings": ["embedding/embeddings": [
                "shape": [4, 3], "values": embedding.map(Double.init), "metadata": metadata,
            ]]],
        ]
        let expectPath = directory.appending("expect.json")
        try JSONSerialization.data(withJSONObject: expect).write(to: URL(fileURLWithPath: expectPath))
        let result = try run(venvPython, [packageRoot + "/Tests/Conformance/tensorboard_check.py", "--logdir", logdir, "--expect", expectPath], timeout: 180)
        #expect(result.status == 0, "\(result.standardOutput)\n\(result.standardError)")

        // One embedding value off: the projector route must show the difference.
        var wrong = expect
        var shifted = embedding.map(Double.init)
        shifted[5] += 0.5
        wrong["projector"] = ["run": ".", "embeddings": ["embedding/embeddings": ["shape": [4, 3], "values": shifted]]]
        try JSONSerialization.data(withJSONObject: wrong).write(to: URL(fileURLWithPath: expectPath))
        let failed = try run(venvPython, [packageRoot + "/Tests/Conformance/tensorboard_check.py", "--logdir", logdir, "--expect", expectPath], timeout: 180)
        #expect(failed.status == 1)
        #expect(failed.standardOutput.contains("projector"), "\(failed.standardOutput)")
    }

    /// Weight images as the callback writes them (`write_images`): a conv kernel's channels and a
    /// transposed dense kernel, with a NaN; the data server serves exactly the PNG bytes we wrote.
    @Test func tensorBoardServesOurWeightImages() throws {
        try #require(FileManager.default.isExecutableFile(atPath: venvPython), "run Scripts/setup.sh to create .venv")
        let directory = TemporaryDirectory()
        let logdir = directory.appending("logs")
        var generator = SeededGenerator(seed: 3)
        let conv = (0..<(3 * 3 * 4)).map { _ in Float.random(in: -1...1, using: &generator) }
        var dense = (0..<(5 * 3)).map { _ in Float.random(in: 0...2, using: &generator) }
        dense[4] = .nan
        let writer = try EventFileWriter(directory: logdir + "/train")
        var expectedImages: [String: [[String: Any]]] = [:]
        for (step, (name, shape, values)) in [("conv/kernel_0", [3, 3, 4], conv), ("dense/kernel_0", [5, 3], dense)].enumerated() {
            let summaryValues = try #require(try WeightImage.summaryValues(name: name, shape: shape, values: values))
            try writer.append(Event(wallTime: 1_764_000_000 + Double(step), step: Int64(step), what: .summary(Summary(values: summaryValues))))
            for value in summaryValues {
                guard case .image(let image) = value.kind else { continue }
                expectedImages[value.tag] = [["step": step, "width": Int(image.width), "height": Int(image.height),
                                              "png_base64": Data(image.encodedImage).base64EncodedString()]]
            }
        }
        try writer.close()
        #expect(expectedImages.keys.sorted() == ["conv/kernel_0/image/0", "conv/kernel_0/image/1", "conv/kernel_0/image/2", "dense/kernel_0/image/0"])
        // The dense kernel [5, 3] is shown transposed: 3 rows of 5.
        #expect(expectedImages["dense/kernel_0/image/0"]?.first?["height"] as? Int == 3)
        let expectPath = directory.appending("expect.json")
        try JSONSerialization.data(withJSONObject: ["runs": ["train": ["images": expectedImages]]]).write(to: URL(fileURLWithPath: expectPath))
        let result = try run(venvPython, [packageRoot + "/Tests/Conformance/tensorboard_check.py", "--logdir", logdir, "--expect", expectPath], timeout: 180)
        #expect(result.status == 0, "\(result.standardOutput)\n\(result.standardError)")
    }
}
