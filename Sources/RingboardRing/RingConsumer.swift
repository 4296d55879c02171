import Dispatch
import Glibc
import SystemPackage
internal import RingboardSystem

/// The single consumer of a ring directory: finds the producers' ring files, drains them fairly
/// in batches, sleeps on their doorbells when all are empty, and retires the rings of producers
/// that finished or died once everything they committed has been read.
///
/// A ring it cannot trust is set aside: a file another user owns or others can write is refused
/// (and left alone); a ring whose records break the layout is quarantined (renamed with a
/// `.corrupt` suffix). Either way the other rings keep flowing, and the caller hears of it
/// through `notices`.
///
/// - Warning: Not thread-safe; one consumer thread. One consumer per directory, enforced by an
///   exclusive lock on `consumer.lock` there.
public final class RingConsumer {
    /// Something the caller should know about; none of them stops the consumer.
    public enum Notice: Equatable, Sendable, CustomStringConvertible {
        /// A new producer's ring.
        case discovered(path: String, producerID: Int32)
        /// A producer closed or died and its ring is drained and removed.
        case retired(path: String, producerID: Int32, records: Int64, tornClaims: Int, closedCleanly: Bool)
        /// A ring file that could not be opened safely; it is left where it is.
        case refused(path: String, reason: String)
        /// A ring whose contents broke the layout, renamed to `quarantinedPath`.
        case quarantined(path: String, quarantinedPath: String, reason: String)
        /// The ring directory was removed or replaced under the consumer: the lock it holds is no
        /// longer the directory's, so another consumer may serve what is there now. It attaches
        /// nothing more (`lostDirectory`).
        case directoryLost(directory: String, reason: String)

        /// A one-line description.
        public var description: String {
            switch self {
            case .discovered(let path, let pid): "ring \(path): producer \(pid) attached"
            case .retired(let path, let pid, let records, let torn, let clean):
                "ring \(path): producer \(pid) \(clean ? "closed" : "gone"), \(records) records drained"
                    + (torn > 0 ? ", \(torn) unfinished claim\(torn == 1 ? "" : "s") skipped" : "") + "; ring removed"
            case .refused(let path, let reason): "ring \(path): refused: \(reason)"
            case .quarantined(let path, let moved, let reason): "ring \(path): quarantined as \(moved): \(reason)"
            case .directoryLost(let directory, let reason): "ring directory \(directory) lost: \(reason); attaching nothing more"
            }
        }
    }

    /// A ring being consumed.
    public struct Source: Sendable, Equatable {
        /// The ring's file name.
        public var name: String
        /// Its producer's process id.
        public var producerID: Int32
    }

    /// What to do when another consumer holds the directory.
    public enum LockWaiting: Sendable {
        /// Fail with `RingError.consumerRunning`.
        case failIfHeld
        /// Wait until the other consumer exits.
        case wait
    }

    /// The ring directory.
    public let directory: String
    private let lock: FileDescriptor
    /// New ring files, as the kernel reports them (`nil`: found by scanning alone).
    private let watch: DirectoryWatch?
    private var rings: [String: RingReader] = [:]
    private var order: [String] = []
    private var nextStart = 0
    private var refused: Set<String> = []
    /// Rings whose producer closed (true) or died (false): retired once drained and committed.
    private var finishing: [String: Bool] = [:]
    private var pendingNotices: [Notice] = []
    private var lastScan: ContinuousClock.Instant?
    private var lastListing: ContinuousClock.Instant?
    /// How often the directory is scanned for new rings and producers are checked for life.
    public var scanInterval: Duration = .milliseconds(50)
    /// With the kernel reporting new ring files (`DirectoryWatch`), how often a scan also lists
    /// the directory, for what a lost notification would have told.
    public var listingInterval: Duration = .seconds(1)

    /// Takes the directory's consumer lock and attaches to every ring in it.
    ///
    /// - Parameters:
    ///   - directory: The ring directory (created 0700 if missing).
    ///   - waiting: Whether to wait for another consumer to exit.
    /// - Throws: `RingError.consumerRunning` when another consumer holds the lock and `waiting`
    ///   is `.failIfHeld`; `RingError.notOwned` or `.systemCall` for an unusable directory.
    public init(directory: String, waiting: LockWaiting = .failIfHeld) throws(RingError) {
        try RingDirectory.prepare(directory)
        self.directory = directory
        let lockPath = directory + "/" + RingDirectory.consumerLockName
        do {
            lock = try FileDescriptor.open(
                FilePath(lockPath), .readWrite, options: [.create, .noFollow, .closeOnExec], permissions: [.ownerReadWrite])
        } catch {
            throw .systemCall("open", path: lockPath, error as? Errno ?? .ioError)
        }
        watch = DirectoryWatch(directory: directory)
        let operation = LOCK_EX | (waiting == .wait ? 0 : LOCK_NB)
        // A held lock is tried again for a moment: a trainer looking whether the directory is
        // served (`RingDirectory.isServed`) holds a shared lock for a few microseconds.
        var attempts = 0
        while case .failure(let error) = valueOrErrno({ flock(lock.rawValue, operation) }) {
            if error == .wouldBlock && attempts < 20 {
                attempts += 1
                usleep(5_000)
                continue
            }
            // Every property is set by now, so deinit closes the lock file (closing it here as
            // well would close whatever descriptor took its number in between).
            if error == .wouldBlock { throw .consumerRunning(directory: directory) }
            throw .systemCall("flock", path: lockPath, error)
        }
        scan()
    }

    deinit {
        try? lock.close()
    }

    /// Notices since the last call, oldest first.
    public func notices() -> [Notice] {
        defer { pendingNotices.removeAll() }
        return pendingNotices
    }

    /// Whether any ring is attached (`sources` is not empty), without making the list.
    public var hasSources: Bool {
        order.contains { rings[$0] != nil }
    }

    /// The rings being consumed.
    public var sources: [Source] {
        order.compactMap { name in rings[name].map { Source(name: name, producerID: $0.producerID) } }
    }

    /// Delivers records from every ring, taking at most `batch` from each in turn (starting with
    /// a different ring each call), so one busy producer cannot starve the others. Checks the
    /// producers every `scanInterval`, and lists the directory at once when a ring file appeared
    /// in it (and every `listingInterval`, or at every scan without a `DirectoryWatch`).
    ///
    /// - Parameters:
    ///   - batch: The most records taken from one ring per call.
    ///   - handler: Called with each record and its ring.
    /// - Returns: The number of records delivered.
    @discardableResult
    public func poll(batch: Int = 4096, _ handler: (Source, RingRecord) -> Void) -> Int {
        let now = ContinuousClock.now
        let appeared = watch?.ringAppeared() == true
        if appeared || lastScan.map({ now - $0 >= scanInterval }) ?? true {
            lastScan = now
            let listing = appeared || watch == nil || lastListing.map { now - $0 >= listingInterval } ?? true
            if listing { lastListing = now }
            scan(listing: listing)
        }
        guard !order.isEmpty else { return 0 }
        var delivered = 0
        let start = nextStart % order.count
        nextStart += 1
        for offset in 0..<order.count {
            let name = order[(start + offset) % order.count]
            guard let reader = rings[name] else { continue }
            let source = Source(name: name, producerID: reader.producerID)
            do {
                let count = try reader.poll(limit: batch) { handler(source, $0) }
                delivered += count
                // A producer that closed is noticed at once (one load), not at the next scan, so
                // its ring is retired, and its run finished, as soon as it is drained.
                if count == 0, finishing[name] == nil, reader.producerClosed { finishing[name] = true }
                // A dead producer may have left one claim it never finished; skip it so the
                // records committed after it (by its other threads) still arrive.
                if count == 0, finishing[name] == false, !reader.isDrained, reader.skipTornClaim() {
                    delivered += try reader.poll(limit: batch) { handler(source, $0) }
                }
                // Its last records may sit in a spill segment it never marked in the ring.
                if count == 0, finishing[name] != nil, reader.isDrained, reader.hasUnmarkedSpill {
                    delivered += try reader.pollUnmarkedSpill { handler(source, $0) }
                }
            } catch {
                quarantine(name, reason: error.description)
            }
        }
        return delivered
    }

    /// Commits every ring at its read position (see `RingReader.commit`), giving the space back
    /// to the producers.
    ///
    /// - Parameter checkpoint: Consumer state stored with each ring's position.
    /// Rings whose producer closed or died, drained and committed, are removed here: their
    /// records are safely with the caller by then.
    ///
    /// - Parameter checkpoint: Consumer state stored with each ring's position.
    public func commitAll(checkpoint: [UInt8] = []) throws(RingError) {
        for name in order {
            guard let reader = rings[name] else { continue }
            try reader.commit(checkpoint: checkpoint)
            if let closedCleanly = finishing[name], reader.isDrained, !reader.hasUnmarkedSpill {
                retire(name, reader, closedCleanly: closedCleanly)
            }
        }
    }

    /// The reader of one ring, for per-ring commits with their own checkpoint.
    ///
    /// - Parameter name: The ring's file name.
    /// - Returns: Its reader, or `nil` when it is not (or no longer) consumed.
    public func reader(named name: String) -> RingReader? {
        rings[name]
    }

    /// Whether a producer waits for a commit (for room in its ring, or for everything it sent
    /// to be written: `RingWriter.waitUntilCommitted`), so that the consumer should not delay
    /// its next flush and commit.
    public var producerWaiting: Bool {
        // relaxed: a hint; a waiter missed here is woken by the next commit or its timeout.
        order.contains { rings[$0]?.mapping.spaceDoorbell.load(ordering: .relaxed) ?? 0 != 0 }
    }

    /// Sleeps until a producer appends (with no ring, until a ring appears) or `timeout` passes;
    /// returns at once when a ring already holds unread records.
    ///
    /// - Parameter timeout: The longest sleep (a dead peer cannot strand the consumer longer).
    public func waitForRecords(timeout: Duration = .milliseconds(100)) {
        let readers = order.compactMap { rings[$0] }
        if readers.isEmpty, let watch {
            // No ring to wait on: a new one wakes this.
            watch.wait(timeout: min(timeout, scanInterval))
            return
        }
        RingMapping.waitForRecords(readers.map(\.mapping), after: readers.map(\.readPosition), timeout: min(timeout, scanInterval))
    }

    /// Sleeps up to `timeout` while records gather, without asking producers to wake this (they
    /// append with no system call); a producer that waits for room or for its records to be
    /// committed ends it.
    public func linger(timeout: Duration) {
        RingMapping.linger(order.compactMap { rings[$0]?.mapping }, timeout: timeout)
    }

    /// Looks for new ring files, and notes the rings whose producers closed or died: `poll`
    /// drains them (skipping at most one unfinished claim a dead producer left) and `commitAll`
    /// removes them.
    public func scan() {
        scan(listing: true)
    }

    /// `scan()`; without `listing`, only the producers of the rings attached are checked.
    private func scan(listing: Bool) {
        if listing { attachNewRings() }
        for name in order {
            guard let reader = rings[name] else { continue }
            noteIfFinished(name, reader)
        }
    }

    /// Why the ring directory is no longer this consumer's (removed, or replaced by another with a
    /// consumer lock of its own), or `nil`. Checked at every listing of the directory.
    public private(set) var lostDirectory: String?

    /// Whether `consumer.lock` in the directory is still the file this consumer locked.
    private func checkLock() -> String? {
        var held = stat(), found = stat()
        guard fstat(lock.rawValue, &held) == 0 else { return nil }
        let path = directory + "/" + RingDirectory.consumerLockName
        guard lstat(path, &found) == 0 else { return "\(path) is gone" }
        guard found.st_dev == held.st_dev, found.st_ino == held.st_ino else { return "\(path) is another file than the one locked" }
        return nil
    }

    /// Attaches every ring file of the directory not attached or refused yet.
    private func attachNewRings() {
        guard lostDirectory == nil else { return }
        if let reason = checkLock() {
            lostDirectory = reason
            pendingNotices.append(.directoryLost(directory: directory, reason: reason))
            return
        }
        let names: [String]
        do {
            names = try DirectoryListing.names(in: directory)
        } catch {
            pendingNotices.append(.refused(path: directory, reason: RingError(error).description))
            return
        }
        for name in names where name.hasSuffix(RingDirectory.ringSuffix) && !name.hasPrefix(".") {
            guard rings[name] == nil, !refused.contains(name) else { continue }
            let path = directory + "/" + name
            do {
                let reader = try RingReader(path: path)
                rings[name] = reader
                order.append(name)
                pendingNotices.append(.discovered(path: path, producerID: reader.producerID))
            } catch {
                if case .invalidHeader = error {
                    quarantineFile(path, reason: error.description)
                } else {
                    refused.insert(name)
                    // The notice names the path already: its reason is the why, not the path again.
                    let reason = if case .notOwned(_, let why) = error { why } else { error.description }
                    pendingNotices.append(.refused(path: path, reason: reason))
                }
            }
        }
    }

    private func noteIfFinished(_ name: String, _ reader: RingReader) {
        guard finishing[name] == nil else { return }
        if reader.producerClosed {
            finishing[name] = true
        } else if !reader.producerIsAlive {
            finishing[name] = false
        }
    }

    private func retire(_ name: String, _ reader: RingReader, closedCleanly: Bool) {
        let path = directory + "/" + name
        reader.removeSpillFiles()
        _ = Syscalls.unlink(path)
        rings[name] = nil
        RingConsumer.release(reader)
        finishing[name] = nil
        order.removeAll { $0 == name }
        pendingNotices.append(.retired(
            path: path, producerID: reader.producerID, records: reader.recordsRead,
            tornClaims: reader.tornClaimsSkipped, closedCleanly: closedCleanly))
    }

    /// Where readers of retired rings are let go: unmapping and closing a ring's file, the last
    /// link to it gone, frees its memory, tens of milliseconds for 128 MiB that the other rings
    /// need not wait.
    private static let releasing = DispatchQueue(label: "ringboard.ring-release", qos: .utility)

    private final class Released: @unchecked Sendable {
        var reader: RingReader?
        init(_ reader: RingReader) { self.reader = reader }
    }

    /// Lets `reader` go on `releasing` (a reference the caller still holds past that job lets it
    /// go on the caller's thread instead: correct, only slower).
    private static func release(_ reader: consuming RingReader) {
        let released = Released(reader)
        releasing.async { released.reader = nil }
    }

    private func quarantine(_ name: String, reason: String) {
        rings[name] = nil
        finishing[name] = nil
        order.removeAll { $0 == name }
        quarantineFile(directory + "/" + name, reason: reason)
    }

    private func quarantineFile(_ path: String, reason: String) {
        let moved = path + ".corrupt"
        _ = Syscalls.rename(path, moved)
        refused.insert(Paths.lastComponent(of: path))
        pendingNotices.append(.quarantined(path: path, quarantinedPath: moved, reason: reason))
    }
}
