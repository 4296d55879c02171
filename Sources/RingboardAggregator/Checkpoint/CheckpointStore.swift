import Glibc
import RingboardRing
import RingboardSummaries
internal import RingboardSystem
import SystemPackage

/// The aggregator's checkpoint in the ring directory, beside the rings it describes:
///
/// - `aggregator.state`: generation, log root, every ring's read position and every run's
///   state (counters, names, routes, `.mean` queues, event file paths and lengths); replaced
///   whole (written aside, then renamed) after each flush and before the rings are committed.
/// - `aggregator.model.<generation>.<n>`: a run's model and latest weights, written only when
///   they changed, so that a large model is not rewritten every flush. Weights mapped from weight
///   segments are named (ring, sequence number, offset, count), not copied: the aggregator keeps
///   every segment a saved state's model files name (`WeightSegments.removeUnneeded`).
/// - `aggregator.files.<generation>`: the event files (and profile traces) created since that
///   generation's state, one path per line, written before anything but the file-version record
///   goes into them. A restart removes them: what they held is written again from the rings.
///
/// Files are not `fsync`ed: they guard against the aggregator process dying, and live where the
/// rings live (memory-backed by default), which a machine crash loses as well.
///
/// - Warning: Not thread-safe; the aggregator's thread owns it.
final class CheckpointStore {
    static let stateMagic = Array("RBAGGST1".utf8)
    static let modelMagic = Array("RBAGGMD1".utf8)
    private static let stateName = "aggregator.state"
    private static let modelPrefix = "aggregator.model."
    private static let journalPrefix = "aggregator.files."

    let directory: String
    /// The generation of the state file on disk (0: none yet).
    private(set) var generation: Int64 = 0
    private var journal: FileDescriptor?
    /// The model file last written for each run, and the model version it holds.
    private var modelFiles: [String: (version: Int, name: String)] = [:]
    private var modelSerial = 0
    /// Model files replaced by newer ones: removed once a state no longer names them.
    private var replacedModelFiles: [String] = []
    /// The memory of the last model file's body, reused for the next.
    private var modelBuffer: [UInt8] = []
    /// A model file no state names any more, overwritten by the next model file: its pages
    /// (memory, where the ring directory is) are reused rather than freed and allocated again.
    private var spareModelFile: String?

    init(directory: String) {
        self.directory = directory
    }

    deinit {
        try? journal?.close()
    }

    var statePath: String { directory + "/" + CheckpointStore.stateName }

    /// The state file's body, checked, or `nil` when there is none.
    ///
    /// - Throws: `AggregatorError.checkpoint` naming the file when it is damaged or of another
    ///   version; `.io` when it cannot be read.
    func loadState() throws(AggregatorError) -> StateDecoder? {
        guard let bytes = try read(statePath) else { return nil }
        return try inFile(statePath) { () throws(AggregatorError) in try StateDecoder(file: bytes, magic: CheckpointStore.stateMagic) }
    }

    /// What `body` returns, with a `.malformed` error it throws turned into `.checkpoint` naming
    /// `path`.
    func inFile<T>(_ path: String, _ body: () throws(AggregatorError) -> T) throws(AggregatorError) -> T {
        do {
            return try body()
        } catch {
            guard case .malformed(let reason) = error else { throw error }
            throw .checkpoint(path: path, reason: reason, stateFile: statePath)
        }
    }

    /// After a restart from `generation`: removes the event files created after that state was
    /// saved, every other generation's journal, and model files the state does not name.
    ///
    /// - Returns: The event files removed.
    func recover(generation: Int64, modelFilesInUse: Set<String>) -> [String] {
        self.generation = generation
        var removed: [String] = []
        let names = directoryNames()
        if let text = try? read(journalPath(generation)) {
            for line in String(decoding: text, as: UTF8.self).split(separator: "\n") {
                let path = String(line)
                // Only what the journal names, only event files and profile traces, never
                // through a symbolic link.
                guard let name = path.split(separator: "/").last else { continue }
                let isTrace = name.hasSuffix(ProfileTrace.traceSuffix) || name.hasSuffix(ProfileTrace.xplaneSuffix)
                guard name.hasPrefix("events.out.tfevents.") || isTrace else { continue }
                var status = stat()
                guard lstat(path, &status) == 0, status.st_mode & S_IFMT == S_IFREG else { continue }
                if unlink(path) == 0 { removed.append(path) }
                // A trace's session directory holds only that trace's two files (once both are
                // gone, it goes).
                if isTrace { rmdir(Paths.directory(of: path)) }
            }
        }
        for name in names {
            if name.hasPrefix(CheckpointStore.journalPrefix) || (name.hasPrefix(CheckpointStore.modelPrefix) && !modelFilesInUse.contains(name))
                || CheckpointStore.isLeftoverStateFile(name) {
                unlink(directory + "/" + name)
            }
        }
        return removed
    }

    /// Remembers that the model of the run in directory `run`, at `version`, is in `name`
    /// (after a restart).
    func noteModelFile(_ name: String, run: String, version: Int) {
        modelFiles[run] = (version, name)
    }

    /// Notes a new event file in the journal of files created since the last state.
    func noteCreated(_ path: String) throws(AggregatorError) {
        if journal == nil {
            let path = journalPath(generation)
            do {
                journal = try FileDescriptor.open(
                    FilePath(path), .writeOnly, options: [.create, .append, .noFollow, .closeOnExec], permissions: [.ownerReadWrite])
            } catch {
                throw .io(path: path, reason: "cannot open: \(error)")
            }
        }
        do {
            _ = try journal!.writeAll(Array((path + "\n").utf8))
        } catch {
            throw .io(path: journalPath(generation), reason: "cannot write: \(error)")
        }
    }

    /// The model file of the run in directory `run`, whose model is `model` at `version`:
    /// written first when the model changed since the last one.
    func modelFile(for run: String, model: RunModel?, version: Int) throws(AggregatorError) -> String? {
        guard let model else { return nil }
        let key = run
        if let known = modelFiles[key], known.version == version { return known.name }
        modelSerial += 1
        let name = CheckpointStore.modelPrefix + "\(generation + 1).\(modelSerial)"
        // A model holds every weight's values: its buffer is kept for the next model file, and
        // the body is written as it is, after its header.
        var storage: [UInt8] = []
        swap(&storage, &modelBuffer)
        var encoder = StateEncoder(reusing: consume storage)
        encoder.reserveCapacity(model.graphDef.count + model.layers.reduce(4096) { total, layer in
            layer.weights.reduce(total + 4096) { total, weight in
                if case .owned(let values) = weight.values { total + 4 * values.count + 256 } else { total + 256 }
            }
        })
        model.encode(into: &encoder)
        let header = encoder.fileHeader(magic: CheckpointStore.modelMagic)
        modelBuffer = encoder.storage()
        let spare = spareModelFile
        spareModelFile = nil
        try replace(name, reusing: spare, with: header, modelBuffer)
        if let old = modelFiles[key] { replacedModelFiles.append(old.name) }
        modelFiles[key] = (version, name)
        return name
    }

    /// Reads a model file the state names.
    ///
    /// - Parameter segment: Maps a weight segment the model names, by ring file name and
    ///   sequence number.
    /// - Throws: `AggregatorError.checkpoint` naming the model file when it is damaged or a
    ///   weight segment it names cannot be mapped, or the state when the model file it names is
    ///   missing.
    func loadModel(_ name: String, segment: (String, Int64) throws(RingError) -> WeightSegment) throws(AggregatorError) -> RunModel {
        guard !name.contains("/"), name.hasPrefix(CheckpointStore.modelPrefix),
              let bytes = try read(directory + "/" + name) else {
            throw .checkpoint(path: statePath, reason: "the model file \(name) it names is missing", stateFile: statePath)
        }
        return try inFile(directory + "/" + name) { () throws(AggregatorError) in
            var decoder = try StateDecoder(file: bytes, magic: CheckpointStore.modelMagic)
            let model = try RunModel(from: &decoder) { (ring, sequence) throws(AggregatorError) in
                do {
                    return try segment(ring, sequence)
                } catch {
                    throw .malformed("a weight segment it names: \(error)")
                }
            }
            guard decoder.isAtEnd else { throw .malformed("trailing bytes") }
            return model
        }
    }

    /// Saves the next generation's state and starts its journal; model files of runs no longer
    /// in it are removed.
    func save(_ body: StateEncoder, liveRuns: Set<String>) throws(AggregatorError) {
        try replace(CheckpointStore.stateName, with: body.file(magic: CheckpointStore.stateMagic))
        let previous = generation
        generation += 1
        if let descriptor = journal {
            try? descriptor.close()
            journal = nil
        }
        unlink(journalPath(previous))
        for name in replacedModelFiles {
            if spareModelFile == nil { spareModelFile = name } else { unlink(directory + "/" + name) }
        }
        replacedModelFiles = []
        for (key, entry) in modelFiles where !liveRuns.contains(key) {
            unlink(directory + "/" + entry.name)
            modelFiles[key] = nil
        }
    }

    /// Gives up the checkpoint on disk when a new one cannot be saved (its disk is full, most
    /// likely with the very spill segments a commit would free): the state, journals and model
    /// files are removed, so that the rings can be committed without a stale checkpoint that a
    /// restart would trust. A restart before the next `save` starts its runs afresh.
    func abandon() {
        for name in directoryNames() where name == CheckpointStore.stateName || name.hasPrefix(CheckpointStore.journalPrefix)
            || name.hasPrefix(CheckpointStore.modelPrefix) || CheckpointStore.isLeftoverStateFile(name) {
            unlink(directory + "/" + name)
        }
        if let descriptor = journal {
            try? descriptor.close()
            journal = nil
        }
        modelFiles = [:]
        replacedModelFiles = []
        spareModelFile = nil
    }

    /// The generation number the next `save` writes into its state.
    var nextGeneration: Int64 { generation + 1 }

    private func journalPath(_ generation: Int64) -> String {
        directory + "/" + CheckpointStore.journalPrefix + "\(generation)"
    }

    private func directoryNames() -> [String] {
        (try? DirectoryListing.names(in: directory)) ?? []
    }

    /// A state file written aside and never renamed into place (the aggregator died first):
    /// `aggregator.state.<pid>.tmp` (`AtomicFile`), or `aggregator.state.tmp` from earlier versions.
    private static func isLeftoverStateFile(_ name: String) -> Bool {
        name.hasPrefix(stateName + ".") && name.hasSuffix(".tmp")
    }

    /// A whole file, or `nil` when it does not exist.
    private func read(_ path: String) throws(AggregatorError) -> [UInt8]? {
        let descriptor: FileDescriptor
        do {
            descriptor = try FileDescriptor.open(FilePath(path), .readOnly, options: [.noFollow, .closeOnExec])
        } catch Errno.noSuchFileOrDirectory {
            return nil
        } catch {
            throw .io(path: path, reason: "cannot open: \(error)")
        }
        defer { try? descriptor.close() }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let count: Int
            do {
                count = try chunk.withUnsafeMutableBytes { try descriptor.read(into: $0, retryOnInterrupt: true) }
            } catch {
                throw .io(path: path, reason: "cannot read: \(error)")
            }
            if count == 0 { return bytes }
            bytes += chunk[0..<count]
        }
    }

    /// Writes `bytes` (its parts one after another) beside `name` in the ring directory and
    /// renames it over `name`, so a reader sees the old file or the new, never a part. Not
    /// `fsync`ed (see the type's comment).
    ///
    /// - Parameter spare: The name of a file no longer needed, overwritten instead of making a
    ///   new one.
    private func replace(_ name: String, reusing spare: String? = nil, with bytes: [UInt8]...) throws(AggregatorError) {
        do {
            try AtomicFile.replace(name, under: directory, with: bytes, permissions: [.ownerReadWrite], durable: false, reusing: spare)
        } catch {
            throw .io(path: error.path ?? directory + "/" + name, reason: error.reason)
        }
    }
}
