import RingboardRing
internal import RingboardSystem

/// The weight segments of a ring directory, as stage 1 meets them in records: it maps the one a
/// record names (the records of one segment come one after another, so the last one mapped is
/// kept for the next), and notes, per ring, the highest sequence number a record named, which
/// tells the segments a ring may still name from those it never will.
///
/// Why that holds: a producer names its segments in the ring in the order of their sequence
/// numbers (`WeightSegment.Writer` holds its lock from making a segment until its records are
/// appended), and the consumer reads a ring in order. So once a record naming segment `n` has
/// been read, no record still to be read names a segment below `n`: not in this aggregator, and
/// not in one restarted from a checkpoint saved after that record (it reads on from there).
///
/// - Warning: Not thread-safe; the aggregator's thread owns it.
struct WeightSegments {
    /// The ring directory.
    let directory: String
    /// Per ring file name, the highest sequence number a record read so far named.
    var highestNamed: [String: Int64] = [:]
    private var last: WeightSegment?

    init(directory: String) {
        self.directory = directory
    }

    /// Maps segment `sequence` of ring `ring`, which a record just read names.
    ///
    /// - Throws: `RingError` when it is missing, truncated, unsealed or not a segment.
    mutating func named(ring: String, sequence: Int64) throws(RingError) -> WeightSegment {
        highestNamed[ring] = max(highestNamed[ring] ?? sequence, sequence)
        if let last, last.sequence == sequence, last.ring == ring { return last }
        let segment = try WeightSegment(directory: directory, ring: ring, sequence: sequence)
        last = segment
        return segment
    }

    /// Segment `sequence` of ring `ring`, mapped for a checkpoint that names it.
    func open(ring: String, sequence: Int64) throws(RingError) -> WeightSegment {
        if let last, last.sequence == sequence, last.ring == ring { return last }
        return try WeightSegment(directory: directory, ring: ring, sequence: sequence)
    }

    /// Removes the segment files nothing needs any more, right after a checkpoint is saved:
    /// every one that checkpoint does not name (`named`, file names) and that no record still to
    /// be read can name, that is, of a ring that is gone (retired or quarantined: its file is no
    /// longer in the directory), or below the highest sequence number a record of its ring named.
    /// A segment its producer made and never named (it was killed before appending the records)
    /// goes with its ring, or when a later segment of the ring is named.
    ///
    /// Removing a segment that is still mapped (a histogram being made of it) is safe: the
    /// mapping keeps its pages until it goes.
    ///
    /// - Returns: The segment files removed.
    @discardableResult
    mutating func removeUnneeded(keeping named: Set<String>) -> [String] {
        guard let names = try? DirectoryListing.names(in: directory) else { return [] }
        let present = Set(names)
        var removed: [String] = []
        for name in names where !named.contains(name) {
            guard let (ring, sequence) = WeightSegment.parse(fileName: name) else { continue }
            let unneeded = if present.contains(ring) { highestNamed[ring].map { sequence < $0 } ?? false } else { true }
            if unneeded {
                WeightSegment.remove(directory + "/" + name)
                removed.append(name)
            }
        }
        // Rings gone are forgotten once their segments are.
        for ring in highestNamed.keys where !present.contains(ring) { highestNamed[ring] = nil }
        if let last, !present.contains(last.ring) { self.last = nil }
        return removed
    }
}
