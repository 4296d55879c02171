import Foundation
import RingboardFormat
import RingboardTestSupport
import Testing

/// libringboard.so from C: `Tests/CABI/ringboard_abi_test.c`, compiled with `cc` against
/// `ringboard.h` and the library built here (as `libringboard.so`), run as a real process with
/// the aggregator started on demand. Its refusals are checked by the program itself; the event
/// files of its training run are compared with what the TF 2.0 callback writes for the hooks it
/// made (the trace it wrote beside them, through `Tests/Conformance/keras_reference.py`).
@Suite struct CInterfaceTests {
    @Test func aCProgramTrainsThroughTheInterface() throws {
        try #require(FileManager.default.isExecutableFile(atPath: venvPython), "run Scripts/setup.sh to create .venv")
        let library = productsDirectory + "/libRingboardC.so"
        try #require(FileManager.default.fileExists(atPath: library), "\(library) is missing: build every product (swift build --build-tests)")
        let directory = TemporaryDirectory("ringboard-cabi")
        // The name the library is shipped under, so that the program links and loads it as users do.
        try FileManager.default.copyItem(atPath: library, toPath: directory.appending("libringboard.so"))
        let program = directory.appending("ringboard_abi_test")
        let compiled = try run("/usr/bin/env", [
            "cc", "-std=c11", "-Wall", "-Wextra", "-Werror", "-I", packageRoot + "/Sources/CRingboardABI/include",
            packageRoot + "/Tests/CABI/ringboard_abi_test.c", "-L", directory.path, "-lringboard",
            "-Wl,-rpath," + directory.path, "-lpthread", "-o", program,
        ])
        try #require(compiled.status == 0, "cc failed:\n\(compiled.standardError)")

        let logs = directory.appending("logs"), trace = directory.appending("trace.jsonl")
        let result = try run(program, [directory.appending("rings"), logs, productsDirectory + "/ringboard", trace], timeout: 120)
        #expect(result.status == 0, "\(result.standardOutput)\n\(result.standardError)")
        #expect(result.standardOutput == "ok\n")

        let expected = directory.appending("expected.json")
        let reference = try run(venvPython, [packageRoot + "/Tests/Conformance/keras_reference.py", trace, "--out", expected])
        try #require(reference.status == 0, "\(reference.standardError)")
        let compared = try run(venvPython, [packageRoot + "/Tests/Conformance/compare_replay.py", "--logdir", logs, "--expected", expected])
        #expect(compared.status == 0, "\(compared.standardOutput)\n\(compared.standardError)")
        // Scalars of both runs, two histograms and their images per epoch: not an empty match.
        #expect(compared.standardOutput.contains("11 series match"), "\(compared.standardOutput)")
        // The SummaryWriter's summaries: each kind, in the writer's directory and its add_scalars one.
        var kinds: [String: Int] = [:]
        for folder in [logs + "-writer", logs + "-writer/curves_warm", logs + "-writer/exp"] {
            for name in try FileManager.default.contentsOfDirectory(atPath: folder) where name.hasPrefix("events.out.tfevents.") {
                let reader = try EventFileReader(path: folder + "/" + name)
                while case .event(let event, _) = try reader.nextEvent() {
                    if case .graphDef = event.what { kinds["graph", default: 0] += 1 }
                    if case .other(7, [0x08, 0x01]) = event.what, event.step == 1000 { kinds["session start", default: 0] += 1 }
                    guard case .summary(let summary) = event.what else { continue }
                    for value in summary.values {
                        let kind = switch value.kind {
                        case .simpleValue: "scalar"
                        case .histogram: "histogram"
                        case .image: "image"
                        case .audio: "audio"
                        case .tensor: value.metadata?.pluginName ?? "tensor"
                        case .none: value.metadata?.pluginName ?? "none"
                        default: "other"
                        }
                        kinds["\(value.tag) \(kind)", default: 0] += 1
                    }
                }
            }
        }
        #expect(kinds == ["loss scalar": 100, "curves scalar": 1, "notes/text_summary text": 1, "picture image": 1,
                          "_hparams_/experiment hparams": 1, "_hparams_/session_start_info hparams": 1, "_hparams_/session_end_info hparams": 1,
                          "custom_scalars__config__ custom_scalars": 1, "pr pr_curves": 1, "sound audio": 1, "cloud_VERTEX mesh": 1,
                          "cloud_COLOR mesh": 1, "weights histogram": 3, "graph": 1,
                          "loss scalars": 1, "session start": 1])
        #expect(try String(contentsOfFile: logs + "-writer/00004/default/tensors.tsv", encoding: .utf8) == "1.0\t2.0\n3.0\t4.0\n5.0\t6.0\n")
        #expect(try String(contentsOfFile: logs + "-writer/00004/default/metadata.tsv", encoding: .utf8) == "a\nb\nc\n")
    }

    /// The library's version (ringboard_version) is the Python package's.
    @Test func theLibraryVersionIsThePackageVersion() throws {
        let header = try String(contentsOfFile: packageRoot + "/Sources/CRingboardABI/include/ringboard_internal.h", encoding: .utf8)
        let project = try String(contentsOfFile: packageRoot + "/python/src/ringboard/__init__.py", encoding: .utf8)
        let libraryVersion = header.firstMatch(of: /RINGBOARD_LIBRARY_VERSION "([^"]+)"/)?.1
        let packageVersion = project.firstMatch(of: /\n__version__ = "([^"]+)"/)?.1
        #expect(libraryVersion != nil && libraryVersion == packageVersion)
    }
}
