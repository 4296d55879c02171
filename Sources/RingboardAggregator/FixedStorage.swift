/// A fixed number of values in memory of their own, for state the aggregator's thread mutates
/// record after record. Mutating an element costs neither of the checks the usual homes of such
/// state cost on every mutation: the dynamic exclusivity check of a class's stored property
/// (about a tenth of the aggregator's time per hook in `.mean` runs) and an array's uniqueness
/// check. The storage is owned by the instance and freed with it.
///
/// - Warning: Not thread-safe, and without the exclusivity check nothing stops a second access to
///   an element while a mutation of it is under way: only mutate elements through methods that
///   do not reach this storage again.
final class FixedStorage<Element> {
    private let base: UnsafeMutablePointer<Element>
    /// The number of elements.
    let count: Int

    /// `count` copies of `element`.
    init(repeating element: Element, count: Int) {
        precondition(count >= 0)
        base = .allocate(capacity: count)
        base.initialize(repeating: element, count: count)
        self.count = count
    }

    deinit {
        base.deinitialize(count: count)
        base.deallocate()
    }

    /// Element `index`, `0..<count`.
    subscript(index: Int) -> Element {
        _read {
            precondition(index >= 0 && index < count, "index \(index) outside 0..<\(count)")
            yield base[index]
        }
        _modify {
            precondition(index >= 0 && index < count, "index \(index) outside 0..<\(count)")
            yield &base[index]
        }
    }
}
