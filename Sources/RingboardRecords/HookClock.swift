import Glibc

/// The clock a trainer stamps its hook records with: the time a hook fired, as TF 2.0 stamps a
/// summary with the time it is written (when the hook fires), not when the aggregator drains it.
///
/// It reads `CLOCK_REALTIME_COARSE`: the kernel's last tick (1–4 ms old), from the vDSO page, so
/// no system call; a few nanoseconds, where the precise clock costs a few tens.
public enum HookClock {
    /// Now, in nanoseconds since the Unix epoch, to within the kernel's tick.
    @inlinable
    public static func now() -> Int64 {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME_COARSE, &time)
        return Int64(time.tv_sec) &* 1_000_000_000 &+ Int64(time.tv_nsec)
    }

    /// `nanoseconds` as the seconds an event's `wall_time` holds.
    ///
    /// - Parameter nanoseconds: A time from `now()`.
    /// - Returns: Seconds since the Unix epoch.
    @inlinable
    public static func seconds(_ nanoseconds: Int64) -> Double {
        Double(nanoseconds) / 1e9
    }
}
