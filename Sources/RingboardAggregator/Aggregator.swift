import Foundation
import Glibc
import Logging
import RingboardFormat
import RingboardRecords
import RingboardRing
internal import RingboardSystem

/// The one consumer of a node's rings, a pipeline of four stages with data flowing one way:
///
/// 1. `RecordDecoder` reads the rings and decodes each record into a typed hook;
/// 2. `RunTable` routes each hook under its run's rank policy to the run's `RunMachine`, the TF
///    2.0 callback's state machine (through a `MeanMerger` for `.mean` runs), which decides what
///    is written and when, as `SummaryRequest`s;
/// 3. `SummaryMaker` makes the summaries, histograms and images on a `SummaryPool`;
/// 4. `RunFiles` hands them to the runs' `EventFileWriter`s, which frame, checksum and write on
///    their own threads.
///
/// Every `flushInterval` it flushes the event files, saves its checkpoint (every run's state
/// with every ring's read position and every event file's length, see `CheckpointStore`) and
/// only then commits the rings, so a record's space is reused only once what it produced is in
/// the files.
///
/// A restarted aggregator resumes from that checkpoint: event files are cut back to their
/// checkpointed lengths (dropping what a killed aggregator wrote after it, torn records
/// included), files it created after it are removed, and each ring is read from the checkpointed
/// position. What TensorBoard then reads is what an uninterrupted aggregator would have written:
/// no event lost, none repeated.
///
/// - Warning: Not thread-safe: drive it from one thread at a time (it may be handed to another).
public final class Aggregator: @unchecked Sendable {
    /// How the aggregator runs.
    public struct Options: Sendable {
        /// The log root runs are confined to: a run whose directory is not under it is refused.
        /// `nil` to write any run directory this user may (the ring directory is private to them).
        public var logRoot: String?
        /// The ring directory to serve.
        public var ringDirectory: String
        /// How often event files are flushed and rings committed.
        public var flushInterval: Duration = .milliseconds(100)
        /// Wait for another aggregator to leave the ring directory instead of failing.
        public var waitForLock = false
        /// The host name in event file names; `nil` for this machine's.
        public var hostName: String? = nil

        /// Options for a log root and a ring directory.
        ///
        /// - Parameters:
        ///   - logRoot: The log root runs are confined to (relative to the working directory, or
        ///     absolute), or `nil` for none.
        ///   - ringDirectory: The ring directory to serve.
        public init(logRoot: String? = nil, ringDirectory: String) {
            self.logRoot = logRoot
            self.ringDirectory = ringDirectory
        }
    }

    private let options: Options
    let logger: Logger
    /// The rings' consumer (its read positions go into the checkpoint).
    let consumer: RingConsumer
    let checkpoints: CheckpointStore
    /// The log root as an absolute, normalized path, so a restart from another directory finds
    /// the files; `nil` for none.
    public let logRoot: String?
    /// Stage 1: the records' decoding (and the weight segments records name).
    var decoder: RecordDecoder
    /// Stages 2 to 4: the runs, their state machines and their files.
    var table: RunTable
    /// Whether anything changed since the last checkpoint.
    var changed = false
    /// While event files cannot be written, records stay in the rings (trainers spill) and
    /// nothing more is read until a flush succeeds.
    private var writesBlocked = false
    /// The checkpoint could not be saved and was given up (reported once).
    private var checkpointAbandoned = false

    private var lastFlush = ContinuousClock.now
    /// What the last flush, checkpoint and commit took. While records keep coming the next one
    /// waits at least four times as long, so they never take more than a fifth of the time (a
    /// `.mean` rank far ahead of rank 0 holds many queued hooks, and every checkpoint saves them).
    private var lastFlushCost = Duration.zero
    /// Records delivered so far.
    public private(set) var recordsHandled = 0
    /// Whether it resumed runs a previous aggregator checkpointed.
    public internal(set) var resumedRuns = false
    /// Records refused as invalid, and hooks of unknown runs.
    public var invalidRecords: Int { table.invalidRecords }
    /// Runs refused because their directory lies outside the log root.
    public var refusedRuns: Int { table.refusedRuns }

    /// Takes the ring directory's consumer lock and resumes from the checkpoint a previous
    /// aggregator left there, if any.
    ///
    /// - Parameters:
    ///   - options: The log root, ring directory and flush interval.
    ///   - logger: Where notices and warnings go.
    /// - Throws: `AggregatorError.ring` when another aggregator serves the directory (and
    ///   `waitForLock` is off) or the directory is unusable; `.checkpoint` (naming
    ///   the file), `.io` or `.otherLogRoot` when the checkpoint there cannot be used.
    public init(options: Options, logger: Logger) throws(AggregatorError) {
        self.options = options
        self.logger = logger
        do {
            self.consumer = try RingConsumer(directory: options.ringDirectory, waiting: options.waitForLock ? .wait : .failIfHeld)
        } catch {
            throw .ring(error)
        }
        self.decoder = RecordDecoder(directory: options.ringDirectory)
        let checkpoints = CheckpointStore(directory: options.ringDirectory)
        self.checkpoints = checkpoints
        let logRoot = try options.logRoot.map { (root: String) throws(AggregatorError) -> String in
            do {
                return try HookRecord.runDirectory(root, in: FileManager.default.currentDirectoryPath)
            } catch {
                throw .malformed("log root \"\(root)\" is not a usable path")
            }
        }
        self.logRoot = logRoot
        let summaries = SummaryMaker(pool: SummaryPool(), host: options.hostName ?? EventFileName.localHostName, logger: logger)
        self.table = RunTable(logRoot: logRoot, summaries: summaries, fileCreated: { path in
            do {
                try checkpoints.noteCreated(path)
            } catch {
                logger.error("event file not journaled; a restart before the next checkpoint may repeat its events",
                             metadata: ["file": "\(path)", "error": "\(error)"])
            }
        })
        try resume()
    }

    /// Drains what the rings hold, sleeping up to `timeout` when they are empty, and flushes and
    /// commits when `flushInterval` has passed.
    ///
    /// - Parameter timeout: The longest sleep: when there is nothing to do, or (at most
    ///   `linger`) after a drain of a slow producer's few records.
    /// - Returns: The number of records handled.
    @discardableResult
    public func step(timeout: Duration = .milliseconds(50)) -> Int {
        if writesBlocked {
            // Retry the writes every flush interval; read nothing more meanwhile.
            if ContinuousClock.now - lastFlush >= max(options.flushInterval, .milliseconds(100)) { flushAndCommit() }
            if writesBlocked { usleep(UInt32(clamping: min(timeout, .milliseconds(100)).inMicroseconds)) }
            return 0
        }
        let count = decoder.drain(consumer, into: &table)
        // A slow producer's few records stay staged until the flush (or until a slice fills):
        // handing each small drain to the writers costs a wake of their queue and a write.
        table.finishPoll(handingOver: count >= Aggregator.lingerBelow)
        if count > 0 { changed = true }
        recordsHandled += count
        // A slow producer's batch hooks (see `linger`).
        let trickle = count > 0 && count < Aggregator.lingerBelow && decoder.lastDrainOnlyBatches
        // A producer waiting for its records to be written (a trainer's end of training, say)
        // or for room is not kept waiting for the flush interval.
        let waited = trickle && consumer.producerWaiting
        if count == 0 || waited || ContinuousClock.now - lastFlush >= max(options.flushInterval, lastFlushCost * 4) {
            flushAndCommit()
        }
        if count == 0 && !writesBlocked {
            consumer.waitForRecords(timeout: timeout)
        } else if trickle && !waited {
            // A slow producer (a hook every millisecond or so, as a training loop calls them):
            // its records gather for a while instead of each waking this thread, which the
            // producer pays for with a system call inside its hook, and the training loop with
            // this thread's time on its cores. A producer that waits for its records to be
            // written (the end of training) cuts it short.
            consumer.linger(timeout: min(Aggregator.linger, timeout))
        }
        return count
    }

    /// A drain of fewer records than this, all batch hooks (a slow producer), is followed by a
    /// pause of `linger` before the next, so that a training loop's hooks are read many at a
    /// time: a trainer's 2,000 batches a second (4,000 records) are read in about 20 drains a
    /// second, each waking this thread once beside the training on its cores. A drain with an
    /// epoch's records is not: its histograms start at once, and the weight segments they read
    /// go back to the trainer as spares sooner.
    static let lingerBelow = 1024
    static let linger: Duration = .milliseconds(50)

    /// Whether no producer ring is left (all retired) and nothing is pending.
    public var isIdle: Bool { !consumer.hasSources }

    /// Why the ring directory is no longer this aggregator's (removed or replaced under it), or
    /// `nil`: it should finish what it holds and exit, leaving the directory to a new one.
    public var lostRingDirectory: String? { consumer.lostDirectory }

    /// Runs until `shouldStop` says so, then finishes every run.
    ///
    /// - Parameter shouldStop: Asked between steps.
    public func run(until shouldStop: () -> Bool) {
        while !shouldStop() { step() }
        flushAndCommit()
        finishAll()
    }

    /// Closes every run's event files (merging what `.mean` groups hold for ranks that never
    /// appeared: they will not now).
    public func finishAll() {
        table.finishAll(now: .now)
    }

    /// Flushes every run's files, then saves the checkpoint, then commits the rings: a record's
    /// space is reused only once what it produced is in the files and the checkpoint covers it.
    private func flushAndCommit() {
        lastFlush = .now
        defer { lastFlushCost = ContinuousClock.now - lastFlush }
        // Nothing is checkpointed or committed past what could not be written.
        writesBlocked = !table.flush(now: lastFlush)
        if writesBlocked { return }
        // A ring directory removed or replaced under this aggregator is not its own any more: a
        // checkpoint saved there would be another aggregator's to trust.
        if changed && consumer.lostDirectory == nil {
            do {
                try saveCheckpoint()
                changed = false
                if checkpointAbandoned {
                    checkpointAbandoned = false
                    logger.notice("checkpoint saved again")
                }
            } catch {
                // Waiting for it could wait forever (spill segments that only a commit removes
                // may be what fills its disk): commit without a checkpoint, after removing the
                // old one, which a restart must not trust once the rings move past it.
                checkpoints.abandon()
                if !checkpointAbandoned {
                    checkpointAbandoned = true
                    logger.error("checkpoint not saved; going on without one, so a restart before it is saved again starts runs afresh",
                                 metadata: ["error": "\(error)"])
                }
            }
        }
        do {
            try consumer.commitAll(checkpoint: Aggregator.ringCheckpoint(checkpoints.generation))
        } catch {
            logger.error("ring commit failed", metadata: ["error": "\(error)"])
        }
        for notice in consumer.notices() {
            switch notice {
            case .retired(let path, _, _, _, let clean):
                table.retire(ring: String(path.split(separator: "/").last ?? ""), now: .now)
                changed = true
                logger.info("\(notice)", metadata: ["clean": "\(clean)"])
            case .discovered:
                logger.info("\(notice)")
            case .refused, .quarantined:
                logger.warning("\(notice)")
            case .directoryLost:
                logger.error("\(notice)")
            }
        }
    }
}
