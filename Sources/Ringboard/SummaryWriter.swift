internal import RingboardSystem
internal import RingboardFormat
import Foundation
import RingboardRecords
import RingboardRing
import Synchronization

/// torch's and tensorboardX's `SummaryWriter`, in Swift spelling: each call becomes one record in
/// this process's ring, and the aggregator makes the summary (a histogram's buckets, an image's
/// PNG) and writes it into `logDirectory`, as torch's writer would. The caller's data is copied
/// once, into the ring.
///
/// Processes training together may each make a writer on the same `logDir`: one aggregator
/// writes one event file per directory. Under `.chief` (the default) only rank 0's summaries are
/// written, and the other ranks send nothing; under `.perRank` each rank writes
/// `<logDir>/rank_<r>/`; under `.mean` a scalar of a tag and step is written once, the mean over
/// the ranks that logged it, and other summaries are rank 0's.
///
/// No event file is made until the first summary is written, so a writer that logs nothing
/// leaves no file behind.
///
/// - Warning: May be used from several threads; the summaries of one thread stay in order.
public final class SummaryWriter: @unchecked Sendable {
    /// The directory the event files go in, absolute (`<logDir>/rank_<r>` under `.perRank`).
    public let logDirectory: String
    /// This process's rank, the world size and how ranks combine.
    public let rank: Int, worldSize: Int, rankPolicy: RankPolicy
    /// Warnings about the writer (no aggregator could be started, say).
    public let warnings: [String]
    /// A rank other than 0 under `.chief`: nothing of it is written, so it sends nothing.
    @usableFromInline let sendsNothing: Bool
    @usableFromInline let run: UInt32
    @usableFromInline let writer: RingWriter
    /// Tag and directory names and their numbers, each announced once.
    private let names = Mutex<Names>(Names())

    private struct Names {
        var numbers: [String: UInt32] = [:]
        /// Per number: whether the name can be an `add_scalars` directory (below the log directory).
        var isDirectory: [Bool] = []
    }

    /// A tag (or `add_scalars` directory) numbered once (`tag(_:)`), for the hot loop: no
    /// lookup, no allocation.
    public struct Tag: Sendable, Equatable {
        /// Its number, as the C interface hands it out.
        public let number: UInt32
        /// Whether its name can be an `add_scalars` directory.
        @usableFromInline let isDirectory: Bool
        @usableFromInline init(number: UInt32, isDirectory: Bool) {
            self.number = number
            self.isDirectory = isDirectory
        }
    }

    /// Makes a writer and announces it to the aggregator, starting one when none serves
    /// `ringDirectory` (`AggregatorLauncher`).
    ///
    /// - Parameters:
    ///   - logDir: The directory, absolute or relative to the working directory; `nil` for
    ///     torch's default, `runs/<Mon DD_HH-MM-SS>_<host><comment>`.
    ///   - comment: Appended to the default directory's name (ignored with `logDir`).
    ///   - rank: This process's rank; `nil` for `$RANK` (0 without it).
    ///   - worldSize: How many processes train together; `nil` for `$WORLD_SIZE` (1 without it).
    ///   - rankPolicy: `.chief` (rank 0's summaries only), `.perRank` or `.mean`.
    ///   - ringDirectory: The aggregator's ring directory.
    ///   - ringOptions: The ring's capacity and full-ring policy, when this process makes it.
    ///   - startAggregator: Start an aggregator for `ringDirectory` when none serves it.
    ///   - aggregatorExecutable: The `ringboard` executable to start; `nil` to look for one.
    /// - Throws: `ConfigurationError` for a rank out of range, a directory outside the serving
    ///   aggregator's log root, or a ring that cannot be made.
    public init(
        logDir: String? = nil, comment: String = "", rank requestedRank: Int? = nil, worldSize requestedWorldSize: Int? = nil,
        rankPolicy: RankPolicy = .chief,
        ringDirectory: String = RingDirectory.defaultPath, ringOptions: RingWriter.Options = RingWriter.Options(),
        startAggregator: Bool = true, aggregatorExecutable: String? = nil
    ) throws(ConfigurationError) {
        let environment = ProcessInfo.processInfo.environment
        func launcherValue(_ name: String) throws(ConfigurationError) -> Int? {
            guard let text = environment[name] else { return nil }
            guard let value = Int(text) else { throw .invalidArgument(name: name, reason: "the environment's \(name)=\(text) is not an integer") }
            return value
        }
        var (worldSize, rank) = (requestedWorldSize ?? 1, requestedRank ?? 0)
        if requestedWorldSize == nil, let value = try launcherValue("WORLD_SIZE") { worldSize = value }
        if requestedRank == nil, let value = try launcherValue("RANK") { rank = value }
        guard worldSize >= 1, worldSize <= HookRecord.maximumWorldSize else {
            throw .invalidArgument(name: "world_size", reason: "\(worldSize) is not between 1 and \(HookRecord.maximumWorldSize)")
        }
        guard rank >= 0, rank < worldSize else { throw .invalidArgument(name: "rank", reason: "rank \(rank) is not in 0..<\(worldSize)") }
        let requested = logDir ?? SummaryWriter.defaultLogDirectory(comment: comment)
        var directory: String
        do {
            directory = try HookRecord.runDirectory(requested, in: FileManager.default.currentDirectoryPath)
        } catch {
            throw .invalidArgument(name: "log_dir", reason: error.description)
        }
        if case let logRoot?? = AggregatorLauncher.servingLogRoot(ringDirectory), !HookRecord.runDirectory(directory, isWithin: logRoot) {
            throw .invalidArgument(
                name: "log_dir",
                reason: "\(directory) is outside \(logRoot), the log root of the aggregator serving \(ringDirectory); "
                    + "write under it, or serve the ring directory with an aggregator without --logdir")
        }
        let writer = try SharedRing.writer(directory: ringDirectory, options: ringOptions)
        var warnings: [String] = []
        if let failure = AggregatorLauncher.startIfUnserved(ringDirectory: ringDirectory, start: startAggregator, executable: aggregatorExecutable) {
            warnings.append("no aggregator serves \(ringDirectory) and none was started (\(failure)): records wait in the ring "
                            + "until `ringboard aggregate --ring-dir \(ringDirectory)` runs")
        }
        let arguments = TensorBoardArguments(logDirectory: directory, writeGraph: false, profileBatch: 0, semantics: .summaryWriter)
        if rankPolicy == .perRank { directory += "/rank_\(rank)" }
        self.logDirectory = directory
        self.rank = rank
        self.worldSize = worldSize
        self.rankPolicy = rankPolicy
        self.sendsNothing = rankPolicy == .chief && rank > 0
        self.warnings = warnings
        self.writer = writer
        self.run = TensorBoard.nextRun.wrappingAdd(1, ordering: .relaxed).oldValue
        send(.runAnnouncement(run: run, rank: UInt32(rank), worldSize: UInt32(worldSize), policy: rankPolicy, arguments: arguments))
    }

    /// torch's default directory: `runs/<%b%d_%H-%M-%S>_<host><comment>`, in local time.
    static func defaultLogDirectory(comment: String) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "MMMdd_HH-mm-ss"
        return "runs/" + formatter.string(from: Date()) + "_" + ProcessInfo.processInfo.hostName + comment
    }

    // MARK: Names

    /// The number of a tag, announced to the aggregator the first time: for `addScalar` in a
    /// hot loop.
    ///
    /// - Parameter name: The tag, e.g. `loss/train`.
    /// - Throws: `ConfigurationError.invalidArgument` for a tag TensorBoard cannot show: empty, over
    ///   4096 bytes, or with control characters.
    public func tag(_ name: String) throws(ConfigurationError) -> Tag {
        try SummaryWriter.check(name, "tag")
        return number(name)
    }

    /// The tag `number` names, when `tag(_:)` gave it.
    public func tag(number: UInt32) -> Tag? {
        names.locked { names in
            Int(number) < names.isDirectory.count ? Tag(number: number, isDirectory: names.isDirectory[Int(number)]) : nil
        }
    }

    /// The directory `add_scalars` writes the values of `key` under `mainTag` in, as torch names
    /// it: `<mainTag with / as _>_<key>`, below the log directory.
    public func scalarsDirectory(_ mainTag: String, key: String) throws(ConfigurationError) -> Tag {
        let name = mainTag.replacingOccurrences(of: "/", with: "_") + "_" + key
        let tag = try self.tag(name)
        guard tag.isDirectory else {
            throw .invalidArgument(name: "add_scalars key", reason: "\(key.debugDescription) makes directory \(name.debugDescription), which leaves the log directory")
        }
        return tag
    }

    private static func check(_ name: String, _ what: String) throws(ConfigurationError) {
        guard !name.isEmpty, name.utf8.count <= HookRecord.maximumNameLength else {
            throw .invalidArgument(name: what, reason: "must be 1 to \(HookRecord.maximumNameLength) bytes, not \(name.utf8.count)")
        }
        if name.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7f }) {
            throw .invalidArgument(name: what, reason: "\(name.debugDescription) holds a control character")
        }
    }

    private func number(_ name: String) -> Tag {
        names.locked { names in
            if let number = names.numbers[name] { return Tag(number: number, isDirectory: names.isDirectory[Int(number)]) }
            let number = UInt32(names.numbers.count)
            let components = name.split(separator: "/", omittingEmptySubsequences: false)
            names.numbers[name] = number
            names.isDirectory.append(!components.contains(where: { $0.isEmpty || $0 == "." || $0 == ".." }))
            send(.metricName(run: run, metric: number, name: name))
            return Tag(number: number, isDirectory: names.isDirectory[Int(number)])
        }
    }

    // MARK: Summaries

    /// `add_scalar` for the hot loop: one record written straight into the ring, with no lookup
    /// and no allocation.
    ///
    /// - Parameters:
    ///   - tag: A tag from `tag(_:)`.
    ///   - value: The value (written as TensorBoard's 32-bit `simple_value`).
    ///   - step: The step.
    ///   - wallTime: Seconds since the Unix epoch; `nil` for now.
    /// - Throws: `ConfigurationError.invalidArgument` for a wall time that is not a finite, non-negative number.
    ///   - directory: An `add_scalars` directory (`scalarsDirectory(_:key:)`); `nil` for the log
    ///     directory itself.
    @inlinable
    public func addScalar(_ tag: Tag, _ value: Double, step: Int = 0, wallTime: Double? = nil, directory: Tag? = nil) throws(ConfigurationError) {
        let time = try SummaryWriter.wallTime(wallTime)
        try checkProcess()
        if let directory, !directory.isDirectory {
            throw .invalidArgument(name: "directory", reason: "tag \(directory.number) does not name a directory below the log directory")
        }
        guard !sendsNothing else { return }
        let (run, step, directory) = (run, Int64(step), directory?.number ?? HookRecord.noDirectory)
        _ = writer.append(type: RecordType.summary, length: HookRecord.scalarSummaryLength) { payload in
            HookRecord.encodeScalarSummary(into: payload, run: run, tag: tag.number, directory: directory, step: step,
                                           wallTime: time, value: value)
        }
    }

    /// `add_scalar`.
    ///
    /// - Parameters:
    ///   - tag: The tag.
    ///   - value: The value.
    ///   - step: The step.
    ///   - wallTime: Seconds since the Unix epoch; `nil` for now.
    /// - Throws: `ConfigurationError.invalidArgument` for a bad tag or wall time.
    public func addScalar(_ tag: String, _ value: Double, step: Int = 0, wallTime: Double? = nil) throws(ConfigurationError) {
        try addScalar(self.tag(tag), value, step: step, wallTime: wallTime)
    }

    /// `add_scalar(new_style=True)`: the scalars plugin's one-value tensor (Float32, or Float64
    /// with `doublePrecision`) rather than a `simple_value`. Under `.mean` it is rank 0's.
    ///
    /// - Throws: `ConfigurationError.invalidArgument` for a bad wall time or directory.
    public func addTensorScalar(
        _ tag: Tag, _ value: Double, doublePrecision: Bool = false, step: Int = 0, wallTime: Double? = nil, directory: Tag? = nil
    ) throws(ConfigurationError) {
        let time = try SummaryWriter.wallTime(wallTime)
        try checkProcess()
        if let directory, !directory.isDirectory {
            throw .invalidArgument(name: "directory", reason: "tag \(directory.number) does not name a directory below the log directory")
        }
        guard !sendsNothing else { return }
        send(.summary(run: run, tag: tag.number, directory: directory?.number, step: Int64(step), wallTime: time,
                      value: .tensorScalar(value, doublePrecision: doublePrecision)))
    }

    /// torch's `purge_step`: tells TensorBoard to drop the events of the writer's directory from
    /// `step` on written before this call (a restart from the checkpoint of `step`), as torch's
    /// writer does with a `SessionLog` START. TensorBoard's Python loader honours it; its Rust
    /// data server (`--load_fast=true`) does not, for torch's files either.
    public func purge(fromStep step: Int) throws(ConfigurationError) {
        try checkProcess()
        let tag = try self.tag("__session_log__")  // the record needs a tag; the event has none
        guard !sendsNothing else { return }
        send(.summary(run: run, tag: tag.number, directory: nil, step: Int64(step), wallTime: SummaryWriter.preciseNow(), value: .sessionStart))
    }

    /// `add_scalars`: each value under `mainTag`, in a directory of its own below the log
    /// directory, `<mainTag with / as _>_<key>`, as torch writes them (TensorBoard shows each
    /// directory as a run, so the values share one chart).
    ///
    /// - Parameters:
    ///   - mainTag: The tag every value is written under.
    ///   - values: The values by key.
    ///   - step: The step.
    ///   - wallTime: Seconds since the Unix epoch; `nil` for now (the same for every value).
    ///   - sameRun: Write each value as a scalar `<mainTag>/<key>` of the writer's own run instead:
    ///     no directories (which TensorBoard lists as runs of their own).
    /// - Throws: `ConfigurationError.invalidArgument` for a bad tag, key or wall time.
    public func addScalars(
        _ mainTag: String, _ values: [String: Double], step: Int = 0, wallTime: Double? = nil, sameRun: Bool = false
    ) throws(ConfigurationError) {
        let time = try SummaryWriter.wallTime(wallTime)
        try checkProcess()
        if sameRun {
            for (key, value) in values.sorted(by: { $0.key < $1.key }) { try addScalar(mainTag + "/" + key, value, step: step, wallTime: time) }
            return
        }
        let tag = try self.tag(mainTag)
        var entries: [(Tag, Double)] = []
        for (key, value) in values.sorted(by: { $0.key < $1.key }) { entries.append((try scalarsDirectory(mainTag, key: key), value)) }
        for (directory, value) in entries { try addScalar(tag, value, step: step, wallTime: time, directory: directory) }
    }

    /// `add_histogram` with `bins='tensorflow'`: the aggregator counts the values as torch does
    /// (`numpy.histogram` into TensorFlow's bucket edges), so the caller only copies them.
    ///
    /// - Parameters:
    ///   - tag: The tag.
    ///   - values: The values (any shape, flattened); `Float` or `Double`.
    ///   - step: The step.
    ///   - wallTime: Seconds since the Unix epoch; `nil` for now.
    /// - Throws: `ConfigurationError.invalidArgument` for no values, NaN or infinity, or a bad tag
    ///   or wall time.
    ///
    /// Values of any number go through: past a quarter of a ring record, in a weight segment
    /// beside the ring (`Float` values read in place there).
    public func addHistogram<Value: BinaryFloatingPoint & BitwiseCopyable>(
        _ tag: String, _ values: Span<Value>, step: Int = 0, wallTime: Double? = nil
    ) throws(ConfigurationError) {
        try addHistogram(self.tag(tag), values, step: step, wallTime: wallTime)
    }

    /// `addHistogram` of a numbered tag.
    public func addHistogram<Value: BinaryFloatingPoint & BitwiseCopyable>(
        _ tag: Tag, _ values: Span<Value>, step: Int = 0, wallTime: Double? = nil
    ) throws(ConfigurationError) {
        let time = try SummaryWriter.wallTime(wallTime)
        try checkProcess()
        let width = MemoryLayout<Value>.size
        guard width == 4 || width == 8 else { throw .invalidArgument(name: "values", reason: "must be Float or Double") }
        guard values.count > 0 else { throw .invalidArgument(name: "values", reason: "the histogram has no values") }
        // Checked and copied as the concrete type: generic code, as called from another module,
        // would reach each value through the type's metadata.
        try values.withUnsafeBufferPointer { (buffer) throws(ConfigurationError) in
            let raw = UnsafeRawBufferPointer(buffer)
            if width == 4 {
                try addHistogram(tag, raw.assumingMemoryBound(to: Float.self).span, step: Int64(step), wallTime: time)
            } else {
                try addHistogram(tag, raw.assumingMemoryBound(to: Double.self).span, step: Int64(step), wallTime: time)
            }
        }
    }

    private func addHistogram(_ tag: Tag, _ values: Span<Float>, step: Int64, wallTime: Double) throws(ConfigurationError) {
        if let index = SummaryWriter.firstNonFinite(values) {
            throw .invalidArgument(name: "values", reason: "NaN or infinity at index \(index) of the histogram")
        }
        guard !sendsNothing else { return }
        if values.count > maximumHistogramValues(width: 4, inRing: true) {
            try sendInSegment(values, tag: tag.number, step: step, wallTime: wallTime)
            return
        }
        appendHistogram(values, tag: tag.number, step: step, wallTime: wallTime)
    }

    private func addHistogram(_ tag: Tag, _ values: Span<Double>, step: Int64, wallTime: Double) throws(ConfigurationError) {
        if let index = SummaryWriter.firstNonFinite(values) {
            throw .invalidArgument(name: "values", reason: "NaN or infinity at index \(index) of the histogram")
        }
        guard !sendsNothing else { return }
        guard values.count <= maximumHistogramValues(width: 8, inRing: true) else {
            // The record, whole, through a weight segment.
            let copied = values.withUnsafeBufferPointer { Array($0) }
            try sendFitting(.summary(run: run, tag: tag.number, directory: nil, step: step, wallTime: wallTime, value: .histogram(.double(copied))))
            return
        }
        appendHistogram(values, tag: tag.number, step: step, wallTime: wallTime)
    }

    private func appendHistogram<Value: BinaryFloatingPoint & BitwiseCopyable>(_ values: Span<Value>, tag: UInt32, step: Int64, wallTime: Double) {
        let run = run
        let length = HookRecord.histogramSummaryLength(count: values.count, width: MemoryLayout<Value>.size)
        _ = writer.append(type: RecordType.summary, length: length) { payload in
            HookRecord.encodeHistogramSummary(into: payload, run: run, tag: tag, directory: HookRecord.noDirectory, step: step,
                                              wallTime: wallTime, values: values)
        }
    }

    /// The index of the first NaN or infinity, or `nil`: blocks of values checked without a
    /// branch per value.
    private static func firstNonFinite(_ values: Span<Float>) -> Int? {
        var start = 0
        while start < values.count {
            let end = min(values.count, start + 4096)
            // An all-ones exponent (NaN, infinity) carries into the sign bit when its lowest bit is added.
            var carries: UInt32 = 0
            for index in start..<end { carries |= ((values[index].bitPattern & 0x7F80_0000) &+ 0x0080_0000) & 0x8000_0000 }
            if carries != 0 { return (start..<end).first { !values[$0].isFinite } }
            start = end
        }
        return nil
    }

    private static func firstNonFinite(_ values: Span<Double>) -> Int? {
        (0..<values.count).first { !values[$0].isFinite }
    }

    /// The most values `addHistogram` takes in one call, each `width` bytes: any number (past a
    /// quarter of a ring record they go into a weight segment beside the ring, as a model's
    /// weights do).
    public func maximumHistogramValues(width: Int = 4) -> Int {
        Int.max
    }

    /// The most values of `width` bytes a ring record carries: a quarter of the largest record,
    /// so that a histogram does not fill the ring on its own; more go into a weight segment.
    func maximumHistogramValues(width: Int, inRing: Bool) -> Int {
        (writer.maximumPayloadLength / 4 - HookRecord.histogramSummaryLength(count: 0, width: width)) / width
    }

    /// Writes `values` into the ring's next weight segment, then appends the record naming them:
    /// the aggregator counts them where they are.
    private func sendInSegment(_ values: Span<Float>, tag: UInt32, step: Int64, wallTime: Double) throws(ConfigurationError) {
        let run = run, count = values.count
        do {
            try SharedRing.segmentWriter(for: writer).write(
                valueCounts: [count],
                fill: { (_, write) throws(RingError) in try write(values) },
                publish: { sequence, offsets in
                    send(.summary(run: run, tag: tag, directory: nil, step: step, wallTime: wallTime,
                                  value: .histogram(.segment(sequence: sequence, offset: UInt64(offsets[0]), count: UInt64(count)))))
                },
                waitForCommit: { [writer] timeout in writer.waitForNextCommit(timeout: timeout) })
        } catch {
            throw .transport("a histogram of \(count) values needs a weight segment beside the ring, which could not be written: \(error)")
        }
    }

    /// `add_histogram_raw`: a histogram the caller counted, written as given.
    ///
    /// - Throws: `ConfigurationError.invalidArgument` when the limits and counts differ in number
    ///   or are empty, a field is not finite, or the tag or wall time is bad.
    public func addHistogramRaw(_ tag: String, _ histogram: RawHistogram, step: Int = 0, wallTime: Double? = nil) throws(ConfigurationError) {
        try addHistogramRaw(self.tag(tag), histogram, step: step, wallTime: wallTime)
    }

    /// `addHistogramRaw` of a numbered tag.
    public func addHistogramRaw(_ tag: Tag, _ histogram: RawHistogram, step: Int = 0, wallTime: Double? = nil) throws(ConfigurationError) {
        let time = try SummaryWriter.wallTime(wallTime)
        try checkProcess()
        if let problem = histogram.problem { throw .invalidArgument(name: "histogram", reason: problem) }
        let number = tag.number
        guard !sendsNothing else { return }
        try sendFitting(.summary(run: run, tag: number, directory: nil, step: Int64(step), wallTime: time, value: .rawHistogram(histogram)))
    }

    /// `add_image` of bytes laid out as height × width × channels (HWC), 1, 3 or 4 channels (one
    /// is shown as grey, as torch shows it): PNG-encoded by the aggregator.
    ///
    /// - Throws: `ConfigurationError.invalidArgument` when the pixels are not
    ///   `height × width × channels`, or the tag or wall time is bad. An image larger than a ring
    ///   record goes through a weight segment beside the ring.
    public func addImage(
        _ tag: String, pixels: Span<UInt8>, height: Int, width: Int, channels: Int, step: Int = 0, wallTime: Double? = nil
    ) throws(ConfigurationError) {
        try addImage(self.tag(tag), pixels: pixels, height: height, width: width, channels: channels, step: step, wallTime: wallTime)
    }

    /// `addImage` of a numbered tag.
    public func addImage(
        _ tag: Tag, pixels: Span<UInt8>, height: Int, width: Int, channels: Int, step: Int = 0, wallTime: Double? = nil
    ) throws(ConfigurationError) {
        let time = try SummaryWriter.wallTime(wallTime)
        try checkProcess()
        guard channels == 1 || channels == 3 || channels == 4 else {
            throw .invalidArgument(name: "channels", reason: "an image has 1, 3 or 4 channels, not \(channels)")
        }
        guard height > 0, width > 0, height <= Int(UInt32.max), width <= Int(UInt32.max),
              pixels.count % (channels * height) == 0, pixels.count / channels / height == width else {
            throw .invalidArgument(name: "pixels", reason: "\(pixels.count) bytes are not an image of \(height) × \(width) × \(channels)")
        }
        let length = HookRecord.imageSummaryLength(byteCount: pixels.count)
        let number = tag.number
        guard !sendsNothing else { return }
        let run = run
        guard length <= writer.maximumPayloadLength else {
            // Larger than a ring record: through a weight segment.
            let copied = pixels.withUnsafeBufferPointer { Array($0) }
            try sendFitting(.summary(run: run, tag: number, directory: nil, step: Int64(step), wallTime: time,
                                     value: .image(height: height, width: width, channels: channels, pixels: copied)))
            return
        }
        _ = writer.append(type: RecordType.summary, length: length) { payload in
            HookRecord.encodeImageSummary(into: payload, run: run, tag: number, directory: HookRecord.noDirectory, step: Int64(step),
                                          wallTime: time, height: height, width: width, channels: channels, pixels: pixels)
        }
    }

    /// `add_text`: markdown, shown by TensorBoard's text dashboard under `<tag>/text_summary`.
    ///
    /// - Throws: `ConfigurationError.invalidArgument` for text over 16 MiB, or a bad tag or wall time.
    public func addText(_ tag: String, _ text: String, step: Int = 0, wallTime: Double? = nil) throws(ConfigurationError) {
        try addText(self.tag(tag), text, step: step, wallTime: wallTime)
    }

    /// `addText` of a numbered tag.
    public func addText(_ tag: Tag, _ text: String, step: Int = 0, wallTime: Double? = nil) throws(ConfigurationError) {
        let time = try SummaryWriter.wallTime(wallTime)
        try checkProcess()
        guard text.utf8.count <= HookRecord.maximumTextLength else {
            throw .invalidArgument(name: "text", reason: "\(text.utf8.count) bytes; at most \(HookRecord.maximumTextLength)")
        }
        let number = tag.number
        guard !sendsNothing else { return }
        try sendFitting(.summary(run: run, tag: number, directory: nil, step: Int64(step), wallTime: time, value: .text(text)))
    }

    /// `add_hparams`: TensorBoard's HParams plugin data (an experiment naming `hparams` and
    /// `metrics`, a session with the values), then each metric as a scalar, all at `step`.
    ///
    /// As torch writes them, they go into a run of their own: `<logDir>/<runName>`, by default
    /// named after the time (`str(time.time())`), which the HParams dashboard cannot link to the
    /// run's own scalars. With `sameRun` they go into the writer's own directory, one file with
    /// its scalars, so the dashboard shows the run's metrics beside its hyperparameters.
    ///
    /// - Parameters:
    ///   - hparams: The hyperparameters, in order.
    ///   - metrics: The metrics' final values.
    ///   - discrete: The allowed values of some hyperparameters (`hparam_domain_discrete`), each
    ///     list of the hyperparameter's own kind.
    ///   - runName: The run's directory below the log directory; `nil` for the time.
    ///   - sameRun: Write into the writer's own directory instead.
    ///   - step: The step.
    ///   - wallTime: Seconds since the Unix epoch; `nil` for now.
    /// - Throws: `ConfigurationError.invalidArgument` for a bad name, a discrete domain of another
    ///   kind or of a hyperparameter not given, or a bad run name or wall time.
    public func addHparams(
        _ hparams: [HParamsSet.Entry], metrics: [(String, Double)], discrete: [String: [HParamsSet.Value]] = [:],
        runName: String? = nil, sameRun: Bool = false, step: Int = 0, wallTime: Double? = nil
    ) throws(ConfigurationError) {
        let time = try SummaryWriter.wallTime(wallTime)
        var directory: Tag?
        if !sameRun {
            let name = runName ?? String(SummaryWriter.preciseNow())
            let tag = try self.tag(name)
            guard tag.isDirectory else {
                throw .invalidArgument(name: "run_name", reason: "\(name.debugDescription) leaves the log directory")
            }
            directory = tag
        }
        let metricTags = try metrics.map { (name, _) throws(ConfigurationError) in try self.tag(name) }
        try sendHparams(hparams, metrics: metrics.map(\.0), discrete: discrete, directory: directory, step: step, wallTime: time)
        for (index, (_, value)) in metrics.enumerated() {
            try addScalar(metricTags[index], value, step: step, wallTime: time, directory: directory)
        }
    }

    /// The HParams data of `addHparams` alone, in `directory` (`nil`: the log directory), without
    /// the metrics' scalars.
    public func sendHparams(
        _ hparams: [HParamsSet.Entry], metrics: [String], discrete: [String: [HParamsSet.Value]], directory: Tag?, step: Int,
        wallTime: Double?
    ) throws(ConfigurationError) {
        let time = try SummaryWriter.wallTime(wallTime)
        try checkProcess()
        for entry in hparams { try SummaryWriter.check(entry.name, "hparam name") }
        for metric in metrics { try SummaryWriter.check(metric, "metric") }
        if let directory, !directory.isDirectory {
            throw .invalidArgument(name: "directory", reason: "tag \(directory.number) does not name a directory below the log directory")
        }
        for (name, allowed) in discrete {
            guard let entry = hparams.first(where: { $0.name == name }) else {
                throw .invalidArgument(name: "hparam_domain_discrete", reason: "\(name.debugDescription) is not a hyperparameter given")
            }
            for value in allowed where !SummaryWriter.sameKind(value, entry.value) {
                throw .invalidArgument(name: "hparam_domain_discrete", reason: "\(name.debugDescription) lists a value of another kind than its own")
            }
        }
        let tag = try self.tag("_hparams_/experiment")  // the record needs a tag; the aggregator writes TensorBoard's own
        guard !sendsNothing else { return }
        try sendFitting(.summary(run: run, tag: tag.number, directory: directory?.number, step: Int64(step), wallTime: time,
                                 value: .hparams(HParamsSet(values: hparams, discrete: discrete, metrics: metrics))))
    }

    private static func sameKind(_ a: HParamsSet.Value, _ b: HParamsSet.Value) -> Bool {
        switch (a, b) {
        case (.number, .number), (.string, .string), (.bool, .bool): true
        default: false
        }
    }

    /// `add_custom_scalars`: the custom scalars dashboard's layout (each call replaces the one
    /// before, as TensorBoard reads the last).
    ///
    /// - Throws: `ConfigurationError.invalidArgument` for a bad wall time.
    public func addCustomScalars(_ layout: CustomScalarsLayout, step: Int = 0, wallTime: Double? = nil) throws(ConfigurationError) {
        let time = try SummaryWriter.wallTime(wallTime)
        try checkProcess()
        let tag = try self.tag("custom_scalars__config__")
        guard !sendsNothing else { return }
        try sendFitting(.summary(run: run, tag: tag.number, directory: nil, step: Int64(step), wallTime: time, value: .customScalars(layout)))
    }

    /// `add_pr_curve_raw` (and `add_pr_curve`, whose counts the caller computed): six rows of
    /// `values.count / 6` values, row-major: true positives, false positives, true negatives,
    /// false negatives, precision, recall, for the PR curves dashboard.
    ///
    /// - Parameters:
    ///   - numThresholds: The thresholds the dashboard is told of (torch caps it at 127).
    /// - Throws: `ConfigurationError.invalidArgument` when the values are not six equal rows, or
    ///   for a bad tag or wall time.
    public func addPRCurve(_ tag: String, _ values: [Float], numThresholds: Int = 127, step: Int = 0, wallTime: Double? = nil) throws(ConfigurationError) {
        try addPRCurve(self.tag(tag), values, numThresholds: numThresholds, step: step, wallTime: wallTime)
    }

    /// `addPRCurve` of a numbered tag.
    public func addPRCurve(_ tag: Tag, _ values: [Float], numThresholds: Int = 127, step: Int = 0, wallTime: Double? = nil) throws(ConfigurationError) {
        let time = try SummaryWriter.wallTime(wallTime)
        try checkProcess()
        guard !values.isEmpty, values.count % 6 == 0 else {
            throw .invalidArgument(name: "values", reason: "\(values.count) values are not six equal rows (tp, fp, tn, fn, precision, recall)")
        }
        guard numThresholds >= 1, numThresholds <= Int(UInt32.max) else {
            throw .invalidArgument(name: "num_thresholds", reason: "must be 1 or more, not \(numThresholds)")
        }
        guard !sendsNothing else { return }
        try sendFitting(.summary(run: run, tag: tag.number, directory: nil, step: Int64(step), wallTime: time,
                                 value: .prCurve(numThresholds: numThresholds, columns: values.count / 6, values: values)))
    }

    /// `add_audio`: one channel of samples in [-1, 1] at `sampleRate` per second, written as
    /// 16-bit WAV for the audio dashboard. As torch does, samples are clipped to [-1, 1] when any
    /// lies beyond, and scaled in their own precision (`Float` or `Double`).
    ///
    /// - Throws: `ConfigurationError.invalidArgument` for no samples, a NaN or infinite one, a
    ///   sample rate below 1 or over 2³² − 1, or a bad tag or wall time.
    public func addAudio(_ tag: String, _ samples: AudioSamples, sampleRate: Double = 44100, step: Int = 0, wallTime: Double? = nil) throws(ConfigurationError) {
        try addAudio(self.tag(tag), samples, sampleRate: sampleRate, step: step, wallTime: wallTime)
    }

    /// `addAudio` of a numbered tag.
    public func addAudio(_ tag: Tag, _ samples: AudioSamples, sampleRate: Double = 44100, step: Int = 0, wallTime: Double? = nil) throws(ConfigurationError) {
        let time = try SummaryWriter.wallTime(wallTime)
        try checkProcess()
        guard samples.count > 0 else { throw .invalidArgument(name: "snd_tensor", reason: "holds no samples") }
        let bad: Int? = switch samples {
        case .float(let samples): samples.firstIndex { !$0.isFinite }
        case .double(let samples): samples.firstIndex { !$0.isFinite }
        }
        if let bad { throw .invalidArgument(name: "snd_tensor", reason: "NaN or infinity at sample \(bad)") }
        guard sampleRate.isFinite, sampleRate >= 1, sampleRate <= Double(UInt32.max) else {
            throw .invalidArgument(name: "sample_rate", reason: "must be 1 to 2³² − 1 samples per second, not \(sampleRate)")
        }
        guard !sendsNothing else { return }
        try sendFitting(.summary(run: run, tag: tag.number, directory: nil, step: Int64(step), wallTime: time,
                                 value: .audio(sampleRate: sampleRate, samples: samples)))
    }

    /// `add_mesh`: a mesh (or a point cloud, without faces) for the mesh dashboard, each part a
    /// `[batch, count, 3]` tensor, with the Three.js configuration as JSON (`config_dict`).
    ///
    /// - Throws: `ConfigurationError.invalidArgument` for a mesh `MeshData.problem` names, a NaN in
    ///   it, a configuration that is not JSON, or a bad tag or wall time.
    public func addMesh(_ tag: String, _ mesh: MeshData, step: Int = 0, wallTime: Double? = nil) throws(ConfigurationError) {
        try addMesh(self.tag(tag), mesh, step: step, wallTime: wallTime)
    }

    /// `addMesh` of a numbered tag.
    public func addMesh(_ tag: Tag, _ mesh: MeshData, step: Int = 0, wallTime: Double? = nil) throws(ConfigurationError) {
        let time = try SummaryWriter.wallTime(wallTime)
        try checkProcess()
        if let problem = mesh.problem { throw .invalidArgument(name: "mesh", reason: problem) }
        for component in mesh.components where component.values.contains(where: { !$0.isFinite }) {
            throw .invalidArgument(name: component.content.name.lowercased(), reason: "holds NaN or infinity")
        }
        guard (try? JSONSerialization.jsonObject(with: Data(mesh.jsonConfig.utf8), options: [.fragmentsAllowed])) is [String: Any] else {
            throw .invalidArgument(name: "config_dict", reason: "must be a JSON object, not \(mesh.jsonConfig.prefix(80).debugDescription)")
        }
        guard !sendsNothing else { return }
        try sendFitting(.summary(run: run, tag: tag.number, directory: nil, step: Int64(step), wallTime: time, value: .mesh(mesh)))
    }

    /// `add_graph`: a serialized TensorFlow `GraphDef` for the graphs dashboard (torch's writer
    /// makes one from a module with its own graph builder), and optionally a serialized
    /// `RunMetadata` (its step stats), written as run metadata `step1` as torch writes it.
    ///
    /// - Throws: `ConfigurationError.invalidArgument` for bytes that are not a `GraphDef`, a graph
    ///   or a bad wall time.
    public func addGraph(_ graphDef: [UInt8], runMetadata: [UInt8] = [], wallTime: Double? = nil) throws(ConfigurationError) {
        let time = try SummaryWriter.wallTime(wallTime)
        try checkProcess()
        guard !graphDef.isEmpty else { throw .invalidArgument(name: "graph", reason: "is empty") }
        do {
            _ = try GraphDefCheck.nodeCount(in: graphDef)
        } catch {
            throw .invalidArgument(name: "graph", reason: "not a serialized GraphDef: \(error)")
        }
        let tag = try self.tag("__graph__")  // the record needs a tag; the graph has none
        guard !sendsNothing else { return }
        try sendFitting(.summary(run: run, tag: tag.number, directory: nil, step: 0, wallTime: time,
                                 value: .graph(graphDef: graphDef, runMetadata: runMetadata)))
    }

    /// `add_embedding`: a matrix of points for the projector, written (by the aggregator) as
    /// torch writes it: `tensors.tsv`, `metadata.tsv` and `sprite.png` under
    /// `<logDir>/<step, 5 digits>/<tag>/`, and an entry in `<logDir>/projector_config.pbtxt`.
    ///
    /// - Parameters:
    ///   - embedding: The points, each point's metadata (`metadata.tsv`'s text: one line per
    ///     point, or a header line first) and the label images' sprite.
    ///   - tag: The embedding's name (torch's default: `default`).
    ///   - step: The step (`global_step`), which names the directory.
    /// - Throws: `ConfigurationError.invalidArgument` for an embedding `EmbeddingData.problem`
    ///   names, metadata of another number of lines than points, or a bad tag.
    public func addEmbedding(_ embedding: EmbeddingData, tag: String = "default", step: Int = 0) throws(ConfigurationError) {
        try addEmbedding(embedding, tag: self.tag(tag), step: step)
    }

    /// `addEmbedding` of a numbered tag.
    public func addEmbedding(_ embedding: EmbeddingData, tag: Tag, step: Int = 0) throws(ConfigurationError) {
        try checkProcess()
        if let problem = embedding.problem { throw .invalidArgument(name: "mat", reason: problem) }
        if let metadata = embedding.metadata {
            let lines = metadata.utf8.count(where: { $0 == UInt8(ascii: "\n") })
            guard metadata.utf8.last == UInt8(ascii: "\n"), lines == embedding.rows || lines == embedding.rows + 1 else {
                throw .invalidArgument(name: "metadata", reason: "\(lines) lines for \(embedding.rows) points (one a point, a header first, each ending in a newline)")
            }
        }
        guard !sendsNothing else { return }
        try sendFitting(.summary(run: run, tag: tag.number, directory: nil, step: Int64(step), wallTime: SummaryWriter.preciseNow(),
                                 value: .embedding(embedding)))
    }

    // MARK: Writing

    /// Waits until everything sent through this writer's ring is in the event files.
    ///
    /// - Parameter timeout: How long to wait at most.
    /// - Returns: Whether everything was written in time.
    public func flush(timeout: Duration = .seconds(10)) -> Bool {
        writer.waitUntilCommitted(timeout: timeout)
    }

    /// The wall time a summary carries: `wallTime`, or now.
    /// Refuses a call in a child of `fork()` on a writer its parent made: the ring is the
    /// parent's, and the child makes a writer of its own.
    @inlinable
    func checkProcess() throws(ConfigurationError) {
        guard !writer.isInheritedFromParent else {
            throw .transport("this SummaryWriter was made before fork(), in the parent process: make a SummaryWriter in this process")
        }
    }

    @inlinable
    static func wallTime(_ wallTime: Double?) throws(ConfigurationError) -> Double {
        guard let wallTime else { return preciseNow() }
        guard wallTime.isFinite, wallTime >= 0 else {
            throw .invalidArgument(name: "walltime", reason: "must be a finite number of seconds since the Unix epoch, not \(wallTime)")
        }
        return wallTime
    }

    /// Now, in seconds since the Unix epoch, as `time.time()` reads it (`CLOCK_REALTIME`).
    @inlinable
    static func preciseNow() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
    }

    private func send(_ record: HookRecord) {
        guard !sendsNothing || record.type == RecordType.runAnnouncement else { return }
        _ = writer.append(type: record.type, length: record.encodedLength) { record.encode(into: $0) }
    }

    /// Sends a summary record through the ring, or, when it is larger than a ring record, into
    /// the ring's next weight segment with a record naming it (as large histograms go).
    private func sendFitting(_ record: HookRecord) throws(ConfigurationError) {
        let length = record.encodedLength
        guard length > writer.maximumPayloadLength else {
            send(record)
            return
        }
        guard !sendsNothing, case .summary(let run, let tag, let directory, let step, let wallTime, _) = record else { return }
        // The payload as the segment holds it: whole Float32 words, the last one padded with zeros.
        let words = (length + 3) / 4
        let payload = [Float](unsafeUninitializedCapacity: words) { buffer, initialized in
            let bytes = UnsafeMutableRawBufferPointer(buffer)
            bytes.initializeMemory(as: UInt8.self, repeating: 0)
            record.encode(into: UnsafeMutableRawBufferPointer(rebasing: bytes[..<length]))
            initialized = words
        }
        do {
            try SharedRing.segmentWriter(for: writer).write(
                valueCounts: [words],
                fill: { (_, write) throws(RingError) in try write(payload.span) },
                publish: { sequence, offsets in
                    send(.summary(run: run, tag: tag, directory: directory, step: step, wallTime: wallTime,
                                  value: .inSegment(sequence: sequence, offset: UInt64(offsets[0]), length: UInt64(length))))
                },
                waitForCommit: { [writer] timeout in writer.waitForNextCommit(timeout: timeout) })
        } catch {
            throw .transport("a summary of \(length) bytes needs a weight segment beside the ring, which could not be written: \(error)")
        }
    }
}
