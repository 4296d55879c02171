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

    /// The scalars, in the arrays `stage` was handed (moved in, not copied), oldest first.
    private var chunks: [[StagedScalar]] = []
    /// Scalars in `chunks`.
    private(set) var scalarCount = 0
    /// Emptied arrays, with their storage, to hand back to `stage`'s callers.
    private var spareChunks: [[StagedScalar]] = []
    /// An emptied list of chunks, for the next `take`.
    private var spareList: [[StagedScalar]] = []
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
    var isEmpty: Bool { scalarCount == 0 && events.isEmpty }

    /// Whether an event appended now must be staged to keep its place: events are staged, or
    /// taken ones wait for a pending event.
    var hasEventsAhead: Bool { !events.isEmpty || isWaitingForPending }

    /// Stages the scalars of `batch` by taking its storage, and leaves it empty, with the storage
    /// of an array encoded earlier when there is one.
    ///
    /// - Parameters:
    ///   - batch: Scalars naming tags of `table` by index.
    ///   - table: The tags; it may only grow from one call to the next.
    mutating func stage(_ batch: inout [StagedScalar], table: borrowing [ScalarTag]) {
        if self.table.count < table.count { self.table = copy table }
        guard !batch.isEmpty else { return }
        scalarCount += batch.count
        var chunk = spareChunks.popLast() ?? []
        swap(&chunk, &batch)
        chunks.append(chunk)
    }

    /// Stages an event behind the scalars staged so far.
    mutating func stage(_ event: StagedEvent) {
        events.append((scalarCount, event))
    }

    /// Whether every pending event staged is fulfilled, so that encoding them waits for none.
    var isReady: Bool {
        events.allSatisfy { if case .pending(let pending) = $0.event { pending.isFulfilled } else { true } }
    }

    /// Takes everything staged, to be encoded.
    ///
    /// - Parameter onlyIfReady: Take nothing while a pending event is not fulfilled (`isReady`).
    /// - Returns: What was staged (nothing, when not ready); its storage comes back with
    ///   `recycle(_:)`.
    mutating func take(onlyIfReady: Bool = false) -> Taken {
        var taken = Taken(table: table)
        guard !onlyIfReady || isReady else { return taken }
        swap(&taken.chunks, &spareList)
        swap(&taken.chunks, &chunks)
        scalarCount = 0
        swap(&taken.events, &events)
        // Appends meanwhile stage behind the pending events, and do not wait for the writer's lock.
        if taken.events.contains(where: { if case .pending = $0.event { true } else { false } }) {
            isWaitingForPending = true
        }
        return taken
    }

    /// Keeps the storage of encoded records (`Taken.emptied()`) for the next `stage` and `take`.
    mutating func recycle(_ list: inout [[StagedScalar]]) {
        // As many as a few encodings take; more would only hold memory.
        while spareChunks.count < 64, var chunk = list.popLast() {
            chunk.removeAll(keepingCapacity: true)
            spareChunks.append(chunk)
        }
        list.removeAll(keepingCapacity: true)
        if spareList.capacity < list.capacity { swap(&spareList, &list) }
    }

    /// The events `take` took are encoded: appends need no longer stage behind them.
    mutating func finishedEncoding() {
        isWaitingForPending = false
    }

    /// Staged records taken out of `StagedRecords`.
    struct Taken: ~Copyable {
        fileprivate var chunks: [[StagedScalar]] = []
        fileprivate var events: [(at: Int, event: StagedEvent)] = []
        fileprivate let table: [ScalarTag]

        var isEmpty: Bool { chunks.isEmpty && events.isEmpty }
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
                let prefixes = ScalarTag.Prefixes(table)
                var position = 0
                for chunk in chunks {
                    chunk.withUnsafeBufferPointer { scalars in
                        var next = 0
                        while next < scalars.count {
                            // The scalars up to the next event due among them, then the event.
                            if nextEvent < events.count { encodeEvents(before: position + next) }
                            let end = nextEvent < events.count ? min(scalars.count, events[nextEvent].at - position) : scalars.count
                            prefixes.appendRecords(UnsafeBufferPointer(rebasing: scalars[next..<end]), into: &buffer)
                            next = end
                        }
                    }
                    position += chunk.count
                }
                encodeEvents(before: .max)
            }
        }

        /// The scalars' arrays (not emptied yet), for `StagedRecords.recycle(_:)`.
        consuming func emptied() -> [[StagedScalar]] {
            var list: [[StagedScalar]] = []
            swap(&list, &chunks)
            return list
        }
    }
}
