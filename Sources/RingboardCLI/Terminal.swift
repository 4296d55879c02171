#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

func writeToStandardError(_ bytes: UnsafeRawBufferPointer) -> Int {
    write(2, bytes.baseAddress, bytes.count)
}

/// Whether standard error is a terminal (progress lines are drawn only there).
func standardErrorIsTerminal() -> Bool {
    isatty(2) == 1
}

/// Writes out what `print` buffered, so lines of several processes sharing a pipe keep their order.
func flushStandardOutput() {
    fflush(nil)
}

/// One line of progress on standard error, redrawn in place at most four times a second, and
/// drawn only when standard error is a terminal: logs, pipes and CI stay quiet.
struct ProgressLine {
    /// Whether the line is drawn.
    let isShown: Bool
    private var lastDrawn: ContinuousClock.Instant?

    /// A progress line, shown when `shown` (by default, when standard error is a terminal).
    init(shown: Bool = standardErrorIsTerminal()) {
        isShown = shown
    }

    /// Draws `text` in place of the line, unless it was drawn less than 250 ms ago and `now` is false.
    mutating func update(_ text: @autoclosure () -> String, now: Bool = false) {
        guard isShown else { return }
        let instant = ContinuousClock.now
        if !now, let lastDrawn, instant - lastDrawn < .milliseconds(250) { return }
        lastDrawn = instant
        var standardError = StandardError()
        print("\r\u{1B}[K" + text(), terminator: "", to: &standardError)
    }

    /// Erases the line, so that what is printed next starts on a clean one.
    mutating func clear() {
        guard isShown, lastDrawn != nil else { return }
        lastDrawn = nil
        var standardError = StandardError()
        print("\r\u{1B}[K", terminator: "", to: &standardError)
    }
}
