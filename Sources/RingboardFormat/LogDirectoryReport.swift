/// What a log directory holds, as TensorBoard would see it: runs (directories with event files),
/// their files, and per file the tags by kind with their step ranges, and whether the file reads
/// cleanly to its end.
public struct LogDirectoryReport: Sendable, Equatable {
    /// The directory (or single event file) that was scanned.
    public var root: String
    /// Runs by name, sorted.
    public var runs: [Run]
    /// Whether `root` is a single event file rather than a directory.
    public var isSingleFile = false

    /// A run: a directory holding event files.
    public struct Run: Sendable, Equatable {
        /// The directory relative to the root; `.` for the root itself.
        public var name: String
        /// The run's event files, sorted by name (which sorts them by creation time).
        public var files: [File]
        /// The tags of all its files together.
        public var tags: [Tag]
    }

    /// One event file.
    public struct File: Sendable, Equatable {
        /// The file name.
        public var name: String
        /// The file's size in bytes.
        public var bytes: Int64
        /// Records read with valid checksums.
        public var records: Int
        /// Whether the file read cleanly.
        public var verdict: Verdict
        /// The wall time of the first and the last event, seconds since the Unix epoch.
        public var firstWallTime: Double?
        public var lastWallTime: Double?
        /// The tags found, sorted by kind then tag.
        public var tags: [Tag]
    }

    /// How reading a file ended.
    public enum Verdict: Sendable, Equatable, CustomStringConvertible {
        /// Every record is whole and its checksums match.
        case ok
        /// The file ends inside the record at this byte offset (still being written, or cut).
        case truncated(at: Int64)
        /// The record at this byte offset is damaged.
        case corrupt(at: Int64, reason: String)
        /// The file could not be read at all.
        case unreadable(reason: String)

        /// `ok`, `truncated at N`, `corrupt at N (reason)` or `unreadable (reason)`.
        public var description: String {
            switch self {
            case .ok: "ok"
            case .truncated(let at): "truncated at \(at)"
            case .corrupt(let at, let reason): "corrupt at \(at) (\(reason))"
            case .unreadable(let reason): "unreadable (\(reason))"
            }
        }

        /// Whether the file is damaged or unreadable (a truncated tail is not damage).
        public var isFailure: Bool {
            switch self {
            case .ok, .truncated: false
            case .corrupt, .unreadable: true
            }
        }
    }

    /// The kind of data a tag holds, as TensorBoard's plugins divide them.
    public enum Kind: String, Sendable, Codable, Comparable {
        case scalar, histogram, image, audio, tensor, graph
        /// A `RunMetadata`: an `Event.tagged_run_metadata`, or a summary value of plugin
        /// `graph_run_metadata` (what TF 2's `trace_export` writes for a profiled batch).
        case runMetadata = "run_metadata"

        public static func < (lhs: Kind, rhs: Kind) -> Bool {
            order(lhs) < order(rhs)
        }

        private static func order(_ kind: Kind) -> Int {
            switch kind {
            case .scalar: 0
            case .histogram: 1
            case .image: 2
            case .audio: 3
            case .tensor: 4
            case .graph: 5
            case .runMetadata: 6
            }
        }
    }

    /// A tag: its kind, how many values it has and the steps they span.
    public struct Tag: Sendable, Equatable {
        /// The tag; `__graph__` for the run's `graph_def`.
        public var tag: String
        /// What it holds.
        public var kind: Kind
        /// How many values.
        public var count: Int
        /// The smallest and largest step.
        public var firstStep: Int64
        public var lastStep: Int64
    }

    /// The tag TensorBoard files a run's `graph_def` under.
    public static let graphTag = "__graph__"

    /// Whether any file is damaged or unreadable.
    public var hasFailures: Bool {
        runs.contains { $0.files.contains { $0.verdict.isFailure } }
    }
}

extension LogDirectoryReport {
    /// Scans a log directory (every event file in it and below it), or one event file.
    ///
    /// - Parameters:
    ///   - path: A log directory or an event file.
    ///   - progress: Called after each file with the number of files done and the total.
    /// - Returns: The report.
    /// - Throws: `EventFileError` when the path does not exist, is neither a directory nor a
    ///   regular file, or when a directory cannot be listed.
    public static func scan(
        _ path: String, progress: (_ done: Int, _ total: Int) -> Void = { _, _ in }
    ) throws(EventFileError) -> LogDirectoryReport {
        let root = path.count > 1 && path.hasSuffix("/") ? String(path.dropLast()) : path
        let files: [(run: String, name: String, path: String)]
        switch try fileKind(of: root) {
        case .regularFile:
            let name = root.split(separator: "/").last.map(String.init) ?? root
            files = [(".", name, root)]
        case .directory:
            files = try eventFiles(under: root)
        case .other:
            throw .notAnEventFile(path: root, reason: "neither a directory nor a regular file")
        }
        var runs: [String: [File]] = [:]
        for (index, file) in files.enumerated() {
            runs[file.run, default: []].append(scanFile(file.path, name: file.name))
            progress(index + 1, files.count)
        }
        let sortedRuns = runs.keys.sorted().map { name in
            let runFiles = runs[name]!.sorted { $0.name < $1.name }
            return Run(name: name, files: runFiles, tags: merge(runFiles.map(\.tags)))
        }
        return LogDirectoryReport(root: root, runs: sortedRuns, isSingleFile: files.count == 1 && files[0].path == root)
    }

    /// Reads one event file to its end, or to the first damaged record.
    static func scanFile(_ path: String, name: String) -> File {
        var file = File(name: name, bytes: 0, records: 0, verdict: .ok, tags: [])
        let reader: EventFileReader
        do {
            reader = try EventFileReader(path: path)
        } catch {
            file.verdict = .unreadable(reason: error.description)
            return file
        }
        var tags = TagCounter()
        reading: while true {
            let item: EventFileReader.EventItem
            do {
                item = try reader.nextEvent()
            } catch {
                file.verdict = .unreadable(reason: error.description)
                break
            }
            switch item {
            case .event(let event, _):
                file.records += 1
                if file.firstWallTime == nil { file.firstWallTime = event.wallTime }
                file.lastWallTime = event.wallTime
                tags.count(event)
            case .end:
                break reading
            case .truncated(let offset):
                file.verdict = .truncated(at: offset)
                break reading
            case .corrupt(let offset, let why):
                file.verdict = .corrupt(at: offset, reason: why.description)
                break reading
            }
        }
        file.bytes = (try? size(of: path)) ?? reader.offset
        file.tags = tags.tags
        return file
    }

    static func merge(_ lists: [[Tag]]) -> [Tag] {
        var merged: [String: Tag] = [:]
        for tag in lists.joined() {
            if var existing = merged[tag.tag] {
                existing.count += tag.count
                existing.firstStep = min(existing.firstStep, tag.firstStep)
                existing.lastStep = max(existing.lastStep, tag.lastStep)
                merged[tag.tag] = existing
            } else {
                merged[tag.tag] = tag
            }
        }
        return TagCounter.sorted(Array(merged.values))
    }
}

/// Counts values per tag while a file is read.
struct TagCounter {
    private var byTag: [String: LogDirectoryReport.Tag] = [:]

    mutating func count(_ event: Event) {
        switch event.what {
        case .summary(let summary):
            for value in summary.values {
                guard let kind = TagCounter.kind(of: value) else { continue }
                add(value.tag, kind, event.step)
            }
        case .graphDef:
            add(LogDirectoryReport.graphTag, .graph, event.step)
        case .taggedRunMetadata(let metadata):
            add(metadata.tag, .runMetadata, event.step)
        case .fileVersion, .other, nil:
            break
        }
    }

    /// The kind TensorBoard files a value under: by its payload, and for tensors by the plugin
    /// named in its metadata (TF 2's `tf.summary` writes every kind as a tensor).
    static func kind(of value: Summary.Value) -> LogDirectoryReport.Kind? {
        switch value.kind {
        case .simpleValue: return .scalar
        case .histogram: return .histogram
        case .image: return .image
        case .audio: return .audio
        case .none: return nil
        case .tensor:
            switch value.metadata?.pluginName {
            case "scalars": return .scalar
            case "histograms": return .histogram
            case "images": return .image
            case "audio": return .audio
            case "graph_keras_model": return .graph
            // TF 2's `trace_export`: a serialized RunMetadata (`graph_run_metadata_graph` when
            // only graphs were traced).
            case "graph_run_metadata", "graph_run_metadata_graph": return .runMetadata
            default: return .tensor
            }
        }
    }

    private mutating func add(_ tag: String, _ kind: LogDirectoryReport.Kind, _ step: Int64) {
        if var existing = byTag[tag] {
            existing.count += 1
            existing.firstStep = min(existing.firstStep, step)
            existing.lastStep = max(existing.lastStep, step)
            byTag[tag] = existing
        } else {
            byTag[tag] = LogDirectoryReport.Tag(tag: tag, kind: kind, count: 1, firstStep: step, lastStep: step)
        }
    }

    var tags: [LogDirectoryReport.Tag] {
        TagCounter.sorted(Array(byTag.values))
    }

    static func sorted(_ tags: [LogDirectoryReport.Tag]) -> [LogDirectoryReport.Tag] {
        tags.sorted { ($0.kind, $0.tag) < ($1.kind, $1.tag) }
    }
}
