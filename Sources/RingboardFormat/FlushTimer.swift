import Dispatch

/// When an `EventFileWriter` writes its buffer by itself: at most `delay` after a record entered
/// the empty buffer, so TensorBoard sees every event promptly even when the writer goes idle.
///
/// At most one firing is scheduled at a time. It fires on a global queue and calls the writer,
/// which asks `isDue(bufferedSince:_:)` whether to write now; a failed write is retried one delay
/// later.
///
/// - Warning: Not thread-safe: the writer keeps it under its lock with the file.
struct FlushTimer {
    /// The longest a record waits in the buffer.
    let delay: Duration
    /// A firing is scheduled.
    private(set) var isArmed = false

    init(delay: Duration) {
        self.delay = delay
    }

    /// Arms the timer: `fire` is called `delay` from now.
    ///
    /// - Parameter fire: Calls the writer back (it holds the writer until then).
    /// - Precondition: The timer is not armed.
    mutating func arm(_ fire: @escaping @Sendable () -> Void) {
        precondition(!isArmed, "the flush timer is armed already")
        isArmed = true
        FlushTimer.schedule(after: delay, fire)
    }

    /// When the timer fired: whether the buffer is due to be written now. When its oldest record
    /// has waited less than `delay`, the timer is armed again for the moment it will have; with
    /// nothing buffered, it stays unarmed. After a due write, call `written(_:_:)`.
    ///
    /// - Parameters:
    ///   - bufferedSince: When the buffer's oldest record was appended; `nil` for none.
    ///   - fire: As for `arm(_:)`.
    mutating func isDue(bufferedSince: DispatchTime?, _ fire: @escaping @Sendable () -> Void) -> Bool {
        guard let bufferedSince else {
            isArmed = false
            return false
        }
        let waited = Duration.nanoseconds(Int64(DispatchTime.now().uptimeNanoseconds - bufferedSince.uptimeNanoseconds))
        guard waited >= delay else {
            FlushTimer.schedule(after: delay - waited, fire)
            return false
        }
        return true
    }

    /// After the due write: the timer is unarmed, or, when the write failed, armed again to retry
    /// it one delay later.
    ///
    /// - Parameters:
    ///   - succeeded: Whether the write succeeded.
    ///   - fire: As for `arm(_:)`.
    mutating func written(_ succeeded: Bool, _ fire: @escaping @Sendable () -> Void) {
        if succeeded {
            isArmed = false
        } else {
            FlushTimer.schedule(after: delay, fire)
        }
    }

    /// The one place a firing is scheduled.
    private static func schedule(after delay: Duration, _ fire: @escaping @Sendable () -> Void) {
        let nanoseconds = delay.components.seconds * 1_000_000_000 + delay.components.attoseconds / 1_000_000_000
        DispatchQueue.global(qos: .utility).asyncAfter(deadline: .now() + .nanoseconds(Int(max(nanoseconds, 1))), execute: fire)
    }
}
