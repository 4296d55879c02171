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
