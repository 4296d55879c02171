import Foundation
import RingboardSystem
import RingboardTestSupport
import SystemPackage
import Testing

@Suite struct SyscallsTests {
    /// A call that fails with `EINTR` twice and then returns 5, counting its calls.
    final class Interrupted {
        var calls = 0
        func call() -> Int32 {
            calls += 1
            guard calls > 2 else {
                errno = EINTR
                return -1
            }
            return 5
        }
    }

    static func failure(of result: Result<Void, Errno>) -> Errno? {
        if case .failure(let error) = result { error } else { nil }
    }

    @Test func valueOrErrnoRetriesAnInterruptedCall() {
        let interrupted = Interrupted()
        #expect(valueOrErrno { interrupted.call() } == .success(5))
        #expect(interrupted.calls == 3)
    }

    @Test func valueOrErrnoCanLeaveAnInterruptionToTheCaller() {
        let interrupted = Interrupted()
        #expect(valueOrErrno(retryOnInterrupt: false) { interrupted.call() } == .failure(.interrupted))
        #expect(interrupted.calls == 1)
    }

    @Test func valueOrErrnoReturnsTheValueOrTheErrno() {
        #expect(valueOrErrno { Int64(0) } == .success(0))
        #expect(valueOrErrno { Int(-2) } == .success(-2))
        #expect(valueOrErrno { close(-1) } == .failure(.badFileDescriptor))
        #expect(valueOrErrno { unlink("/nonexistent/ringboard") } == .failure(.noSuchFileOrDirectory))
    }

    @Test func statusSaysWhatIsThere() throws {
        let directory = TemporaryDirectory("ringboard-syscalls")
        let file = directory.appending("file")
        #expect(FileManager.default.createFile(atPath: file, contents: Data(repeating: 1, count: 100)))
        try FileManager.default.createSymbolicLink(atPath: directory.appending("link"), withDestinationPath: file)
        let status = try Syscalls.status(file).get()
        #expect(status.isRegular && !status.isDirectory && !status.isSymbolicLink)
        #expect(status.size == 100 && status.links == 1 && status.owner == Syscalls.effectiveUserID)
        #expect(try Syscalls.status(directory.appending("link")).get() == status)
        #expect(try Syscalls.linkStatus(directory.appending("link")).get().isSymbolicLink)
        #expect(try Syscalls.status(directory.path).get().isDirectory)
        #expect(Syscalls.status(directory.appending("missing")) == .failure(.noSuchFileOrDirectory))

        let descriptor = try FileDescriptor.open(FilePath(file), .readWrite)
        defer { try? descriptor.close() }
        #expect(try Syscalls.truncate(descriptor, 10).get() == ())
        #expect(try Syscalls.fsync(descriptor).get() == ())
        #expect(try Syscalls.status(descriptor).get().size == 10)
        #expect(try Syscalls.unlink(file).get() == ())
        // Removed while open: no links left.
        #expect(try Syscalls.status(descriptor).get().links == 0)
    }

    @Test func directoriesAndRenames() throws {
        let directory = TemporaryDirectory("ringboard-syscalls")
        #expect(try Syscalls.makeDirectory(directory.appending("made"), mode: 0o700).get() == ())
        #expect(Self.failure(of: Syscalls.makeDirectory(directory.appending("made"), mode: 0o700)) == .fileExists)
        #expect(try Syscalls.linkStatus(directory.appending("made")).get().mode == 0o700)
        #expect(try Syscalls.rename(directory.appending("made"), directory.appending("moved")).get() == ())
        #expect(Self.failure(of: Syscalls.rename(directory.appending("made"), directory.appending("again"))) == .noSuchFileOrDirectory)
    }

    @Test func thisProcess() {
        #expect(Syscalls.processID == getpid())
        #expect(Syscalls.processExists(getpid()))
        #expect(Syscalls.processStartTime(getpid()) != nil)
        #expect(Syscalls.processStartTime(-5) == nil)
        #expect(!Syscalls.hostName().isEmpty)
        let seconds = Syscalls.wallTime()
        let nanoseconds = Syscalls.wallClockNanoseconds()
        #expect(abs(Double(nanoseconds) / 1e9 - seconds) < 5)
        #expect(abs(seconds - Date().timeIntervalSince1970) < 5)
    }
}
