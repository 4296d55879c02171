internal import RingboardSystem
import Dispatch
import Synchronization

/// An event still being made elsewhere (on the caller's pool): it keeps its place in the file.
///
/// For an event that is costly to make (a PNG image, say): append the pending event with
/// `EventFileWriter.append(_:)`, go on appending, and make the event on a thread of your own, then
/// `fulfill(_:)` it. Appends made after it wait behind it (without blocking their callers); the
/// writer's `flush()`, `sync()`, `close()` and `pendingBytes` wait until it is fulfilled.
///
/// - Warning: Fulfill it exactly once, from any thread; fulfilling never waits for the writer.
///   Until it is fulfilled its writer stays alive, and whatever waits for it (`close()`, say)
///   waits on: a thread that is to fulfill it must not call those first. Append it to one writer,
///   once.
public final class PendingEvent: Sendable {
    /// Set by `fulfill` (any thread), read by the writer that holds it (its encoding job, or a
    /// thread in `flush()` and the like), and by `append` to attach the writer's wake-up.
    private let state = Mutex(State())
    /// Signalled once by `fulfill`; each wait passes the signal on, so later waits return at once.
    private let fulfilled = DispatchSemaphore(value: 0)

    private struct State {
        var outcome: Outcome = .waiting
        /// What the writer does once the event is made: queue its encoding.
        var whenFulfilled: (@Sendable () -> Void)?
        var isAppended = false
    }

    private enum Outcome {
        case waiting
        case made(Event?)
    }

    /// A pending event, to be appended and then fulfilled.
    public init() {}

    /// Hands over the event made, to be written in the pending event's place.
    ///
    /// - Parameter event: The event; `nil` writes nothing in its place (making it failed, say).
    /// - Precondition: It was not fulfilled before.
    public func fulfill(_ event: Event?) {
        let wake = state.locked { state in
            guard case .waiting = state.outcome else { preconditionFailure("a PendingEvent is fulfilled twice") }
            state.outcome = .made(event)
            return state.whenFulfilled.take()
        }
        fulfilled.signal()
        wake?()
    }

    /// Runs `wake` once the event is made (at once, on this thread, when it is already), on the
    /// thread that fulfills it.
    ///
    /// - Precondition: The pending event was not appended before.
    func whenFulfilled(_ wake: @escaping @Sendable () -> Void) {
        let isMade = state.locked { state in
            precondition(!state.isAppended, "a PendingEvent is appended twice")
            state.isAppended = true
            guard case .waiting = state.outcome else { return true }
            state.whenFulfilled = wake
            return false
        }
        if isMade { wake() }
    }

    /// Whether it was fulfilled.
    var isFulfilled: Bool {
        state.locked { if case .waiting = $0.outcome { false } else { true } }
    }

    /// The event, once made: waits until it is fulfilled.
    var event: Event? {
        fulfilled.wait()
        fulfilled.signal()
        return state.locked { state in
            guard case .made(let event) = state.outcome else { preconditionFailure("a PendingEvent signalled before it was fulfilled") }
            return event
        }
    }
}
