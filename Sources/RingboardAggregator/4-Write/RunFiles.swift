import Logging
import RingboardFormat
internal import RingboardSystem

/// Stage 4: one run's event files, one per subdirectory (`train`, `validation`), each made when
/// it first has something to write, in directories made below the run's root without following a
/// symbolic link planted there. The `EventFileWriter`s frame, checksum and write on their own
/// encoding threads. Batch scalars are staged here and handed to the writers many steps at a
/// time (`handOverScalars`).
///
/// - Warning: Not thread-safe; the aggregator's thread owns it.
struct RunFiles {
    /// The run directory, absolute.
    let directory: String
    /// The directory `directory` lies in (or is) whose subdirectories are made one by one
    /// (`ConfinedDirectory`): the aggregator's log root, or without one the run's `log_dir`.
    let root: String
    private let host: String
    private let logger: Logger
    /// Told the path of every event file (and profile trace) before anything is written to it
    /// beyond the file-version record (the checkpoint's journal).
    let fileCreated: (String) -> Void

    private var writers: [String: EventFileWriter] = [:]
    /// `writers["train"]` and `writers["validation"]`, without hashing a name per scalar.
    private var train: EventFileWriter?
    private var validation: EventFileWriter?
    /// Batch scalars not yet handed to the `train` and `validation` writers.
    private var stagedTrain = EventFileWriter.ScalarBatch()
    private var stagedValidation = EventFileWriter.ScalarBatch()
    private(set) var hasStagedScalars = false
    /// A `SummaryWriter` run's scalars, staged per directory (`summarySinks`), their tags in
    /// `summaryTags`; handed over with the batch scalars.
    private var summarySinks: [(subdirectory: String, staged: EventFileWriter.ScalarBatch)] = []
    private(set) var summaryTags: [ScalarTag] = []
    private var stagedSummaryScalars = 0

    init(directory: String, root: String, host: String, logger: Logger, fileCreated: @escaping (String) -> Void) {
        self.directory = directory
        self.root = root
        self.host = host
        self.logger = logger
        self.fileCreated = fileCreated
    }

    /// Staged batch scalars past which `stageBatchScalars` hands them over itself, so the
    /// encoding thread has work while this one goes on.
    static let handOverSlice = 8192

    /// Stages the batch scalars of one step: `plan`'s positions of `values`, with their tags in
    /// `tags`. Files are made in the order their first scalar comes.
    mutating func stageBatchScalars(
        _ plan: borrowing BatchPlan, _ values: borrowing [Double], step: Int64, wallTime: Double, tags: borrowing [ScalarTag]
    ) throws(EventFileError) {
        if plan.validationFirst && validation == nil { _ = try writer("validation", wallTime: wallTime, tags: tags) }
        if !plan.trainTags.isEmpty {
            if train == nil { _ = try writer("train", wallTime: wallTime, tags: tags) }
            stagedTrain.append(plan.trainTags, values, at: plan.trainPositions, step: step, wallTime: wallTime)
        }
        if !plan.validationTags.isEmpty {
            if validation == nil { _ = try writer("validation", wallTime: wallTime, tags: tags) }
            stagedValidation.append(plan.validationTags, values, at: plan.validationPositions, step: step, wallTime: wallTime)
        }
        hasStagedScalars = true
        if stagedTrain.count + stagedValidation.count >= RunFiles.handOverSlice { try handOverScalars(tags: tags) }
    }

    /// Hands the staged batch scalars to their writers, one call per file: after many hooks
    /// (the aggregator, after each poll), and before anything else is written to the run's files
    /// or they are flushed, so every file keeps the order of its events.
    mutating func handOverScalars(tags: borrowing [ScalarTag]) throws(EventFileError) {
        guard hasStagedScalars else { return }
        hasStagedScalars = false
        // Dropped if the writer refuses them (it is closed), as a single scalar would be.
        if let train, !stagedTrain.isEmpty { try train.appendScalars(tags, &stagedTrain) }
        if let validation, !stagedValidation.isEmpty { try validation.appendScalars(tags, &stagedValidation) }
        guard stagedSummaryScalars > 0 else { return }
        stagedSummaryScalars = 0
        for sink in summarySinks.indices where !summarySinks[sink].staged.isEmpty {
            var staged = EventFileWriter.ScalarBatch()
            swap(&staged, &summarySinks[sink].staged)
            defer { swap(&staged, &summarySinks[sink].staged) }
            // Made (or found) without handing over again: nothing else is staged now.
            let writer = try self.writer(summarySinks[sink].subdirectory, wallTime: staged.firstWallTime, tags: tags)
            try writer.appendScalars(summaryTags, &staged)
        }
    }

    /// The sink of `subdirectory` for `stageSummaryScalar`, made when new.
    mutating func summarySink(_ subdirectory: String) -> Int {
        if let sink = summarySinks.firstIndex(where: { $0.subdirectory == subdirectory }) { return sink }
        summarySinks.append((subdirectory, EventFileWriter.ScalarBatch()))
        return summarySinks.count - 1
    }

    /// The directory of sink `sink`.
    func summarySinkName(_ sink: Int) -> String { summarySinks[sink].subdirectory }

    /// The index of `tag` in `summaryTags`, added when new.
    mutating func summaryTag(_ tag: String) -> Int32 {
        if let index = summaryTags.firstIndex(where: { $0.tag == tag }) { return Int32(index) }
        summaryTags.append(ScalarTag(tag))
        return Int32(summaryTags.count - 1)
    }

    /// Stages a `SummaryWriter` scalar for its directory's file (`summarySink`), handed over with
    /// the batch scalars.
    mutating func stageSummaryScalar(sink: Int, tag: Int32, value: Double, step: Int64, wallTime: Double, tags: borrowing [ScalarTag]) throws(EventFileError) {
        summarySinks[sink].staged.append(tag: tag, value: value, step: step, wallTime: wallTime)
        stagedSummaryScalars += 1
        hasStagedScalars = true
        if stagedSummaryScalars >= RunFiles.handOverSlice { try handOverScalars(tags: tags) }
    }

    /// The writer of `subdirectory`, made when it first has something to write: an event of
    /// `wallTime`, which the file is then said to be created at (as TF 2.0 creates it when that
    /// event's hook writes it). Staged batch scalars are handed over first.
    mutating func writer(_ subdirectory: String, wallTime: Double, tags: borrowing [ScalarTag]) throws(EventFileError) -> EventFileWriter {
        if hasStagedScalars { try handOverScalars(tags: tags) }
        if subdirectory == "train", let train { return train }
        if subdirectory == "validation", let validation { return validation }
        if let writer = writers[subdirectory] { return writer }
        var options = EventFileWriter.Options()
        options.hostName = host
        // Never through a symbolic link planted under the log root: refused here, and the
        // directories are made one by one below it whenever the file is made.
        options.confinedTo = root
        options.createdAt = wallTime
        do {
            try makeDirectory(subdirectory)
        } catch .systemCall(_, _, let error) where error == .noSpace || error == .noSuchFileOrDirectory || error == .ioError {
            // A full disk or a log directory being removed must not lose the event: it waits in
            // memory (its records in the rings) until the file can be made.
        }
        options.createWhenWritable = true
        let writer = try EventFileWriter(directory: path(of: subdirectory), options: options)
        fileCreated(writer.path)
        set(subdirectory, writer)
        return writer
    }

    private mutating func set(_ subdirectory: String, _ writer: EventFileWriter?) {
        writers[subdirectory] = writer
        if subdirectory == "train" { train = writer }
        if subdirectory == "validation" { validation = writer }
    }

    /// `directory/subpath`, or `directory` itself for an empty `subpath` (a `SummaryWriter`'s
    /// files are in its run directory).
    func path(of subpath: String) -> String {
        subpath.isEmpty ? directory : directory + "/" + subpath
    }

    /// Makes `directory/subpath` below `root`, component by component, following no symbolic
    /// link planted there.
    func makeDirectory(_ subpath: String) throws(EventFileError) {
        let path = path(of: subpath)
        let relative = root == "/" ? String(path.dropFirst()) : String(path.dropFirst(root.count + 1))
        do {
            _ = try ConfinedDirectory.create(relative, under: root)
        } catch {
            throw EventFileError(error)
        }
    }

    /// Writes everything buffered. A file removed meanwhile (its directory perhaps with it) is
    /// continued in a new one, which takes over the events not yet written.
    mutating func flush(tags: borrowing [ScalarTag]) throws(EventFileError) {
        try handOverScalars(tags: tags)
        for subdirectory in writers.keys.sorted() {
            try replacingRemovedFile(subdirectory) { (writer: EventFileWriter) throws(EventFileError) in try writer.flush() }
        }
    }

    /// Closes (and fsyncs) the event files; the next write opens new ones. A file that cannot be
    /// closed keeps its writer (and events), so closing can be tried again.
    mutating func close(tags: borrowing [ScalarTag]) throws(EventFileError) {
        try handOverScalars(tags: tags)
        for subdirectory in writers.keys.sorted() {
            try replacingRemovedFile(subdirectory) { (writer: EventFileWriter) throws(EventFileError) in try writer.close() }
            set(subdirectory, nil)
        }
    }

    /// Whether event files are open.
    var isOpen: Bool { !writers.isEmpty }

    private mutating func replacingRemovedFile(
        _ subdirectory: String, _ body: (EventFileWriter) throws(EventFileError) -> Void
    ) throws(EventFileError) {
        guard let writer = writers[subdirectory] else { return }
        do {
            try body(writer)
        } catch .fileRemoved(let path) {
            let successor = try writer.continueInNewFile()
            fileCreated(successor.path)
            set(subdirectory, successor)
            logger.error("event file removed while being written; its unwritten events go to a new file",
                         metadata: ["run": "\(directory)", "removed": "\(path)", "new": "\(successor.path)"])
            try body(successor)
        }
    }

    // MARK: Checkpoint

    /// Each open file: its subdirectory, path and length (flush first).
    var checkpoint: [(subdirectory: String, path: String, length: Int64)] {
        writers.sorted { $0.key < $1.key }.map { ($0.key, $0.value.path, $0.value.writtenBytes) }
    }

    /// Reopens the files a checkpoint names, cut back to their lengths (`checked` first).
    mutating func resume(_ files: [(subdirectory: String, path: String, length: Int64)]) {
        var options = EventFileWriter.Options()
        options.hostName = host
        for file in files {
            do {
                set(file.subdirectory, try EventFileWriter(resuming: file.path, at: file.length, options: options))
            } catch {
                // Its events up to the checkpoint are gone with it; the next ones go to a new file.
                logger.error("checkpointed event file not reopened", metadata: ["run": "\(directory)", "error": "\(error)"])
            }
        }
    }

    /// Whether a checkpoint's file belongs to this run: `path` is an event file directly in
    /// `directory/subdirectory` (`directory` for an empty one), and the subdirectory climbs
    /// nowhere.
    func owns(subdirectory: String, path: String) -> Bool {
        let components = subdirectory.split(separator: "/", omittingEmptySubsequences: false)
        let name = path.split(separator: "/").last.map(String.init) ?? ""
        return (subdirectory.isEmpty || !components.contains(where: { $0.isEmpty || $0 == "." || $0 == ".." }))
            && path == self.path(of: subdirectory) + "/" + name && name.hasPrefix("events.out.tfevents.")
    }
}
