import Dispatch
import Glibc
import RingboardFormat

/// Where costly summaries (histograms, PNG images) are made, several at a time, while the
/// aggregator's thread goes on with the next hooks. Each keeps its place in its event file as a
/// `PendingEvent`: the writer writes it, and what was appended after it, once it is made.
final class SummaryPool: Sendable {
    /// The number of summaries made or waiting at once. `append` waits for one to finish beyond
    /// that, so an aggregator faster than the making never piles up summaries (and the weights
    /// they read) without bound.
    let width: Int
    private let queue = DispatchQueue(label: "ringboard.summaries", qos: .userInitiated, attributes: .concurrent)
    private let slots: DispatchSemaphore

    /// A pool as wide as twice the cores.
    init(width: Int = max(2, 2 * Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))) {
        self.width = width
        slots = DispatchSemaphore(value: width)
    }

    /// Appends to `writer` the event `make` makes (none when it returns `nil`), made on the pool.
    ///
    /// - Parameters:
    ///   - writer: The event file.
    ///   - make: Makes the event, once, on another thread. It must not use `writer`.
    /// - Throws: `EventFileError.closed` when the writer is closed.
    func append(to writer: EventFileWriter, _ make: @escaping @Sendable () -> Event?) throws(EventFileError) {
        let pending = PendingEvent()
        try writer.append(pending)
        slots.wait()
        queue.async { [slots] in
            pending.fulfill(make())
            slots.signal()
        }
    }
}
