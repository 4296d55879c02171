/// A `Duration` as the counts system calls and timers take. Whole units are truncated toward
/// zero (as integer division is) and clamped to `Int64`, so an enormous duration (`.seconds(Int64.max)`)
/// becomes `Int64.max` rather than trapping.
extension Duration {
    /// The whole duration in attoseconds, which no `Duration` overflows.
    private var attoseconds: Int128 {
        Int128(components.seconds) * 1_000_000_000_000_000_000 + Int128(components.attoseconds)
    }

    /// Whole nanoseconds, truncated toward zero and clamped to `Int64`.
    package var inNanoseconds: Int64 {
        Int64(clamping: attoseconds / 1_000_000_000)
    }

    /// Whole microseconds, truncated toward zero and clamped to `Int64`.
    package var inMicroseconds: Int64 {
        Int64(clamping: attoseconds / 1_000_000_000_000)
    }

    /// Whole milliseconds, truncated toward zero and clamped to `Int64`.
    package var inMilliseconds: Int64 {
        Int64(clamping: attoseconds / 1_000_000_000_000_000)
    }

    /// Seconds, with the fraction (to within a `Double`'s precision).
    package var inSeconds: Double {
        Double(components.seconds) + Double(components.attoseconds) * 1e-18
    }
}
