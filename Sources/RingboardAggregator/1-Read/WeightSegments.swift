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
    /// The mappings of the last segments read, the latest first: a trainer writes its next
    /// segments into their files once they are spares, and reading a kept mapping again costs
    /// no page faults (a fresh one faults on every 64 KiB or so: about 5 ms for 32 MiB here).
    private var mappings: [SegmentMapping] = []
    /// Mappings kept: a ring's spares and the segments in between, for a few rings.
    static let mappingsKept = 8

    init(directory: String) {
        self.directory = directory
    }

    /// Maps segment `sequence` of ring `ring`, which a record just read names.
    ///
    /// - Throws: `RingError` when it is missing, truncated, unsealed or not a segment.
    mutating func named(ring: String, sequence: Int64) throws(RingError) -> WeightSegment {
        highestNamed[ring] = max(highestNamed[ring] ?? sequence, sequence)
        if let last, last.sequence == sequence, last.ring == ring { return last }
        let segment = try WeightSegment(directory: directory, ring: ring, sequence: sequence, reusing: mappings)
        last = segment
        mappings.removeAll { $0 === segment.mapping }
        mappings.insert(segment.mapping, at: 0)
        if mappings.count > WeightSegments.mappingsKept { mappings.removeLast() }
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
    /// A segment of a ring that is still there is made a spare instead (renamed, up to
    /// `WeightSegment.sparesPerRing` a ring), for its producer to write a later segment into: no
    /// summary reads it any more (they were all made before the checkpoint's flush), and no
    /// model names it. Spares of a ring that is gone are removed.
    ///
    /// Removing a segment that is still mapped (the last one a record named is kept mapped for
    /// the next record) is safe: the mapping keeps its pages until it goes.
    ///
    /// - Returns: The segment files removed (or made spares).
    @discardableResult
    mutating func removeUnneeded(keeping named: Set<String>) -> [String] {
        guard let names = try? DirectoryListing.names(in: directory) else { return [] }
        let present = Set(names)
        var spares: [String: Int] = [:]
        for name in names { if let ring = WeightSegment.parseSpare(fileName: name) { spares[ring, default: 0] += 1 } }
        var removed: [String] = []
        for name in names where !named.contains(name) {
            if let ring = WeightSegment.parseSpare(fileName: name) {
                if !present.contains(ring) {
                    forgetMapping(of: directory + "/" + name)
                    WeightSegment.remove(directory + "/" + name)
                    removed.append(name)
                }
                continue
            }
            guard let (ring, sequence) = WeightSegment.parse(fileName: name) else { continue }
            let unneeded = if present.contains(ring) { highestNamed[ring].map { sequence < $0 } ?? false } else { true }
            guard unneeded else { continue }
            if present.contains(ring), spares[ring, default: 0] < WeightSegment.sparesPerRing,
               WeightSegment.makeSpare(directory: directory, ring: ring, sequence: sequence) {
                spares[ring, default: 0] += 1
            } else {
                forgetMapping(of: directory + "/" + name)
                WeightSegment.remove(directory + "/" + name)
            }
            removed.append(name)
        }
        // Rings gone are forgotten once their segments are.
        for ring in highestNamed.keys where !present.contains(ring) { highestNamed[ring] = nil }
        if let last, !present.contains(last.ring) { self.last = nil }
        return removed
    }

    /// Unmaps the kept mapping of the file at `path`, about to be removed: a mapping would keep
    /// its pages.
    private mutating func forgetMapping(of path: String) {
        guard !mappings.isEmpty, case .success(let status) = Syscalls.linkStatus(path) else { return }
        mappings.removeAll { $0.device == status.device && $0.inode == status.inode }
    }
}
