import ArgumentParser
import Foundation
import RingboardFormat

extension RingboardCommand {
    /// `ringboard inspect LOGDIR`: runs, files, tags and a verdict per file.
    struct Inspect: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Summarise the event files of a log directory and check every record's CRCs.",
            discussion: """
                For each run (a directory holding event files) and each file: the tags by kind \
                with their step range and count, the first and last wall time, and a verdict: \
                'ok', 'truncated at N' (the file ends inside the record at byte N, as a file \
                still being written does) or 'corrupt at N'. Exits 1 when any file is corrupt \
                or unreadable, 2 when LOGDIR cannot be read at all.

                Examples:
                  ringboard inspect logs/ringboard-demo
                  ringboard inspect logs/ringboard-demo --json
                """
        )

        @Argument(help: "A log directory, or a single event file.")
        var logdir: String

        @Flag(help: "Print the report as JSON.")
        var json = false

        @Flag(name: .customLong("files"), inversion: .prefixedNo, help: "List each file's own tags, not only each run's.")
        var showFiles = true

        func run() throws {
            let report: LogDirectoryReport
            do {
                var progress = ProgressLine()
                report = try LogDirectoryReport.scan(logdir) { done, total in
                    guard total >= 20 else { return }
                    progress.update("reading event files: \(done)/\(total)")
                    if done == total { progress.clear() }
                }
            } catch {
                printError("inspect", Inspect.explain(error))
                throw ExitCode(2)
            }
            if report.runs.isEmpty {
                printError("inspect", "no event files (names containing 'tfevents') under \(logdir)")
                throw ExitCode(2)
            }
            if report.isSingleFile, let file = report.runs.first?.files.first, file.records == 0 {
                switch file.verdict {
                case .corrupt(let at, let reason):
                    printError("inspect", "\(logdir): not an event file (\(reason) at byte \(at))")
                    throw ExitCode(1)
                case .unreadable(let reason):
                    printError("inspect", reason)
                    throw ExitCode(1)
                case .ok, .truncated:
                    break
                }
            }
            if json {
                print(try InspectJSON.render(report))
            } else {
                print(InspectText.render(report, showFiles: showFiles), terminator: "")
            }
            if report.hasFailures { throw ExitCode(1) }
        }

        static func explain(_ error: EventFileError) -> String {
            switch error {
            case .systemCall("stat", let path, .noSuchFileOrDirectory):
                "no such file or directory: \(path)"
            case .systemCall(_, let path, .permissionDenied):
                "permission denied: \(path)"
            default:
                error.description
            }
        }
    }
}

/// The human-readable report.
enum InspectText {
    static func render(_ report: LogDirectoryReport, showFiles: Bool) -> String {
        let fileCount = report.runs.reduce(0) { $0 + $1.files.count }
        let byteCount = report.runs.reduce(Int64(0)) { total, run in total + run.files.reduce(0) { $0 + $1.bytes } }
        var out = "\(report.root): \(plural(report.runs.count, "run")), \(plural(fileCount, "event file")), \(bytes(byteCount))\n"
        for run in report.runs {
            out += "\nrun \(run.name)\n"
            for file in run.files {
                var line = "  \(file.name)  \(file.verdict)  \(plural(file.records, "record")), \(bytes(file.bytes))"
                if let first = file.firstWallTime, let last = file.lastWallTime {
                    line += ", \(time(first)) … \(time(last))"
                }
                out += line + "\n"
                if showFiles && run.files.count > 1 {
                    out += table(file.tags, indent: "      ")
                }
            }
            out += table(run.tags, indent: "    ")
        }
        return out
    }

    static func table(_ tags: [LogDirectoryReport.Tag], indent: String) -> String {
        guard !tags.isEmpty else { return "\(indent)(no tags)\n" }
        let kindWidth = max(4, tags.map { $0.kind.rawValue.count }.max() ?? 0)
        let tagWidth = max(3, tags.map { $0.tag.count }.max() ?? 0)
        let stepsWidth = max(5, tags.map { steps($0).count }.max() ?? 0)
        var out = indent + pad("kind", kindWidth) + "  " + pad("tag", tagWidth) + "  " + pad("steps", stepsWidth) + "  count\n"
        for tag in tags {
            out += indent + pad(tag.kind.rawValue, kindWidth) + "  " + pad(tag.tag, tagWidth) + "  "
                + pad(steps(tag), stepsWidth) + "  \(tag.count)\n"
        }
        return out
    }

    static func steps(_ tag: LogDirectoryReport.Tag) -> String {
        tag.firstStep == tag.lastStep ? "\(tag.firstStep)" : "\(tag.firstStep)…\(tag.lastStep)"
    }

    static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
    }

    static func plural(_ count: Int, _ noun: String) -> String {
        "\(count) \(noun)\(count == 1 ? "" : "s")"
    }

    static func bytes(_ count: Int64) -> String {
        if count < 1024 { return "\(count) B" }
        let units = ["KiB", "MiB", "GiB", "TiB"]
        var value = Double(count) / 1024
        var unit = 0
        while value >= 1024 && unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return String(format: "%.1f %@", value, units[unit])
    }

    static func time(_ seconds: Double) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: Date(timeIntervalSince1970: seconds))
    }
}

/// The machine-readable report (`--json`).
enum InspectJSON {
    struct Report: Encodable {
        var logdir: String
        var ok: Bool
        var runs: [Run]
    }

    struct Run: Encodable {
        var name: String
        var files: [File]
        var tags: [Tag]
    }

    struct File: Encodable {
        var name: String
        var bytes: Int64
        var records: Int
        var verdict: String
        var verdictOffset: Int64?
        var reason: String?
        var firstWallTime: Double?
        var lastWallTime: Double?
        var tags: [Tag]

        enum CodingKeys: String, CodingKey {
            case name, bytes, records, verdict, reason, tags
            case verdictOffset = "verdict_offset"
            case firstWallTime = "first_wall_time"
            case lastWallTime = "last_wall_time"
        }
    }

    struct Tag: Encodable {
        var tag: String
        var kind: String
        var count: Int
        var firstStep: Int64
        var lastStep: Int64

        enum CodingKeys: String, CodingKey {
            case tag, kind, count
            case firstStep = "first_step"
            case lastStep = "last_step"
        }
    }

    static func render(_ report: LogDirectoryReport) throws -> String {
        let tags = { (tags: [LogDirectoryReport.Tag]) in
            tags.map { Tag(tag: $0.tag, kind: $0.kind.rawValue, count: $0.count, firstStep: $0.firstStep, lastStep: $0.lastStep) }
        }
        let runs = report.runs.map { run in
            Run(
                name: run.name,
                files: run.files.map { file in
                    var entry = File(
                        name: file.name, bytes: file.bytes, records: file.records, verdict: "ok",
                        firstWallTime: file.firstWallTime, lastWallTime: file.lastWallTime, tags: tags(file.tags))
                    switch file.verdict {
                    case .ok: break
                    case .truncated(let at): (entry.verdict, entry.verdictOffset) = ("truncated", at)
                    case .corrupt(let at, let reason): (entry.verdict, entry.verdictOffset, entry.reason) = ("corrupt", at, reason)
                    case .unreadable(let reason): (entry.verdict, entry.reason) = ("unreadable", reason)
                    }
                    return entry
                },
                tags: tags(run.tags))
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let data = try encoder.encode(Report(logdir: report.root, ok: !report.hasFailures, runs: runs))
        return String(decoding: data, as: UTF8.self)
    }
}
