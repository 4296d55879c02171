import RingboardFormat
import RingboardRecords

/// A run's metric names, numbered in order of appearance ("slots"): hooks' logs travel as slots
/// and values (`SlotLogs`), so batch after batch nothing is hashed. Each slot knows where its
/// batch scalar goes (`batch_<name>` in `train/` or `validation/`, or nowhere).
struct MetricSlots {
    /// Whose callback's batch scalars the slots write: TF 2.0's (`simple_value`, cleaned tags,
    /// `val_` to `validation/`, `batch`, `size` and `num_steps` nowhere) or Keras 3's (every
    /// name as `batch_<name>` in `train/`, tensor form).
    let semantics: Semantics

    init(semantics: Semantics = .tf20) {
        self.semantics = semantics
    }

    /// What a metric name is and where its batch scalar goes.
    struct Slot {
        /// Its batch scalar's tag in `batchTags`; -1: none is written.
        var tag: Int32
        var validation: Bool
        var isSize: Bool
        var isBatch: Bool
    }

    private(set) var names: [String] = []
    private var entries: [Slot] = []
    private var byName: [String: Int32] = [:]
    /// The batch scalar tags of the slots that write one (`Slot.tag` indexes it).
    private(set) var batchTags: [ScalarTag] = []

    /// The slots made so far (numbered from 0).
    var count: Int { names.count }

    /// The slot of metric name `name`, made when it is new.
    mutating func slot(named name: String) -> Int32 {
        if let known = byName[name] { return known }
        let slot = Int32(names.count)
        let destination = semantics == .keras3
            ? ScalarDestination(tag: ScalarTag("batch_" + name, form: .tensor), validation: false)
            : ScalarDestination(name: name, prefix: "batch_")
        entries.append(Slot(tag: destination.tag == nil ? -1 : Int32(batchTags.count), validation: destination.validation,
                            isSize: semantics == .tf20 && name == "size", isBatch: name == "batch"))
        if let tag = destination.tag { batchTags.append(tag) }
        names.append(name)
        byName[name] = slot
        return slot
    }

    /// The slot of a name already made (`nil`: none).
    func existingSlot(named name: String) -> Int32? { byName[name] }

    subscript(slot: Int32) -> Slot { entries[Int(slot)] }

    /// The metric name of `slot`.
    func name(of slot: Int32) -> String { names[Int(slot)] }

    /// Logs by name as slots.
    mutating func slotLogs(_ logs: [(String, Double)]) -> SlotLogs {
        var result = SlotLogs()
        for (name, value) in logs { result.append(slot(named: name), value) }
        return result
    }

    /// Logs as slots, by name.
    func namedLogs(_ logs: borrowing SlotLogs) -> [(String, Double)] {
        logs.slots.indices.map { (names[Int(logs.slots[$0])], logs.values[$0]) }
    }
}

/// One producer's metric numbers (`HookRecord.metricName`) and the run's slots they stand for.
/// Numbers below `tableSize` are looked up in a table, larger ones (rare: producers number from
/// 0) in a dictionary.
struct MetricNumbering {
    static let tableSize: UInt32 = 4096

    /// Names by number, as the producer announced them.
    private(set) var names: [UInt32: String] = [:]
    /// Slots of the numbers below `tableSize` (-1: not named).
    private var table: [Int32] = []
    /// Slots of the numbers from `tableSize` up.
    private var largeNumbers: [UInt32: Int32] = [:]
    /// The last metric numbers `remember` was given, every one named, and their slots: hook after
    /// hook a producer sends the same metrics, whose slots are then looked up once. Forgotten
    /// whenever a number is named. `lastSlots` may be lent out by swapping, and given back.
    private(set) var lastMetrics: [UInt32] = []
    var lastSlots: [Int32] = []

    /// Records that the producer calls `name` number `metric`, which is run slot `slot`.
    mutating func name(_ metric: UInt32, _ name: String, slot: Int32) {
        (lastMetrics, lastSlots) = ([], [])
        names[metric] = name
        guard metric < MetricNumbering.tableSize else {
            largeNumbers[metric] = slot
            return
        }
        if Int(metric) >= table.count { table += repeatElement(-1, count: Int(metric) + 1 - table.count) }
        table[Int(metric)] = slot
    }

    /// Remembers the slots of `metrics`, every one of them named (`lastMetrics`, `lastSlots`).
    mutating func remember(_ metrics: [UInt32], slots: [Int32]) {
        precondition(metrics.count == slots.count)
        (lastMetrics, lastSlots) = (metrics, slots)
    }

    /// The slot of `metric` (-1: never named).
    @inline(__always)
    func slot(of metric: UInt32) -> Int32 {
        if Int(metric) < table.count { return table[Int(metric)] }
        return metric < MetricNumbering.tableSize ? -1 : largeNumbers[metric] ?? -1
    }
}

/// A hook's logs as a run's slots and their values, in the hook's order.
struct SlotLogs {
    private(set) var slots: [Int32] = []
    private(set) var values: [Double] = []

    init() {}

    init(slots: [Int32], values: [Double]) {
        precondition(slots.count == values.count)
        self.slots = slots
        self.values = values
    }

    var count: Int { slots.count }

    /// Exchanges the storage with `slots` and `values`, as many of each: lends arrays to the
    /// logs and takes them back, without a copy or a reference count.
    mutating func exchange(slots: inout [Int32], values: inout [Double]) {
        swap(&self.slots, &slots)
        swap(&self.values, &values)
        precondition(self.slots.count == self.values.count)
    }

    mutating func append(_ slot: Int32, _ value: Double) {
        slots.append(slot)
        values.append(value)
    }

    /// The values, taken out (the logs are left without values until `restoreValues`), so that
    /// the caller sets them in storage no one else holds.
    mutating func takeValues() -> [Double] {
        var taken: [Double] = []
        swap(&taken, &values)
        return taken
    }

    /// Gives back values `takeValues` took, as many as there are slots.
    mutating func restoreValues(_ restored: [Double]) {
        precondition(restored.count == slots.count)
        values = restored
    }

    /// Forgets the entries, keeping the storage.
    mutating func removeAll() {
        slots.removeAll(keepingCapacity: true)
        values.removeAll(keepingCapacity: true)
    }
}

/// Where a metric's scalar goes, worked out once per name: `batch`, `size` and `num_steps`
/// nowhere; `val_<name>` to `validation/` as `<prefix><name>`; the rest to `train/`; the tag
/// cleaned as TF 2.0's `clean_tag` cleans it.
struct ScalarDestination {
    var tag: ScalarTag?
    var validation = false

    init(tag: ScalarTag?, validation: Bool) {
        self.tag = tag
        self.validation = validation
    }

    init(name: String, prefix: String) {
        guard name != "batch" && name != "size" && name != "num_steps" else { return }
        validation = name.hasPrefix("val_")
        tag = ScalarTag(ScalarDestination.cleanTag(prefix + (validation ? name.dropFirst(4) : name[...])))
    }

    /// A summary name as TF 2.0's `clean_tag` cleans it (`re.sub(r'[^-/\w\.]', '_', name)`,
    /// where `\w` is any Unicode letter, digit or underscore).
    static func cleanTag(_ name: some StringProtocol) -> String {
        String(String.UnicodeScalarView(name.unicodeScalars.map { scalar in
            let properties = scalar.properties
            let word = scalar == "_" || properties.isAlphabetic || properties.numericType != nil
            return word || scalar == "-" || scalar == "/" || scalar == "." ? scalar : "_"
        }))
    }
}

/// What a batch hook of a sequence of slots writes, worked out once while hooks repeat it.
struct BatchPlan {
    private(set) var slots: [Int32] = []
    /// Where `size` is (-1: nowhere).
    private(set) var sizeIndex = -1
    /// The positions written to each file and their tags (in `MetricSlots.batchTags`).
    private(set) var trainPositions: [Int32] = [], trainTags: [Int32] = []
    private(set) var validationPositions: [Int32] = [], validationTags: [Int32] = []
    /// The first scalar written goes to `validation/`.
    private(set) var validationFirst = false

    init() {}

    init(_ slots: [Int32], _ table: borrowing MetricSlots) {
        self.slots = slots
        for (position, slot) in slots.enumerated() {
            let destination = table[slot]
            if destination.isSize && sizeIndex < 0 { sizeIndex = position }
            guard destination.tag >= 0 else { continue }
            if destination.validation {
                if trainTags.isEmpty && validationTags.isEmpty { validationFirst = true }
                validationPositions.append(Int32(position))
                validationTags.append(destination.tag)
            } else {
                trainPositions.append(Int32(position))
                trainTags.append(destination.tag)
            }
        }
    }
}
