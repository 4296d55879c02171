import Dispatch
internal import RingboardSystem
import Synchronization

/// Writes one TensorBoard event file: TF 2 file name, the `brain.Event:2` first record, then
/// TFRecord-framed events.
///
/// Appends go to a buffer in memory (`EventFile`). The buffer is written when it passes
/// `Options.bufferSize`, on `flush()`, and by a timer at most `Options.flushDelay` (100 ms by
/// default) after a record entered an empty buffer (`FlushTimer`), so TensorBoard sees every event
/// promptly even when the writer goes idle. `close()` writes the rest and `fsync`s the file.
/// Scalars from `appendScalars` are encoded on the writer's own serial queue while the caller goes
/// on (`StagedRecords`), and an event still being made elsewhere (`PendingEvent`) keeps its place,
/// with the appends after it waiting behind it.
///
/// Write errors never leave a torn record in the file: when a write fails part-way, the file is
/// cut back to the last whole record and the unwritten bytes stay in memory, so a later `flush()`
/// can write them once the cause (a full disk, say) is gone. Appends go on buffering meanwhile;
/// `flush()`, `sync()` and `close()` report the error. A file removed under the writer is taken
/// over by a new one with `continueInNewFile()`.
///
/// - Warning: Safe to share between threads; appends from several threads are serialised.
public final class EventFileWriter: Sendable {
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
        /// Where the writer's encoding runs: each writer encodes on a serial queue of its own
        /// that targets this queue. `nil` for the global `.userInitiated` queue, so writers
        /// encode side by side; a serial queue here makes its writers take turns on one thread.
        public var encodingTarget: DispatchQueue? = nil
        /// Where the `<n>` of file names comes from; `nil` for the count of event files this
        /// process opened. Tests give a writer its own counts, so that no other writer of the
        /// process takes the names they expect it to try.
        var counter: (@Sendable () -> Int)? = nil

        /// Default options: 100 ms flush delay, 256 KiB buffer, `.v2` suffix.
        public init() {}
    }

    /// The file being written.
    public let path: String
    private let options: Options
    /// The file, its timer and the storage of scalars being encoded. Taken by the threads that
    /// append (`append`, `appendScalar`, and `appendScalars` past `stagedLimit`), flush, sync,
    /// close or read the counts, by the encoding job on `encoding`, and by the flush timer's
    /// firing on a global queue. Lock order: `state`, then `staged`.
    private let state: Mutex<State>
    /// Records staged to be encoded off the appending thread. Taken by appending threads
    /// (briefly: they never wait for `state` while holding it), by the thread fulfilling a
    /// `PendingEvent` (to queue the encoding job), and by whoever holds `state` to take what is
    /// staged. Whatever takes the buffer encodes the staged records first, so the file keeps
    /// the order of the appends.
    private let staged = Mutex(StagedRecords())
    /// This writer's encoding jobs, one at a time (targeting `Options.encodingTarget`).
    private let encoding: DispatchQueue
    /// Staged scalars past which the appending thread waits for the encoding job to take them,
    /// so they never pile up faster than they are encoded.
    private static let stagedLimit = 1 << 16
    /// Signalled when the encoding job took the staged scalars an appending thread waits for
    /// (`StagedRecords.isWaitingForRoom`). A semaphore, not the lock: a thread waiting for a
    /// contended `Mutex` spins while its holder runs, and the holder encodes for a long while.
    private let room = DispatchSemaphore(value: 0)

    private struct State: ~Copyable {
        var file: EventFile
        var timer: FlushTimer
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
    public convenience init(directory: String, options: Options = Options()) throws(EventFileError) {
        self.init(file: try EventFile.create(in: directory, options: options), options: options)
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
    public convenience init(resuming path: String, at length: Int64, options: Options = Options()) throws(EventFileError) {
        self.init(file: try EventFile(resuming: path, at: length), options: options)
    }

    private init(file: consuming EventFile, options: Options) {
        self.path = file.path
        self.options = options
        self.encoding = DispatchQueue(label: "ringboard.event-file-encoding", qos: .userInitiated, target: options.encodingTarget)
        self.state = Mutex(State(file: file, timer: FlushTimer(delay: options.flushDelay)))
        // A file not created yet (`createWhenWritable`), or one continuing another, holds
        // records already: the timer writes them.
        state.locked { buffered(&$0) }
    }

    deinit {
        // Best effort: a writer dropped without close() still writes what it holds (a writer
        // whose flush timer is armed, or with an event pending, lives until it has fired or the
        // event is made).
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
        if try stageBehindPending({ event.encode(into: &$0) }) { return }
        try appendRecord { event.encode(into: &$0) }
    }

    /// Appends an event still being made elsewhere: it is written in its place once
    /// `pending.fulfill(_:)` hands it over, and the appends after it wait behind it (their
    /// callers do not); `flush()`, `sync()`, `close()` and `pendingBytes` wait for it.
    ///
    /// - Parameter pending: The event to come; append it once, and fulfill it once, from any
    ///   thread.
    /// - Throws: `EventFileError.closed` after `close()` (the pending event is not kept then).
    public func append(_ pending: PendingEvent) throws(EventFileError) {
        try staged.locked { (staged: inout StagedRecords) throws(EventFileError) in
            guard !staged.isClosed else { throw .closed(path: path) }
            staged.stage(.pending(pending))
        }
        // Once it is made, the encoding job writes it (and what waits behind it). Attached
        // outside `staged`'s lock: an event made already runs this at once.
        pending.whenFulfilled { self.scheduleEncoding() }
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
        if try stageBehindPending({ Event.encodeScalar(tag: tag, value: value, step: step, wallTime: wallTime, into: &$0) }) { return }
        try appendRecord { Event.encodeScalar(tag: tag, value: value, step: step, wallTime: wallTime, into: &$0) }
    }

    /// Appends a scalar event of a tag encoded once, in the tag's form.
    ///
    /// - Parameters:
    ///   - tag: The tag and its form.
    ///   - value: The scalar.
    ///   - step: The step.
    ///   - wallTime: Seconds since the Unix epoch.
    /// - Throws: `EventFileError.closed` as `append(_:)` does.
    public func appendScalar(_ tag: ScalarTag, value: Float, step: Int64, wallTime: Double) throws(EventFileError) {
        if try stageBehindPending({ ScalarTag.encodeScalar(tag, value: value, step: step, wallTime: wallTime, into: &$0) }) { return }
        try appendRecord { ScalarTag.encodeScalar(tag, value: value, step: step, wallTime: wallTime, into: &$0) }
    }

    /// Appends the scalar events of `batch`, in its order, and empties it: the aggregator's batch
    /// hooks. The events are encoded (tags encoded once, framed, checksummed) on the writer's own
    /// queue while the caller goes on; they keep their place among other appends.
    ///
    /// - Parameters:
    ///   - table: Tags. Between calls on one writer it may only grow: an index names the same
    ///     tag in every call.
    ///   - batch: The scalars; emptied (it keeps storage for the next steps).
    /// - Throws: `EventFileError.closed` as `append(_:)` does (`batch` is emptied all the same).
    public func appendScalars(_ table: borrowing [ScalarTag], _ batch: inout ScalarBatch) throws(EventFileError) {
        guard !batch.isEmpty else { return }
        precondition(Int(batch.highestTag) < table.count, "a scalar's tag is not in the table")
        defer { batch.removeAll() }
        enum Next { case none, schedule, waitForRoom }
        let next = try staged.locked { (staged: inout StagedRecords) throws(EventFileError) -> Next in
            guard !staged.isClosed else { throw .closed(path: path) }
            staged.stage(&batch.scalars, table: table)
            if staged.scalarCount >= EventFileWriter.stagedLimit {
                staged.isWaitingForRoom = true
                return .waitForRoom
            }
            guard !staged.isEncodingScheduled else { return .none }
            staged.isEncodingScheduled = true
            return .schedule
        }
        switch next {
        case .none: break
        case .schedule:
            // A little later, so one job encodes many hooks' scalars (a job per hook would cost
            // more in wake-ups than the encoding it moves).
            encoding.asyncAfter(deadline: .now() + .microseconds(500)) { self.encodeStaged() }
        case .waitForRoom:
            // A job queued now (one may be queued for later), and the caller waits for it instead
            // of encoding here: the file takes one encoding at a time, so encoding here would
            // only wait for the job's lock. Bounded, so a caller never waits on a job that cannot
            // run; it then goes on, and waits again at its next call.
            encoding.async { self.encodeStaged() }
            _ = room.wait(timeout: .now() + .milliseconds(100))
        }
    }

    /// Writes every buffered record to the file (not necessarily to the disk: see `sync()`).
    ///
    /// - Throws: `EventFileError` when the write fails; the records stay buffered.
    public func flush() throws(EventFileError) {
        try state.locked { (state: inout State) throws(EventFileError) in
            guard !state.file.isClosed else { throw .closed(path: path) }
            try writePending(&state)
        }
    }

    /// Writes every buffered record and waits until the file is on disk (`fsync`).
    ///
    /// - Throws: `EventFileError` when the write or the `fsync` fails.
    public func sync() throws(EventFileError) {
        try state.locked { (state: inout State) throws(EventFileError) in
            guard !state.file.isClosed else { throw .closed(path: path) }
            encodeStaged(&state)
            try state.file.sync()
        }
    }

    /// Writes every buffered record, `fsync`s the file and closes it. Closing a closed writer does
    /// nothing.
    ///
    /// - Throws: `EventFileError` when the last write or the `fsync` fails; the writer then stays
    ///   open, holding its records, so `close()` can be tried again.
    public func close() throws(EventFileError) {
        try state.locked { (state: inout State) throws(EventFileError) in
            guard !state.file.isClosed else { return }
            try closing(&state) { (file: inout EventFile) throws(EventFileError) in try file.close() }
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
        let successor = try state.locked { (state: inout State) throws(EventFileError) -> EventFile in
            try closing(&state) { (file: inout EventFile) throws(EventFileError) in try file.continueInNewFile(options: options) }
        }
        return EventFileWriter(file: successor, options: options)
    }

    /// Bytes of whole records written to the file so far.
    public var writtenBytes: Int64 {
        state.locked { $0.file.writtenBytes }
    }

    /// Bytes appended but not yet written to the file (waits for pending events appended before).
    public var pendingBytes: Int {
        state.locked { state in
            encodeStaged(&state)
            return state.file.pendingBytes
        }
    }

    // MARK: Appending and encoding

    private func appendRecord(_ encode: (inout WireBuffer) -> Void) throws(EventFileError) {
        try state.locked { (state: inout State) throws(EventFileError) in
            guard !state.file.isClosed else { throw .closed(path: path) }
            encodeStaged(&state)
            state.file.append { TFRecord.append(to: &$0, encode) }
            buffered(&state)
        }
    }

    /// While a pending event is staged or being waited for, stages the event `encode` encodes
    /// behind it, so that the caller need not wait for the writer's lock meanwhile (taking the
    /// lock would keep it in order too, only later). `false`, staging nothing, otherwise.
    private func stageBehindPending(_ encode: (inout WireBuffer) -> Void) throws(EventFileError) -> Bool {
        guard staged.locked({ $0.hasEventsAhead }) else { return false }
        var buffer = WireBuffer(capacity: 256)
        encode(&buffer)
        let bytes = buffer.bytes
        try staged.locked { (staged: inout StagedRecords) throws(EventFileError) in
            guard !staged.isClosed else { throw .closed(path: path) }
            staged.stage(.encoded(bytes))
        }
        scheduleEncoding()
        return true
    }

    /// Queues an encoding job unless one is queued.
    private func scheduleEncoding() {
        let schedule = staged.locked { staged in
            guard !staged.isEncodingScheduled else { return false }
            staged.isEncodingScheduled = true
            return true
        }
        if schedule { encoding.async { self.encodeStaged() } }
    }

    /// The encoding job: what is staged, into the buffer. While a pending event is not fulfilled
    /// it leaves everything staged (its `fulfill` queues the job again), so the job never holds a
    /// thread of `Options.encodingTarget`, or the lock, waiting for the caller's pool.
    private func encodeStaged() {
        staged.locked { $0.isEncodingScheduled = false }
        state.locked { encodeStaged(&$0, waitingForPending: false) }
    }

    /// Encodes the staged records into the buffer.
    ///
    /// - Parameters:
    ///   - closing: Refuse further staging (with `close()` and the like).
    ///   - waitingForPending: Wait for the pending events among them; `false`: encode nothing
    ///     while one is not fulfilled.
    private func encodeStaged(_ state: inout State, closing: Bool = false, waitingForPending: Bool = true) {
        var roomMade = false
        let work = staged.locked { staged -> StagedRecords.Taken? in
            if closing { staged.isClosed = true }
            // Most appends find nothing staged: they return here.
            guard !staged.isEmpty else { return nil }
            let taken = staged.take(onlyIfReady: !waitingForPending)
            roomMade = staged.isWaitingForRoom && staged.scalarCount < EventFileWriter.stagedLimit
            if roomMade { staged.isWaitingForRoom = false }
            return taken
        }
        if roomMade { room.signal() }
        guard let taken = work else { return }
        if !taken.isEmpty && !state.file.isClosed {
            taken.encode(into: &state.file)
            buffered(&state)
        }
        let hadEvents = taken.hasEvents
        var storage = taken.emptied()
        staged.locked { staged in
            staged.recycle(&storage)
            if hadEvents { staged.finishedEncoding() }
        }
    }

    /// After records entered the buffer: arms the flush timer (the one place it is armed) and
    /// writes a full buffer. When that write fails, the records stay buffered: the timer retries
    /// it and `flush()` reports it.
    private func buffered(_ state: inout State) {
        if !state.timer.isArmed && state.file.pendingBytes > 0 {
            state.timer.arm { self.timerFired() }
        }
        if state.file.pendingBytes >= options.bufferSize {
            try? state.file.write()
        }
    }

    /// Encodes what is staged and writes the buffer.
    private func writePending(_ state: inout State) throws(EventFileError) {
        encodeStaged(&state)
        try state.file.write()
    }

    /// Runs `body`, which closes the file, after refusing further staging; when it fails and the
    /// file stays open, staging is allowed again.
    private func closing<Result: ~Copyable>(
        _ state: inout State, _ body: (inout EventFile) throws(EventFileError) -> Result
    ) throws(EventFileError) -> Result {
        encodeStaged(&state, closing: true)
        do {
            return try body(&state.file)
        } catch {
            if !state.file.isClosed { staged.locked { $0.isClosed = false } }
            throw error
        }
    }

    /// Writes the buffer when its oldest record has waited `flushDelay`; otherwise re-arms for
    /// that moment. A failed write is retried one delay later. Staged records are encoded first
    /// unless a pending event among them is not fulfilled: the timer never waits for one.
    private func timerFired() {
        // Held strongly (a weak reference would put every retain of the writer on the slow
        // path): a writer dropped with a timer armed is closed when the timer has fired.
        let fire: @Sendable () -> Void = { self.timerFired() }
        state.locked { state in
            let bufferedSince = state.file.isClosed ? nil : state.file.bufferedSince
            guard state.timer.isDue(bufferedSince: bufferedSince, fire) else { return }
            do {
                encodeStaged(&state, waitingForPending: false)
                try state.file.write()
                state.timer.written(true, fire)
            } catch {
                state.timer.written(false, fire)
            }
        }
    }
}
