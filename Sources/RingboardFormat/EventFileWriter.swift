import Dispatch
import Glibc
internal import RingboardSystem
import Synchronization
import SystemPackage

/// Writes one TensorBoard event file: TF 2 file name, the `brain.Event:2` first record, then
/// TFRecord-framed events.
///
/// Appends go to a buffer in memory. The buffer is written when it passes
/// `Options.bufferSize`, on `flush()`, and by a timer at most `Options.flushDelay` (100 ms by
/// default) after a record entered an empty buffer, so TensorBoard sees every event promptly
/// even when the writer goes idle. `close()` writes the rest and `fsync`s the file.
///
/// Write errors never leave a torn record in the file: when a write fails part-way, the file is
/// cut back to the last whole record and the unwritten bytes stay in memory, so a later `flush()`
/// can write them once the cause (a full disk, say) is gone. Appends go on buffering meanwhile;
/// `flush()`, `sync()` and `close()` report the error. A file removed under the writer is taken
/// over by a new one with `continueInNewFile()`.
///
/// - Warning: Safe to share between threads; appends from several threads are serialised.
public final class EventFileWriter: @unchecked Sendable {
    /// How a writer buffers and names its file.
    public struct Options: Sendable {
        /// The longest a record stays in memory before it is written to the file.
        public var flushDelay: Duration = .milliseconds(100)
        /// Pending bytes that trigger a write.
        public var bufferSize: Int = 256 << 10
        /// The end of the file name; TF 2 writers use `.v2`.
        public var fileSuffix: String = ".v2"
        /// The host name in the file name; `nil` means this machine's (`gethostname`).
        public var hostName: String? = nil
        /// Create the file (and its directory) with the first write that succeeds, instead of
        /// failing `init` when it cannot be created now (a full disk, a directory removed): the
        /// records wait in memory, and `flush()` reports why the file is not there yet.
        public var createWhenWritable = false
        /// A log root the file's directory lies under: the directories below it are made one
        /// by one and a symbolic link among them is refused (`ConfinedDirectory`).
        public var confinedTo: String? = nil
        /// When the file is said to be created: the seconds in its name and the file-version
        /// record's wall time. `nil` for now. (TF 2.0 creates a run's file when the first summary
        /// is written to it, so its time is that summary's.)
        public var createdAt: Double? = nil
        /// Where the `<n>` of file names comes from; `nil` for `EventFileWriter.counter`, the
        /// count of writers this process opened. Tests give a writer its own counts, so that no
        /// other writer of the process takes the names they expect it to try.
        var counter: (@Sendable () -> Int)? = nil

        /// Default options: 100 ms flush delay, 256 KiB buffer, `.v2` suffix.
        public init() {}
    }

    /// The file being written.
    public let path: String
    private let options: Options
    private let state: Mutex<State>
    /// Scalars from `appendScalars` not yet encoded into the buffer: they are encoded on
    /// `EventFileWriter.encoding` while the appending thread goes on. Whatever else takes the
    /// buffer (an append, a write, `close()`) encodes them first, under `state`'s lock, so the
    /// file keeps the order of the appends. Lock order: `state`, then `staged`.
    private let staged = Mutex(Staged())

    private struct Staged: ~Copyable {
        var scalars: [StagedScalar] = []
        /// Events staged behind a deferred one (`appendDeferred`), each to be encoded after the
        /// first `at` scalars of `scalars`.
        var events: [(at: Int, event: StagedEvent)] = []
        /// The encoding job is waiting for deferred events: appends wait behind them here too.
        var deferredInFlight = false
        /// The tags the scalars name (the latest table `appendScalars` was given).
        var table: [ScalarTag] = []
        /// An encoding job is queued.
        var scheduled = false
        /// As `State.closed`, for `appendScalars`.
        var closed = false
    }

    /// An event waiting in `Staged`: being made on `making`, or encoded already.
    private enum StagedEvent {
        case deferred(DeferredEvent)
        case encoded([UInt8])
    }

    /// An event `appendDeferred` has `making` make.
    private final class DeferredEvent: @unchecked Sendable {
        /// Left once `event` is set.
        private let made = DispatchGroup()
        private var event: Event?

        init(_ make: @escaping @Sendable () -> Event?, then done: @escaping @Sendable () -> Void) {
            made.enter()
            EventFileWriter.making.async {
                self.event = make()
                self.made.leave()
                EventFileWriter.makingSlots.signal()
                done()
            }
        }

        /// The event, once made (waits for it).
        var result: Event? {
            made.wait()
            return event
        }
    }

    /// Where deferred events are made, several at a time.
    private static let making = DispatchQueue(label: "ringboard.event-making", qos: .userInitiated, attributes: .concurrent)
    /// Deferred events being made (all writers), at most twice the cores: `appendDeferred` waits
    /// for one to finish beyond that, so a caller faster than the making never piles up events
    /// (and their inputs) without bound.
    private static let makingSlots = DispatchSemaphore(value: max(2, 2 * Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))))

    fileprivate struct StagedScalar {
        var tag: Int32
        var value: Float
        var step: Int64
        var wallTime: Double
    }

    /// Where staged scalars are encoded: one queue for every writer of the process.
    private static let encoding = DispatchQueue(label: "ringboard.event-file-encoding", qos: .userInitiated)
    /// Staged scalars past which the appending thread encodes them itself, so they never pile up
    /// faster than they are encoded.
    private static let stagedLimit = 1 << 16

    private struct State: ~Copyable {
        var buffer: WireBuffer
        var descriptor: FileDescriptor?
        /// After `close()` (or `continueInNewFile()`): appends are refused.
        var closed = false
        /// `createWhenWritable`: the file is not created yet.
        var pendingCreation = false
        /// Bytes of whole records in the file; where `buffer` goes next.
        var fileOffset: Int64 = 0
        /// When the buffer last went from empty to non-empty.
        var pendingSince: DispatchTime?
        var timerArmed = false
        /// Staged scalars being encoded (kept for its capacity).
        var encoding: [StagedScalar] = []
    }

    /// Creates a new event file in `directory` (creating the directory and its parents) and
    /// writes the file-version record.
    ///
    /// The name is `events.out.tfevents.<10-digit seconds>.<host>.<pid>.<n><suffix>`, where `n`
    /// counts the writers this process opened, so two writers opened in the same second never
    /// share a name; the file is created exclusively, never through a symbolic link.
    ///
    /// - Parameters:
    ///   - directory: The run directory.
    ///   - options: Buffering and naming options.
    /// - Throws: `EventFileError` when the directory or the file cannot be created.
    public init(directory: String, options: Options = Options()) throws(EventFileError) {
        self.options = options
        let host = options.hostName ?? Syscalls.hostName()
        let createdAt = options.createdAt ?? Syscalls.wallTime()
        let seconds = Int64(createdAt)
        if options.createWhenWritable {
            let name = EventFileName.make(
                seconds: seconds, host: host, processID: Syscalls.processID,
                counter: EventFileWriter.nextCounter(options), suffix: options.fileSuffix)
            self.path = directory.hasSuffix("/") ? directory + name : directory + "/" + name
            var state = State(buffer: WireBuffer(capacity: 64 << 10), descriptor: nil)
            state.pendingCreation = true
            self.state = Mutex(state)
            try append(Event(wallTime: createdAt, what: .fileVersion(Event.fileVersion2)))
            try? flush()
            return
        }
        do {
            try ConfinedDirectory.create(directory, confinedTo: options.confinedTo)
        } catch {
            throw EventFileError(error)
        }
        var attempt = 0
        while true {
            let name = EventFileName.make(
                seconds: seconds, host: host, processID: Syscalls.processID,
                counter: EventFileWriter.nextCounter(options), suffix: options.fileSuffix)
            let candidate = directory.hasSuffix("/") ? directory + name : directory + "/" + name
            do {
                let descriptor = try FileDescriptor.open(
                    FilePath(candidate), .writeOnly,
                    options: [.create, .exclusiveCreate, .noFollow, .closeOnExec],
                    permissions: [.ownerReadWrite, .groupRead, .otherRead])
                self.path = candidate
                self.state = Mutex(State(buffer: WireBuffer(capacity: 64 << 10), descriptor: descriptor))
                break
            } catch let error as Errno where error == .fileExists && attempt < 1000 {
                attempt += 1
            } catch let error as Errno {
                throw .systemCall("open", path: candidate, error)
            } catch {
                throw .systemCall("open", path: candidate, .ioError)
            }
        }
        do {
            try append(Event(wallTime: createdAt, what: .fileVersion(Event.fileVersion2)))
            try flush()
        } catch {
            // Leave no empty or partial file behind.
            state.withLock { state in
                try? state.descriptor?.close()
                state.descriptor = nil
                state.closed = true
            }
            staged.withLock { $0.closed = true }
            _ = Syscalls.unlink(path)
            throw error
        }
    }

    /// Reopens an event file this or an earlier process wrote, cut back to `length` bytes (the end
    /// of its last whole record that a checkpoint vouched for), and goes on appending there.
    /// Whatever followed `length` (records written after the checkpoint, or a record torn by a
    /// crash) is removed, so the file reads strictly, record by record.
    ///
    /// - Parameters:
    ///   - path: The event file. It is opened without following a symbolic link.
    ///   - length: Where its last vouched-for record ends; at least the file-version record.
    ///   - options: Buffering options (the name is kept, so the naming options are unused).
    /// - Throws: `EventFileError.notAnEventFile` when `path` is not a regular file or is shorter
    ///   than `length`; `.systemCall` when it cannot be opened or cut back.
    public init(resuming path: String, at length: Int64, options: Options = Options()) throws(EventFileError) {
        self.options = options
        self.path = path
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
        case .success(let info) where info.size > length:
            if case .failure(let error) = Syscalls.truncate(descriptor, Int(length)) {
                throw fail(.systemCall("ftruncate", path: path, error))
            }
        case .success:
            break
        case .failure(let error):
            throw fail(.systemCall("fstat", path: path, error))
        }
        var state = State(buffer: WireBuffer(capacity: 64 << 10), descriptor: descriptor)
        state.fileOffset = length
        self.state = Mutex(state)
    }

    /// Counts writers opened by this process, for unique file names.
    private static let counter = Atomic<Int>(0)

    /// The `<n>` for the next name a writer with `options` tries.
    private static func nextCounter(_ options: Options) -> Int {
        options.counter?() ?? counter.wrappingAdd(1, ordering: .relaxed).oldValue
    }

    deinit {
        // Best effort: a writer dropped without close() still writes what it holds (a writer
        // whose flush timer is armed lives until the timer has fired).
        try? close()
    }

    /// The current time as event files record it: seconds since the Unix epoch.
    public static func currentWallTime() -> Double {
        Syscalls.wallTime()
    }

    /// Appends an event.
    ///
    /// - Parameter event: The event.
    /// - Throws: `EventFileError.closed` after `close()`. A failed write of the buffer is not an
    ///   error of the append: the event stays buffered and `flush()` reports the failure.
    public func append(_ event: Event) throws(EventFileError) {
        if try stageBehindDeferred({ event.encode(into: &$0) }) { return }
        try appendRecord { event.encode(into: &$0) }
    }

    /// Appends the event `make` returns (none when it returns `nil`), made on another thread
    /// while the caller goes on: for an event that is costly to make (a PNG image, say). Several
    /// are made at a time (of this writer and others), each keeping its place among the appends,
    /// which wait behind it until it is made; `flush()`, `sync()`, `close()` and `pendingBytes`
    /// wait for it. With twice as many events being made as there are cores, it waits for one.
    ///
    /// - Parameter make: Makes the event, once, on another thread. It must not use this writer.
    /// - Throws: `EventFileError.closed` after `close()`.
    public func appendDeferred(_ make: @escaping @Sendable () -> Event?) throws(EventFileError) {
        EventFileWriter.makingSlots.wait()
        do {
            try staged.withLock { (staged: inout Staged) throws(EventFileError) in
                guard !staged.closed else { throw .closed(path: path) }
                // Once made, the encoding thread writes it (and what waits behind it).
                staged.events.append((staged.scalars.count, .deferred(DeferredEvent(make) { self.scheduleEncoding() })))
            }
        } catch {
            EventFileWriter.makingSlots.signal()
            throw error
        }
    }

    /// Queues an encoding job unless one is queued.
    private func scheduleEncoding() {
        let schedule = staged.withLock { staged in
            guard !staged.scheduled else { return false }
            staged.scheduled = true
            return true
        }
        if schedule { EventFileWriter.encoding.async { self.encodeStaged() } }
    }

    /// While a deferred event is staged or being waited for, stages the event `encode` encodes
    /// behind it, so that the caller need not wait for the writer's lock meanwhile (taking the
    /// lock would keep it in order too, only later). `false`, staging nothing, otherwise.
    private func stageBehindDeferred(_ encode: (inout WireBuffer) -> Void) throws(EventFileError) -> Bool {
        guard staged.withLock({ !$0.events.isEmpty || $0.deferredInFlight }) else { return false }
        var buffer = WireBuffer(capacity: 256)
        encode(&buffer)
        let bytes = buffer.bytes
        try staged.withLock { (staged: inout Staged) throws(EventFileError) in
            guard !staged.closed else { throw .closed(path: path) }
            staged.events.append((staged.scalars.count, .encoded(bytes)))
        }
        scheduleEncoding()
        return true
    }

    /// Appends an event holding one `simple_value` scalar. Allocates nothing once the buffer has
    /// grown to its working size.
    ///
    /// - Parameters:
    ///   - tag: The tag.
    ///   - value: The scalar.
    ///   - step: The step.
    ///   - wallTime: Seconds since the Unix epoch.
    /// - Throws: `EventFileError.closed` as `append(_:)` does.
    public func appendScalar(tag: String, value: Float, step: Int64, wallTime: Double) throws(EventFileError) {
        if try stageBehindDeferred({ Event.encodeScalar(tag: tag, value: value, step: step, wallTime: wallTime, into: &$0) }) { return }
        try appendRecord { Event.encodeScalar(tag: tag, value: value, step: step, wallTime: wallTime, into: &$0) }
    }

    /// Scalar events collected for `appendScalars(_:_:)` without a lock: many steps' batch
    /// scalars, handed to the writer in one call.
    public struct ScalarBatch {
        fileprivate var scalars: [StagedScalar] = []
        /// The highest tag index appended (-1: none).
        fileprivate var highestTag: Int32 = -1

        public init() {}

        public var isEmpty: Bool { scalars.isEmpty }
        public var count: Int { scalars.count }

        /// Adds one scalar event per tag, all of one step and wall time.
        ///
        /// - Parameters:
        ///   - tags: The tag of each scalar, an index in the table `appendScalars` is given.
        ///   - values: Values, written as `Float`s.
        ///   - positions: The value of each scalar, in `values`.
        ///   - step: The step.
        ///   - wallTime: Seconds since the Unix epoch.
        public mutating func append(
            _ tags: borrowing [Int32], _ values: borrowing [Double], at positions: borrowing [Int32], step: Int64, wallTime: Double
        ) {
            precondition(tags.count == positions.count)
            for index in tags.indices {
                precondition(tags[index] >= 0)
                highestTag = max(highestTag, tags[index])
                scalars.append(StagedScalar(tag: tags[index], value: Float(values[Int(positions[index])]), step: step, wallTime: wallTime))
            }
        }
    }

    /// Appends the scalar events of `batch`, in its order, and empties it: the aggregator's batch
    /// hooks. The events are encoded (tags encoded once, framed, checksummed) on a thread of the
    /// writer's own while the caller goes on; they keep their place among other appends.
    ///
    /// - Parameters:
    ///   - table: Tags. Between calls on one writer it may only grow: an index names the same
    ///     tag in every call.
    ///   - batch: The scalars; emptied (it keeps storage for the next steps).
    /// - Throws: `EventFileError.closed` as `append(_:)` does (`batch` is emptied all the same).
    public func appendScalars(_ table: borrowing [ScalarTag], _ batch: inout ScalarBatch) throws(EventFileError) {
        guard !batch.isEmpty else { return }
        precondition(Int(batch.highestTag) < table.count, "a scalar's tag is not in the table")
        defer {
            batch.scalars.removeAll(keepingCapacity: true)
            batch.highestTag = -1
        }
        enum Next { case none, schedule, encodeHere }
        let next = try staged.withLock { (staged: inout Staged) throws(EventFileError) -> Next in
            guard !staged.closed else { throw .closed(path: path) }
            if staged.table.count < table.count { staged.table = copy table }
            if staged.scalars.isEmpty {
                swap(&staged.scalars, &batch.scalars)
            } else {
                staged.scalars.append(contentsOf: batch.scalars)
            }
            if staged.scalars.count >= EventFileWriter.stagedLimit { return .encodeHere }
            guard !staged.scheduled else { return .none }
            staged.scheduled = true
            return .schedule
        }
        switch next {
        case .none: break
        case .schedule:
            // A little later, so one job encodes many hooks' scalars (a job per hook would cost
            // more in wake-ups than the encoding it moves).
            EventFileWriter.encoding.asyncAfter(deadline: .now() + .microseconds(500)) { self.encodeStaged() }
        case .encodeHere: state.withLock { encodeStaged(&$0) }
        }
    }

    /// The encoding job: what is staged, into the buffer.
    private func encodeStaged() {
        staged.withLock { $0.scheduled = false }
        state.withLock { encodeStaged(&$0) }
    }

    /// Encodes the staged scalars into the buffer, writing it when it is full.
    ///
    /// - Parameter closing: Refuse further `appendScalars` (with `close()` and the like).
    private func encodeStaged(_ state: inout State, closing: Bool = false) {
        var scalars = state.encoding
        state.encoding = []
        var events: [(at: Int, event: StagedEvent)] = []
        let table = staged.withLock { staged in
            swap(&scalars, &staged.scalars)
            swap(&events, &staged.events)
            // Appends meanwhile stage behind the events waited for, not wait for the lock.
            if events.contains(where: { if case .deferred = $0.event { true } else { false } }) { staged.deferredInFlight = true }
            if closing { staged.closed = true }
            return staged.table
        }
        defer {
            scalars.removeAll(keepingCapacity: true)
            state.encoding = scalars
            if !events.isEmpty { staged.withLock { $0.deferredInFlight = false } }
        }
        guard !scalars.isEmpty || !events.isEmpty, !state.closed else { return }
        if state.buffer.isEmpty {
            state.pendingSince = .now()
            if !state.timerArmed {
                state.timerArmed = true
                armTimer(after: options.flushDelay)
            }
        }
        var nextEvent = 0
        // The events due before scalar `position`, in order (waiting for each deferred one).
        func encodeEvents(before position: Int, _ buffer: inout WireBuffer) {
            while nextEvent < events.count && events[nextEvent].at <= position {
                switch events[nextEvent].event {
                case .encoded(let bytes):
                    TFRecord.append(to: &buffer) { $0.append(bytes) }
                case .deferred(let deferred):
                    if let event = deferred.result { TFRecord.append(to: &buffer) { event.encode(into: &$0) } }
                }
                nextEvent += 1
            }
        }
        for (position, scalar) in scalars.enumerated() {
            if nextEvent < events.count { encodeEvents(before: position, &state.buffer) }
            TFRecord.append(to: &state.buffer) {
                ScalarTag.encodeScalar(table[Int(scalar.tag)], value: scalar.value, step: scalar.step, wallTime: scalar.wallTime, into: &$0)
            }
        }
        encodeEvents(before: .max, &state.buffer)
        if state.buffer.count >= options.bufferSize {
            try? writeBuffer(&state)
        }
    }

    private func appendRecord(_ encode: (inout WireBuffer) -> Void) throws(EventFileError) {
        try appendRecords { TFRecord.append(to: &$0, encode) }
    }

    /// Appends what `frame` appends: whole TFRecord-framed records.
    private func appendRecords(_ frame: (inout WireBuffer) -> Void) throws(EventFileError) {
        var needsTimer = false
        defer { if needsTimer { armTimer(after: options.flushDelay) } }
        try state.withLock { (state: inout State) throws(EventFileError) in
            guard !state.closed else { throw .closed(path: path) }
            encodeStaged(&state)
            if state.buffer.isEmpty {
                state.pendingSince = .now()
                if !state.timerArmed {
                    state.timerArmed = true
                    needsTimer = true
                }
            }
            frame(&state.buffer)
            // When this write fails, the records stay buffered: the armed timer retries it and
            // `flush()` reports it.
            if state.buffer.count >= options.bufferSize {
                try? writeBuffer(&state)
            }
        }
    }

    /// Writes every buffered record to the file (not necessarily to the disk: see `sync()`).
    ///
    /// - Throws: `EventFileError` when the write fails; the records stay buffered.
    public func flush() throws(EventFileError) {
        try state.withLock { (state: inout State) throws(EventFileError) in
            guard !state.closed else { throw .closed(path: path) }
            try writePending(&state)
        }
    }

    /// Writes every buffered record and waits until the file is on disk (`fsync`).
    ///
    /// - Throws: `EventFileError` when the write or the `fsync` fails.
    public func sync() throws(EventFileError) {
        try state.withLock { (state: inout State) throws(EventFileError) in
            guard !state.closed else { throw .closed(path: path) }
            try writePending(&state)
            if let descriptor = state.descriptor, case .failure(let error) = Syscalls.fsync(descriptor) {
                throw .systemCall("fsync", path: path, error)
            }
        }
    }

    /// Writes every buffered record, `fsync`s the file and closes it. Closing a closed writer does
    /// nothing.
    ///
    /// - Throws: `EventFileError` when the last write or the `fsync` fails; the writer then stays
    ///   open, holding its records, so `close()` can be tried again.
    public func close() throws(EventFileError) {
        try state.withLock { (state: inout State) throws(EventFileError) in
            guard !state.closed else { return }
            encodeStaged(&state, closing: true)
            do throws(EventFileError) {
                try writeBuffer(&state)
            } catch {
                staged.withLock { $0.closed = false }
                throw error
            }
            state.closed = true
            guard let descriptor = state.descriptor else { return }  // never created: nothing was appended
            if case .failure(let error) = Syscalls.fsync(descriptor) {
                state.closed = false
                staged.withLock { $0.closed = false }
                throw .systemCall("fsync", path: path, error)
            }
            state.descriptor = nil
            do {
                try descriptor.close()
            } catch {
                throw .systemCall("close", path: path, error as? Errno ?? .ioError)
            }
        }
    }

    /// After the file was removed (`EventFileError.fileRemoved`, its directory perhaps with it):
    /// a new file in the same directory, made again if need be, that takes over every record this
    /// writer still holds. This writer is closed. On failure it keeps its records, so this can be
    /// tried again.
    ///
    /// - Returns: The writer of the new file.
    /// - Throws: `EventFileError` when the directory or the new file cannot be made.
    public func continueInNewFile() throws(EventFileError) -> EventFileWriter {
        let directory = Paths.directory(of: path)
        let successor = try EventFileWriter(directory: directory, options: options)
        let pending: [UInt8] = state.withLock { state in
            encodeStaged(&state, closing: true)
            let bytes = state.buffer.bytes
            state.buffer.removeAll()
            state.pendingSince = nil
            try? state.descriptor?.close()
            state.descriptor = nil
            state.closed = true
            return bytes
        }
        successor.appendFramed(pending)
        return successor
    }

    /// Appends records already framed as TFRecords.
    private func appendFramed(_ bytes: [UInt8]) {
        guard !bytes.isEmpty else { return }
        var needsTimer = false
        state.withLock { state in
            encodeStaged(&state)
            if state.buffer.isEmpty {
                state.pendingSince = .now()
                if !state.timerArmed {
                    state.timerArmed = true
                    needsTimer = true
                }
            }
            state.buffer.append(bytes)
        }
        if needsTimer { armTimer(after: options.flushDelay) }
    }

    /// Bytes of whole records written to the file so far.
    public var writtenBytes: Int64 {
        state.withLock { $0.fileOffset }
    }

    /// Bytes appended but not yet written to the file.
    public var pendingBytes: Int {
        state.withLock { state in
            encodeStaged(&state)
            return state.buffer.count
        }
    }

    /// Encodes what is staged and writes the buffer (`writeBuffer`).
    private func writePending(_ state: inout State) throws(EventFileError) {
        encodeStaged(&state)
        try writeBuffer(&state)
    }

    /// Writes the buffer at the end of the last whole record. On failure the file is cut back to
    /// that record boundary and the buffer is kept.
    private func writeBuffer(_ state: inout State) throws(EventFileError) {
        guard !state.buffer.isEmpty, !state.closed else { return }
        if state.pendingCreation {
            do {
                try ConfinedDirectory.create(Paths.directory(of: path), confinedTo: options.confinedTo)
            } catch {
                throw EventFileError(error)
            }
            do {
                state.descriptor = try FileDescriptor.open(
                    FilePath(path), .writeOnly, options: [.create, .exclusiveCreate, .noFollow, .closeOnExec],
                    permissions: [.ownerReadWrite, .groupRead, .otherRead])
            } catch {
                throw .systemCall("open", path: path, error as? Errno ?? .ioError)
            }
            state.pendingCreation = false
        }
        guard let descriptor = state.descriptor else { return }
        // A file unlinked under us would swallow every write without an error: look first.
        switch Syscalls.status(descriptor) {
        case .success(let info) where info.links == 0:
            throw .fileRemoved(path: path)
        case .success:
            break
        case .failure(let error):
            throw .systemCall("fstat", path: path, error)
        }
        let start = state.fileOffset
        let result: Result<Void, Errno> = state.buffer.withUnsafeBytes { bytes in
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
            state.fileOffset += Int64(state.buffer.count)
            state.buffer.removeAll()
            state.pendingSince = nil
        case .failure(let error):
            // Leave no torn record behind; the bytes stay buffered for the next attempt.
            _ = Syscalls.truncate(descriptor, Int(start))
            throw .systemCall("write", path: path, error)
        }
    }

    private func armTimer(after delay: Duration) {
        DispatchQueue.global(qos: .utility).asyncAfter(
            deadline: .now() + .nanoseconds(Int(max(delay.inNanoseconds, 1)))
        ) {
            // Held strongly (a weak reference would put every retain of the writer on the slow
            // path): a writer dropped with a timer armed is closed when the timer has fired.
            self.timerFired()
        }
    }

    /// Writes the buffer when its oldest record has waited `flushDelay`; otherwise re-arms for
    /// that moment. A failed write is retried one delay later.
    private func timerFired() {
        let delay = options.flushDelay
        let rearm: Duration? = state.withLock { state in
            guard !state.closed, let since = state.pendingSince else {
                state.timerArmed = false
                return nil
            }
            let waited = Duration.nanoseconds(Int64(DispatchTime.now().uptimeNanoseconds - since.uptimeNanoseconds))
            if waited < delay { return delay - waited }
            do {
                try writePending(&state)
                state.timerArmed = false
                return nil
            } catch {
                return delay
            }
        }
        if let rearm { armTimer(after: rearm) }
    }
}
