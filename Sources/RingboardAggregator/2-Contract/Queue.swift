/// A first-in, first-out queue whose `removeFirst` moves nothing and frees nothing (a rank that
/// runs ahead can queue many thousands of hooks, and a rank in step empties its queue at every
/// step). A removed element's slot is cleared at once, so the queue holds no reference to it;
/// the slots before the first are reclaimed when the storage is full, before it grows.
struct Queue<Element> {
    private var storage: [Element?] = []
    private var head = 0

    init(_ elements: [Element] = []) {
        storage = elements.map { $0 }
    }

    var isEmpty: Bool { head == storage.count }
    var first: Element? { isEmpty ? nil : storage[head] }
    /// The queued elements, oldest first.
    var elements: LazyMapCollection<ArraySlice<Element?>, Element> { storage[head...].lazy.map { $0! } }

    @inline(__always)
    mutating func append(_ element: Element) {
        if head > 0 && storage.count == storage.capacity { reclaim() }
        storage.append(element)
    }

    /// Drops the slots before the first (all cleared), moving the queued elements to the front.
    @inline(never)
    private mutating func reclaim() {
        storage.removeFirst(head)
        head = 0
    }

    mutating func removeFirst() -> Element? {
        guard !isEmpty else { return nil }
        let element = storage[head]
        storage[head] = nil
        head += 1
        return element
    }
}
