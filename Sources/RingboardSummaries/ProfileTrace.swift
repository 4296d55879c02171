import Glibc
import RingboardFormat
internal import CZlib
internal import RingboardSystem

/// The trace of a profiled batch (`profile_batch`): Chrome trace-event JSON, gzip-compressed, at
/// `<run>/plugins/profile/<YYYY_MM_DD_HH_MM_SS>/<host>.trace.json.gz` (the layout TensorFlow's
/// profiler writes), beside it the same spans as an XSpace, `<host>.xplane.pb`, which the current
/// profile plugin (XProf) shows in its trace viewer, plus the `batch_<n>` summary value
/// that carries the traced step's `RunMetadata` in the run, as TF 2.0's `trace_export` writes it.
public enum ProfileTrace {
    /// One span: a hook or a region the trainer recorded.
    public struct Span: Sendable, Equatable {
        /// What ran, e.g. `on_train_batch_end`.
        public var name: String
        /// A category, e.g. `hook` or `user`.
        public var category: String
        /// Start, microseconds since the Unix epoch.
        public var startMicroseconds: Double
        /// Duration in microseconds.
        public var durationMicroseconds: Double
        /// The process (trainer rank or pid) and thread the span ran on.
        public var processID: Int
        public var threadID: Int
        /// Extra string arguments shown with the span.
        public var arguments: [(String, String)]

        /// Creates a span.
        ///
        /// - Parameters:
        ///   - name: What ran.
        ///   - category: A category.
        ///   - startMicroseconds: Start, microseconds since the Unix epoch.
        ///   - durationMicroseconds: Duration in microseconds.
        ///   - processID: The process.
        ///   - threadID: The thread.
        ///   - arguments: Name–value pairs shown with the span.
        public init(
            name: String, category: String, startMicroseconds: Double, durationMicroseconds: Double,
            processID: Int, threadID: Int, arguments: [(String, String)] = []
        ) {
            self.name = name
            self.category = category
            self.startMicroseconds = startMicroseconds
            self.durationMicroseconds = durationMicroseconds
            self.processID = processID
            self.threadID = threadID
            self.arguments = arguments
        }

        public static func == (lhs: Span, rhs: Span) -> Bool {
            lhs.name == rhs.name && lhs.category == rhs.category && lhs.startMicroseconds == rhs.startMicroseconds
                && lhs.durationMicroseconds == rhs.durationMicroseconds && lhs.processID == rhs.processID
                && lhs.threadID == rhs.threadID && lhs.arguments.elementsEqual(rhs.arguments, by: ==)
        }
    }

    /// The trace as Chrome trace-event JSON: complete (`"ph": "X"`) events with microsecond
    /// timestamps, and a process name per process.
    ///
    /// - Parameters:
    ///   - spans: The spans.
    ///   - processNames: Names shown for process ids, e.g. `[0: "rank 0"]`.
    /// - Returns: The JSON text.
    public static func json(spans: [Span], processNames: [Int: String] = [:]) -> String {
        var events: [String] = []
        for (process, name) in processNames.sorted(by: { $0.key < $1.key }) {
            events.append("{\"ph\": \"M\", \"name\": \"process_name\", \"pid\": \(process), \"args\": {\"name\": \(JSONText.quoted(name))}}")
        }
        for span in spans {
            var event = "{\"ph\": \"X\", \"name\": \(JSONText.quoted(span.name)), \"cat\": \(JSONText.quoted(span.category)), "
            event += "\"ts\": \(JSONText.number(span.startMicroseconds)), \"dur\": \(JSONText.number(span.durationMicroseconds)), "
            event += "\"pid\": \(span.processID), \"tid\": \(span.threadID)"
            if !span.arguments.isEmpty {
                event += ", \"args\": {" + span.arguments.map { "\(JSONText.quoted($0.0)): \(JSONText.quoted($0.1))" }.joined(separator: ", ") + "}"
            }
            events.append(event + "}")
        }
        return "{\"displayTimeUnit\": \"ms\", \"traceEvents\": [\n" + events.joined(separator: ",\n") + "\n]}\n"
    }

    /// The trace as an XProf `XSpace` (`tsl/profiler/protobuf/xplane.proto`), the form the
    /// current profile plugin (XProf) reads, as `<host>.xplane.pb`, and shows in its trace viewer:
    /// one plane, `/host:CPU` (XProf reads host threads from that plane only); a line per
    /// thread, in thread order, named by `threadNames` or `thread <id>`; and an event per span, at
    /// its offset from the trace's first span (the lines start at 0: XProf keeps times as int64
    /// picoseconds, which nanoseconds since the Unix epoch would overflow), with its arguments as
    /// stats (an integer as `int64_value`, anything else as `str_value`). Event and stat metadata
    /// are numbered from 1 in order of first use, each id equal to its map key, as XProf requires.
    ///
    /// - Parameters:
    ///   - spans: The spans.
    ///   - host: The host, listed in `hostnames`.
    ///   - threadNames: Names shown for thread ids.
    /// - Returns: The serialized `XSpace`.
    public static func xspace(spans: [Span], host: String, threadNames: [Int: String] = [:]) -> [UInt8] {
        let origin = spans.map(\.startMicroseconds).min() ?? 0
        var eventIDs: [String: UInt64] = [:], eventNames: [String] = []
        var statIDs: [String: UInt64] = [:], statNames: [String] = []
        func number(_ name: String, _ ids: inout [String: UInt64], _ names: inout [String]) -> UInt64 {
            if let id = ids[name] { return id }
            names.append(name)
            ids[name] = UInt64(names.count)
            return UInt64(names.count)
        }
        // Picoseconds from microseconds, clamped at 0 and at what an int64 holds.
        func picoseconds(_ microseconds: Double) -> UInt64 {
            let value = (microseconds * 1e6).rounded()
            return value > 0 ? UInt64(min(value, 9.2e18)) : 0
        }
        var plane = ProtobufMessage()
        plane.appendString(2, "/host:CPU")  // XPlane.name
        for (thread, threadSpans) in Dictionary(grouping: spans, by: \.threadID).sorted(by: { $0.key < $1.key }) {
            var line = ProtobufMessage()
            line.appendVarint(1, UInt64(bitPattern: Int64(thread)))  // XLine.id
            line.appendString(2, threadNames[thread] ?? "thread \(thread)")  // XLine.name
            for span in threadSpans {
                var event = ProtobufMessage()
                event.appendVarint(1, number(span.name, &eventIDs, &eventNames))  // XEvent.metadata_id
                event.appendOneofVarint(2, picoseconds(span.startMicroseconds - origin))  // XEvent.offset_ps
                event.appendVarint(3, picoseconds(span.durationMicroseconds))  // XEvent.duration_ps
                for (name, value) in span.arguments {
                    var stat = ProtobufMessage()
                    stat.appendVarint(1, number(name, &statIDs, &statNames))  // XStat.metadata_id
                    if let integer = Int64(value) {
                        stat.appendOneofVarint(4, UInt64(bitPattern: integer))  // XStat.int64_value
                    } else {
                        stat.appendBytes(5, Array(value.utf8))  // XStat.str_value (present even when empty)
                    }
                    event.appendBytes(4, stat.bytes)  // XEvent.stats
                }
                line.appendBytes(4, event.bytes)  // XLine.events
            }
            plane.appendBytes(3, line.bytes)  // XPlane.lines
        }
        // XPlane.event_metadata and .stat_metadata: maps from id to XEventMetadata and
        // XStatMetadata, both of which start { id = 1, name = 2 }.
        for (field, names) in [(4, eventNames), (5, statNames)] {
            for (index, name) in names.enumerated() {
                var metadata = ProtobufMessage()
                metadata.appendVarint(1, UInt64(index + 1))  // id
                metadata.appendString(2, name)  // name
                var entry = ProtobufMessage()
                entry.appendVarint(1, UInt64(index + 1))  // key
                entry.appendBytes(2, metadata.bytes)  // value
                plane.appendBytes(field, entry.bytes)
            }
        }
        var space = ProtobufMessage()
        space.appendBytes(1, plane.bytes)  // XSpace.planes
        space.appendString(4, host)  // XSpace.hostnames
        return space.bytes
    }

    /// The directory name of one profile session: local time as `YYYY_MM_DD_HH_MM_SS`, as
    /// TensorFlow's profiler names it.
    ///
    /// - Parameter wallTime: Seconds since the Unix epoch.
    /// - Returns: The directory name.
    public static func sessionName(wallTime: Double) -> String {
        var seconds = time_t(wallTime)
        var parts = tm()
        localtime_r(&seconds, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(parts.tm_year + 1900)_\(two(parts.tm_mon + 1))_\(two(parts.tm_mday))_\(two(parts.tm_hour))_\(two(parts.tm_min))_\(two(parts.tm_sec))"
    }

    /// Writes the trace of one profiled batch into its session directory, each file replaced
    /// whole: `<host>.trace.json.gz` (Chrome trace-event JSON, gzip-compressed) and
    /// `<host>.xplane.pb` (`xspace`), which the current profile plugin reads.
    ///
    /// - Parameters:
    ///   - spans: The spans.
    ///   - processNames: Names shown for process ids.
    ///   - runDirectory: The run's directory (the `train` run).
    ///   - host: The host name in the file name.
    ///   - wallTime: When the trace was taken; names the session directory.
    ///   - root: A directory `runDirectory` lies below (or is), the log root: the directories
    ///     from it down are made, or opened, one by one, following no symbolic link. `nil` for
    ///     `runDirectory` itself.
    ///   - threadNames: Names shown for thread ids in the `.xplane.pb`.
    /// - Returns: The paths written: the `.trace.json.gz`, then the `.xplane.pb`.
    /// - Throws: `SummaryFileError` when a file cannot be written (`.outsideRoot` when
    ///   `runDirectory` is not below `root`).
    @discardableResult
    public static func write(
        spans: [Span], processNames: [Int: String] = [:], runDirectory: String, host: String, wallTime: Double,
        confinedTo root: String? = nil, threadNames: [Int: String] = [:]
    ) throws(SummaryFileError) -> [String] {
        let path = tracePath(runDirectory: runDirectory, host: host, wallTime: wallTime)
        let relative = try SummaryFileError.path(traceRelativePath(host: host, wallTime: wallTime), in: runDirectory, confinedTo: root ?? runDirectory)
        let planeRelative = try SummaryFileError.path(
            traceRelativePath(host: host, wallTime: wallTime, suffix: xplaneSuffix), in: runDirectory, confinedTo: root ?? runDirectory)
        let compressed = try gzip(Array(json(spans: spans, processNames: processNames).utf8), path: path)
        do {
            return [try AtomicFile.replace(relative, under: root ?? runDirectory, with: [compressed]),
                    try AtomicFile.replace(planeRelative, under: root ?? runDirectory,
                                           with: [xspace(spans: spans, host: host, threadNames: threadNames)])]
        } catch {
            throw SummaryFileError(error)
        }
    }

    /// The suffixes of the two files of a trace.
    public static let traceSuffix = ".trace.json.gz", xplaneSuffix = ".xplane.pb"

    /// Where `write` puts a trace: `<run>/plugins/profile/<session>/<host>.trace.json.gz`, or
    /// with another suffix (`xplaneSuffix`), the trace's other file.
    ///
    /// - Parameters:
    ///   - runDirectory: The run's directory (the `train` run).
    ///   - host: The host name in the file name.
    ///   - wallTime: When the trace was taken; names the session directory.
    ///   - suffix: `traceSuffix` or `xplaneSuffix`.
    /// - Returns: The path.
    public static func tracePath(runDirectory: String, host: String, wallTime: Double, suffix: String = traceSuffix) -> String {
        runDirectory + "/" + traceRelativePath(host: host, wallTime: wallTime, suffix: suffix)
    }

    /// `tracePath` relative to the run directory.
    private static func traceRelativePath(host: String, wallTime: Double, suffix: String = traceSuffix) -> String {
        "plugins/profile/\(sessionName(wallTime: wallTime))/\(host)\(suffix)"
    }

    /// The plugin TF 2.0's `summary_ops_v2.run_metadata` names (`trace_export` with the profiler
    /// on): TensorBoard's graph plugin offers such a tag as both an op graph (the function graphs)
    /// and a profile (the step stats).
    public static let runMetadataPluginName = "graph_run_metadata"

    /// The summary event of the traced step, as TF 2.0's `trace_export(name: "batch_<step>")`
    /// writes it through `summary_ops_v2.run_metadata`: one value tagged `batch_<step>`, plugin
    /// `graph_run_metadata` with content `"1"`, holding a scalar `DT_STRING` tensor of the
    /// serialized `RunMetadata`.
    ///
    /// The `RunMetadata`'s step stats list the spans. `graphDef`, when given, is its one
    /// function graph (`function_graphs { pre_optimization_graph }`), which TensorBoard draws as
    /// the tag's op graph; TF 2.0 puts there the graphs traced during the step.
    ///
    /// - Parameters:
    ///   - step: The traced step.
    ///   - spans: The spans.
    ///   - graphDef: A serialized `GraphDef` to draw for the step, or `nil` for none.
    ///   - wallTime: The event's wall time.
    /// - Returns: The event.
    public static func runMetadataEvent(step: Int64, spans: [Span], graphDef: [UInt8]?, wallTime: Double) -> Event {
        let value = Summary.Value(
            tag: "batch_\(step)",
            metadata: SummaryMetadata(pluginName: runMetadataPluginName, pluginContent: Array("1".utf8)),  // TF 2.0: version 1
            kind: .tensor(.strings([runMetadata(spans: spans, graphDef: graphDef)])))
        return Event(wallTime: wallTime, step: step, what: .summary(Summary(values: [value])))
    }

    /// A serialized `RunMetadata { step_stats { dev_stats { device node_stats* } }
    /// function_graphs { pre_optimization_graph }? }` (tensorflow/core/protobuf/config.proto,
    /// step_stats.proto) with one node per span.
    static func runMetadata(spans: [Span], graphDef: [UInt8]?) -> [UInt8] {
        var nodes: [[UInt8]] = []
        for span in spans {
            var node = ProtobufMessage()
            node.appendString(1, span.name)  // NodeExecStats.node_name
            node.appendVarint(2, UInt64(max(0, span.startMicroseconds)))  // all_start_micros
            node.appendVarint(4, UInt64(max(0, span.durationMicroseconds)))  // op_end_rel_micros
            node.appendVarint(5, UInt64(max(0, span.durationMicroseconds)))  // all_end_rel_micros
            node.appendString(8, span.name)  // timeline_label
            node.appendVarint(9, UInt64(max(0, span.startMicroseconds)))  // scheduled_micros
            node.appendVarint(10, UInt64(truncatingIfNeeded: span.threadID))  // thread_id
            nodes.append(node.bytes)
        }
        var device = ProtobufMessage()
        device.appendString(1, "/job:localhost/replica:0/task:0/device:CPU:0")  // DeviceStepStats.device
        for node in nodes { device.appendBytes(2, node) }  // node_stats
        var stepStats = ProtobufMessage()
        stepStats.appendBytes(1, device.bytes)  // StepStats.dev_stats
        var runMetadata = ProtobufMessage()
        runMetadata.appendBytes(1, stepStats.bytes)  // RunMetadata.step_stats
        if let graphDef {
            var functionGraphs = ProtobufMessage()
            functionGraphs.appendBytes(2, graphDef)  // RunMetadata.FunctionGraphs.pre_optimization_graph
            runMetadata.appendBytes(4, functionGraphs.bytes)  // RunMetadata.function_graphs
        }
        return runMetadata.bytes
    }

    /// `bytes` in the gzip format (RFC 1952), compressed by zlib at its default level.
    static func gzip(_ bytes: [UInt8], path: String) throws(SummaryFileError) -> [UInt8] {
        var stream = z_stream()
        // windowBits 15 + 16: a gzip header and trailer instead of zlib's.
        guard deflateInit2_(&stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY,
                            ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK
        else { throw .compression(path: path, "deflateInit2 failed") }
        defer { deflateEnd(&stream) }
        var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, uLong(bytes.count))))
        let status = bytes.withUnsafeBufferPointer { input in
            output.withUnsafeMutableBufferPointer { out in
                stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress)
                stream.avail_in = uInt(input.count)
                stream.next_out = out.baseAddress
                stream.avail_out = uInt(out.count)
                return deflate(&stream, Z_FINISH)
            }
        }
        guard status == Z_STREAM_END else { throw .compression(path: path, "deflate returned \(status)") }
        output.removeLast(Int(stream.avail_out))
        return output
    }
}
