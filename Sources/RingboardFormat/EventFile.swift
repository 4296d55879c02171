import Dispatch
import Synchronization
import SystemPackage
internal import RingboardSystem

/// One TensorBoard event file on disk, and the TFRecord-framed records appended to it but not yet
/// written.
///
/// It creates the file (TF 2 name, the `brain.Event:2` first record) or reopens one cut back to a
/// checkpointed length, buffers framed records, writes them at the end of the last whole record,
/// `fsync`s and closes. A write that fails part-way cuts the file back to the last whole record and
/// keeps the bytes buffered, so a later `write()` can try again. Before each write it checks that the
/// file is still linked: a file removed under it would swallow every write without an error.
///
/// - Warning: Not thread-safe, and it starts no thread or timer: its owner serializes every call
///   (`EventFileWriter` keeps it under its lock, and writes it when its flush timer fires).
struct EventFile: ~Copyable {
    /// The file's path.
    let path: String
    /// The root the file's directory lies under, for a file created by its first write.
    private let confinedTo: String?
    private var descriptor: FileDescriptor?
    /// `createWhenWritable`: the file (and its directory) is made by the first write that succeeds.
    private var pendingCreation = false
    /// Framed records not yet written.
    private var buffer = WireBuffer(capacity: 64 << 10)
    /// Bytes of whole records in the file; where the buffer goes next.
    private(set) var writtenBytes: Int64 = 0
    /// Where the last `startWriteback` ended: bytes before it are on their way to the disk.
    private var writebackStart: Int64 = 0
    /// Where the blocks reserved past the written bytes end (`preallocate`), or 0; `.max` where
    /// the file system cannot reserve them.
    private var preallocatedEnd: Int64 = 0
    /// A large file's steps: once a file has this many bytes written, each time it grows by as
    /// many again they start their way to the disk in the background, so that its `fsync` at a
    /// close waits for the last few MiB, not for all of it (211 MB of scalars took 80–110 ms
    /// here); and its next this many bytes are reserved ahead (`fallocate`, the size unchanged),
    /// which spares every write the file system's per-block reservation (about a quarter of a
    /// write's time on ext4). A small file, as most runs' are, gets neither.
    static let largeFileStep: Int64 = 8 << 20
    /// When the buffer last went from empty to non-empty; `nil` while it is empty.
    private(set) var bufferedSince: DispatchTime?
    /// After `close()` or `continueInNewFile(options:)`: nothing is written any more.
    private(set) var isClosed = false

    /// Creates a new event file in `directory` (making the directory and its parents) and writes
    /// the file-version record.
    ///
    /// The name is `events.out.tfevents.<10-digit seconds>.<host>.<pid>.<n><suffix>`, where `n`
    /// counts the files this process opened, so two files opened in the same second never share a
    /// name; the file is created exclusively, never through a symbolic link. With
    /// `options.createWhenWritable`, nothing is made yet when it cannot be: the file-version record
    /// stays buffered, and the first `write()` that can makes the directory and the file.
    ///
    /// - Parameters:
    ///   - directory: The run directory.
    ///   - options: The naming options (`fileSuffix`, `hostName`, `createWhenWritable`, `confinedTo`,
    ///     `createdAt`).
    /// - Throws: `EventFileError` when the directory or the file cannot be made, or the first record
    ///   cannot be written; no file is left behind then.
    static func create(in directory: String, options: EventFileWriter.Options) throws(EventFileError) -> EventFile {
        let host = options.hostName ?? Syscalls.hostName()
        let createdAt = options.createdAt ?? Syscalls.wallTime()
        func candidate() -> String {
            let name = EventFileName.make(
                seconds: Int64(createdAt), host: host, processID: Syscalls.processID,
                counter: EventFile.nextCounter(options), suffix: options.fileSuffix)
            return directory.hasSuffix("/") ? directory + name : directory + "/" + name
        }
        let fileVersion = Event(wallTime: createdAt, what: .fileVersion(Event.fileVersion2))
        if options.createWhenWritable {
            var file = EventFile(path: candidate(), descriptor: nil, confinedTo: options.confinedTo)
            file.pendingCreation = true
            file.append { TFRecord.append(to: &$0) { fileVersion.encode(into: &$0) } }
            try? file.write()
            return file
        }
        try EventFile.makeDirectories(directory, confinedTo: options.confinedTo)
        var attempt = 0
        var (path, descriptor) = (candidate(), FileDescriptor?.none)
        while descriptor == nil {
            do {
                descriptor = try EventFile.create(path)
            } catch .systemCall(_, _, .fileExists) where attempt < 1000 {
                attempt += 1
                path = candidate()
            }
        }
        var file = EventFile(path: path, descriptor: descriptor, confinedTo: options.confinedTo)
        file.append { TFRecord.append(to: &$0) { fileVersion.encode(into: &$0) } }
        do {
            try file.write()
        } catch {
            // Leave no empty or partial file behind.
            try? descriptor?.close()
            _ = Syscalls.unlink(path)
            throw error
        }
        return file
    }

    private init(path: String, descriptor: FileDescriptor?, confinedTo: String?) {
        self.path = path
        self.descriptor = descriptor
        self.confinedTo = confinedTo
    }

    /// Reopens an event file this or an earlier process wrote, cut back to `length` bytes (the end
    /// of its last whole record that a checkpoint vouched for), to go on appending there. Whatever
    /// followed `length` (records written after the checkpoint, or a record torn by a crash) is
    /// removed, so the file reads strictly, record by record.
    ///
    /// - Parameters:
    ///   - path: The event file. It is opened without following a symbolic link.
    ///   - length: Where its last vouched-for record ends; at least the file-version record.
    /// - Throws: `EventFileError.notAnEventFile` when `path` is not a regular file or is shorter
    ///   than `length`; `.systemCall` when it cannot be opened or cut back.
    init(resuming path: String, at length: Int64) throws(EventFileError) {
        let descriptor: FileDescriptor
        do {
            descriptor = try FileDescriptor.open(FilePath(path), .writeOnly, options: [.noFollow, .closeOnExec])
        } catch {
            throw .systemCall("open", path: path, error as? Errno ?? .ioError)
        }
        func fail(_ error: EventFileError) -> EventFileError {
            try? descriptor.close()
            return error
        }
        switch Syscalls.status(descriptor) {
        case .success(let info) where !info.isRegular:
            throw fail(.notAnEventFile(path: path, reason: "not a regular file"))
        case .success(let info) where info.size < length:
            throw fail(.notAnEventFile(path: path, reason: "\(info.size) bytes, shorter than the \(length) bytes checkpointed"))
        case .success:
            // Also at the same size: a cut to it gives back blocks reserved past it
            // (`preallocate`) by a process that stopped before its close.
            if case .failure(let error) = Syscalls.truncate(descriptor, Int(length)) {
                throw fail(.systemCall("ftruncate", path: path, error))
            }
        case .failure(let error):
            throw fail(.systemCall("fstat", path: path, error))
        }
        self.init(path: path, descriptor: descriptor, confinedTo: nil)
        (writtenBytes, writebackStart) = (length, length)
    }

    /// Counts the files this process opened, for unique names.
    private static let counter = Atomic<Int>(0)

    /// The `<n>` for the next name a file made with `options` tries.
    private static func nextCounter(_ options: EventFileWriter.Options) -> Int {
        options.counter?() ?? counter.wrappingAdd(1, ordering: .relaxed).oldValue
    }

    /// Bytes appended but not yet written to the file.
    var pendingBytes: Int { buffer.count }

    /// Appends what `frame` appends to the buffer: whole TFRecord-framed records. Nothing is
    /// written to the file.
    ///
    /// - Precondition: The file is not closed (its owner refuses appends then).
    mutating func append(_ frame: (inout WireBuffer) -> Void) {
        precondition(!isClosed, "an append to a closed event file")
        let wasEmpty = buffer.isEmpty
        frame(&buffer)
        if wasEmpty && !buffer.isEmpty { bufferedSince = .now() }
    }

    /// Writes the buffered records at the end of the last whole record (not necessarily to the
    /// disk: see `sync()`). Does nothing when the buffer is empty or the file closed.
    ///
    /// - Throws: `EventFileError.fileRemoved` when the file was unlinked; `.systemCall` when it
    ///   cannot be made (`createWhenWritable`) or written. The file is cut back to its last whole
    ///   record and the records stay buffered.
    mutating func write() throws(EventFileError) {
        guard !buffer.isEmpty, !isClosed else { return }
        if pendingCreation {
            try EventFile.makeDirectories(EventFile.directory(of: path), confinedTo: confinedTo)
            descriptor = try EventFile.create(path)
            pendingCreation = false
        }
        guard let descriptor else { return }
        // A file unlinked under us would swallow every write without an error: look first.
        switch Syscalls.status(descriptor) {
        case .success(let info) where info.links == 0:
            throw .fileRemoved(path: path)
        case .success:
            break
        case .failure(let error):
            throw .systemCall("fstat", path: path, error)
        }
        let start = writtenBytes
        if start >= EventFile.largeFileStep, start + Int64(buffer.count) > preallocatedEnd {
            // Reserved ahead; a failure (a full disk, a file system that cannot) leaves the
            // write to allocate as it goes, and to report what is wrong.
            let end = start + Int64(buffer.count) + EventFile.largeFileStep
            switch Syscalls.preallocate(descriptor, offset: start, length: end - start) {
            case .success: preallocatedEnd = end
            case .failure(.notSupported), .failure(.notSupportedOnSocket): preallocatedEnd = .max  // never again
            case .failure: break
            }
        }
        let result: Result<Void, Errno> = buffer.withUnsafeBytes { bytes in
            var written = 0
            while written < bytes.count {
                do {
                    let count = try descriptor.write(
                        toAbsoluteOffset: start + Int64(written),
                        UnsafeRawBufferPointer(rebasing: bytes[written...]),
                        retryOnInterrupt: true)
                    // A regular file only reports 0 bytes written when it cannot take more.
                    if count == 0 { return .failure(.noSpace) }
                    written += count
                } catch {
                    return .failure(error as? Errno ?? .ioError)
                }
            }
            return .success(())
        }
        switch result {
        case .success:
            writtenBytes += Int64(buffer.count)
            buffer.removeAll()
            bufferedSince = nil
            if writtenBytes - writebackStart >= EventFile.largeFileStep {
                Syscalls.startWriteback(descriptor, offset: writebackStart, length: writtenBytes - writebackStart)
                writebackStart = writtenBytes
            }
        case .failure(let error):
            // Leave no torn record behind (nor blocks reserved past it); the bytes stay
            // buffered for the next attempt.
            _ = Syscalls.truncate(descriptor, Int(start))
            preallocatedEnd = 0
            throw .systemCall("write", path: path, error)
        }
    }

    /// Writes the buffered records and waits until the file is on disk (`fsync`).
    ///
    /// - Throws: `EventFileError` when the write or the `fsync` fails.
    mutating func sync() throws(EventFileError) {
        try write()
        if let descriptor, case .failure(let error) = Syscalls.fsync(descriptor) {
            throw .systemCall("fsync", path: path, error)
        }
    }

    /// Writes the buffered records, `fsync`s the file and closes it. Closing a closed file does
    /// nothing.
    ///
    /// - Throws: `EventFileError` when the last write or the `fsync` fails; the file then stays
    ///   open, holding its records, so `close()` can be tried again.
    mutating func close() throws(EventFileError) {
        guard !isClosed else { return }
        try write()
        if let descriptor, preallocatedEnd > writtenBytes, preallocatedEnd != .max {
            // The blocks reserved past the last record go back (a cut to the file's own size).
            if case .failure(let error) = Syscalls.truncate(descriptor, Int(writtenBytes)) {
                throw .systemCall("ftruncate", path: path, error)
            }
            preallocatedEnd = 0
        }
        try sync()
        isClosed = true
        guard let descriptor else { return }  // never created: nothing was appended
        self.descriptor = nil
        do {
            try descriptor.close()
        } catch {
            throw .systemCall("close", path: path, error as? Errno ?? .ioError)
        }
    }

    /// After the file was removed (`EventFileError.fileRemoved`, its directory perhaps with it):
    /// a new file in the same directory, made again if need be, that takes over every record this
    /// one still buffers. This file is closed. On failure it keeps its records, so this can be
    /// tried again.
    ///
    /// - Parameter options: The naming options, as for `create(in:options:)`.
    /// - Returns: The new file.
    /// - Throws: `EventFileError` when the directory or the new file cannot be made.
    mutating func continueInNewFile(options: EventFileWriter.Options) throws(EventFileError) -> EventFile {
        var successor = try EventFile.create(in: EventFile.directory(of: path), options: options)
        if !buffer.isEmpty {
            buffer.withUnsafeBytes { bytes in successor.append { $0.append(bytes) } }
        }
        buffer.removeAll()
        bufferedSince = nil
        try? descriptor?.close()
        descriptor = nil
        isClosed = true
        return successor
    }

    /// Creates `path` exclusively, never through a symbolic link.
    private static func create(_ path: String) throws(EventFileError) -> FileDescriptor {
        do {
            return try FileDescriptor.open(
                FilePath(path), .writeOnly, options: [.create, .exclusiveCreate, .noFollow, .closeOnExec],
                permissions: [.ownerReadWrite, .groupRead, .otherRead])
        } catch {
            throw .systemCall("open", path: path, error as? Errno ?? .ioError)
        }
    }

    private static func directory(of path: String) -> String {
        Paths.directory(of: path)
    }

    /// Makes `directory` (and its parents), below `root` without following a symbolic link
    /// planted there (`ConfinedDirectory`); without a root, as `mkdir -p`.
    private static func makeDirectories(_ directory: String, confinedTo root: String?) throws(EventFileError) {
        do {
            try ConfinedDirectory.create(directory, confinedTo: root)
        } catch {
            throw EventFileError(error)
        }
    }
}

// Unchecked: the buffer's memory belongs to the file alone (`WireBuffer` is ~Copyable, as is the
// file), so handing the file to another thread hands over the only way to reach it.
extension EventFile: @unchecked Sendable {}
