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
