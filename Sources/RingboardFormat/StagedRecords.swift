/// A scalar event `appendScalars` staged: its tag as an index in the writer's tag table.
struct StagedScalar {
    var tag: Int32
    var value: Float
    var step: Int64
    var wallTime: Double
}

/// Records appended to an `EventFileWriter` but not yet encoded into its file's buffer, in the
/// order of the appends: the scalars of `appendScalars`, pending events, and the events appended
/// behind a pending one. `take` empties it in one step and `Taken.encode(into:)` encodes what it
/// took, in order, waiting for each pending event to be fulfilled.
///
/// - Warning: Not thread-safe: the writer keeps it in a `Mutex` (see `EventFileWriter.staged`).
struct StagedRecords: ~Copyable {
    /// An event among the staged scalars.
    enum StagedEvent {
        /// Being made elsewhere.
        case pending(PendingEvent)
        /// Encoded (not yet framed).
        case encoded([UInt8])
    }

    private var scalars: [StagedScalar] = []
    /// Events staged behind a pending one, each to be encoded after the first `at` scalars.
    private var events: [(at: Int, event: StagedEvent)] = []
    /// The tags the scalars name (the latest table `stage(_:table:)` was given).
    private var table: [ScalarTag] = []
    /// Events were taken and are being encoded, waiting for a pending one: appends wait behind
    /// them here too. Set by `take`, cleared by `finishedEncoding()`.
    private var isWaitingForPending = false
    /// An encoding job is queued.
    var isEncodingScheduled = false
    /// An appending thread waits for the staged scalars to be taken (`EventFileWriter.room`).
    var isWaitingForRoom = false
    /// Appends are refused: the writer is closed (or closing).
    var isClosed = false

    /// Whether nothing is staged.
    var isEmpty: Bool { scalars.isEmpty && events.isEmpty }

    /// Scalars staged.
    var scalarCount: Int { scalars.count }

    /// Whether an event appended now must be staged to keep its place: events are staged, or
    /// taken ones wait for a pending event.
    var hasEventsAhead: Bool { !events.isEmpty || isWaitingForPending }

    /// Stages the scalars of `batch`, leaving it empty (with storage for more).
    ///
    /// - Parameters:
    ///   - batch: Scalars naming tags of `table` by index.
    ///   - table: The tags; it may only grow from one call to the next.
    mutating func stage(_ batch: inout [StagedScalar], table: borrowing [ScalarTag]) {
        if self.table.count < table.count { self.table = copy table }
        if scalars.isEmpty {
            swap(&scalars, &batch)
        } else {
            scalars.append(contentsOf: batch)
        }
    }

    /// Stages an event behind the scalars staged so far.
    mutating func stage(_ event: StagedEvent) {
        events.append((scalars.count, event))
    }

    /// Whether every pending event staged is fulfilled, so that encoding them waits for none.
    var isReady: Bool {
        events.allSatisfy { if case .pending(let pending) = $0.event { pending.isFulfilled } else { true } }
    }

    /// Takes everything staged, to be encoded.
    ///
    /// - Parameters:
    ///   - spare: An empty array whose storage takes the place of the staged scalars'.
    ///   - onlyIfReady: Take nothing while a pending event is not fulfilled (`isReady`).
    /// - Returns: What was staged (nothing, when not ready); it gives the storage back with
    ///   `recycle()`.
    mutating func take(reusing spare: inout [StagedScalar], onlyIfReady: Bool = false) -> Taken {
        var taken = Taken(table: table)
        swap(&taken.scalars, &spare)
        guard !onlyIfReady || isReady else { return taken }
        swap(&taken.scalars, &scalars)
        swap(&taken.events, &events)
        // Appends meanwhile stage behind the pending events, and do not wait for the writer's lock.
        if taken.events.contains(where: { if case .pending = $0.event { true } else { false } }) {
            isWaitingForPending = true
        }
        return taken
    }

    /// The events `take` took are encoded: appends need no longer stage behind them.
    mutating func finishedEncoding() {
        isWaitingForPending = false
    }

    /// Staged records taken out of `StagedRecords`.
    struct Taken: ~Copyable {
        fileprivate var scalars: [StagedScalar] = []
        fileprivate var events: [(at: Int, event: StagedEvent)] = []
        fileprivate let table: [ScalarTag]

        /// Scalar records written before their checksums are computed: enough that the CPU has
        /// stored the first one's bytes by the time they are read back, few enough to stay in
        /// its first-level cache (about 50 bytes each).
        static let checksumBatch = 64

        var isEmpty: Bool { scalars.isEmpty && events.isEmpty }
        var hasEvents: Bool { !events.isEmpty }

        /// Appends the records to `file`'s buffer, in order, each framed as a TFRecord. Waits for
        /// each pending event to be fulfilled; one fulfilled with `nil` leaves nothing.
        func encode(into file: inout EventFile) {
            file.append { buffer in
                var nextEvent = 0
                // The events due before scalar `position`, in order.
                func encodeEvents(before position: Int) {
                    while nextEvent < events.count && events[nextEvent].at <= position {
                        switch events[nextEvent].event {
                        case .encoded(let bytes):
                            TFRecord.append(to: &buffer) { $0.append(bytes) }
                        case .pending(let pending):
                            if let event = pending.event { TFRecord.append(to: &buffer) { event.encode(into: &$0) } }
                        }
                        nextEvent += 1
                    }
                }
                ScalarTag.Prefixes(table).withPrefixes { prefix in
                    // Checksummed `checksumBatch` records at a time, once their bytes are stored.
                    var unchecksummed = buffer.count
                    for position in scalars.indices {
                        if nextEvent < events.count && events[nextEvent].at <= position {
                            TFRecord.fillChecksums(in: &buffer, from: unchecksummed)
                            encodeEvents(before: position)
                            unchecksummed = buffer.count
                        }
                        let scalar = scalars[position]
                        ScalarTag.appendUnchecksummedRecord(prefix: prefix(Int(scalar.tag)), value: scalar.value, step: scalar.step,
                                                            wallTime: scalar.wallTime, into: &buffer)
                        if position % Taken.checksumBatch == Taken.checksumBatch - 1 {
                            TFRecord.fillChecksums(in: &buffer, from: unchecksummed)
                            unchecksummed = buffer.count
                        }
                    }
                    TFRecord.fillChecksums(in: &buffer, from: unchecksummed)
                }
                encodeEvents(before: .max)
            }
        }

        /// The scalars' storage, emptied, for the next `take`.
        mutating func recycle() -> [StagedScalar] {
            var storage: [StagedScalar] = []
            swap(&storage, &scalars)
            storage.removeAll(keepingCapacity: true)
            return storage
        }
    }
}
