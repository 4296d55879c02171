import Foundation
import RingboardTestSupport
import Testing
@testable import RingboardFormat

@Suite struct FlushTimerTests {
    /// Arming calls back once the delay has passed.
    @Test func anArmedTimerFiresAfterItsDelay() {
        var timer = FlushTimer(delay: .milliseconds(200))
        let fired = DispatchSemaphore(value: 0)
        let start = DispatchTime.now()
        timer.arm { fired.signal() }
        #expect(timer.isArmed)
        #expect(fired.wait(timeout: .now() + 10) == .success)
        #expect(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds >= 190_000_000)
    }

    /// A firing with nothing buffered leaves the timer unarmed; with a record younger than the
    /// delay, it fires again later; with an older one, the buffer is due.
    @Test func aFiringWritesOnlyRecordsThatWaitedTheDelay() {
        var timer = FlushTimer(delay: .milliseconds(100))
        let fired = DispatchSemaphore(value: 0)
        timer.arm { fired.signal() }
        #expect(fired.wait(timeout: .now() + 10) == .success)
        #expect(!timer.isDue(bufferedSince: nil) { fired.signal() })
        #expect(!timer.isArmed)

        timer.arm { fired.signal() }
        #expect(fired.wait(timeout: .now() + 10) == .success)
        #expect(!timer.isDue(bufferedSince: .now()) { fired.signal() })
        #expect(timer.isArmed)
        #expect(fired.wait(timeout: .now() + 10) == .success)
        #expect(timer.isDue(bufferedSince: .now() - .milliseconds(150)) { fired.signal() })
        timer.written(false) { fired.signal() }
        #expect(timer.isArmed)
        #expect(fired.wait(timeout: .now() + 10) == .success)
        timer.written(true) { fired.signal() }
        #expect(!timer.isArmed)
        #expect(fired.wait(timeout: .now() + .milliseconds(300)) == .timedOut)
    }

    /// A writer's records reach the file by themselves, not before the delay and not long after.
    @Test func aWriterWritesAfterTheDelayWithoutFlush() throws {
        let directory = TemporaryDirectory()
        var options = EventFileWriter.Options()
        options.flushDelay = .seconds(1)
        let writer = try EventFileWriter(directory: directory.path, options: options)
        let start = DispatchTime.now()
        try writer.appendScalar(tag: "loss", value: 1, step: 1, wallTime: 1)
        #expect(writer.pendingBytes > 0)
        while writer.pendingBytes > 0 && DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds < 10_000_000_000 {
            usleep(10_000)
        }
        #expect(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds >= 950_000_000)
        #expect(try EventFileWriterTests.readAll(writer.path).map(\.step) == [0, 1])
        try writer.close()
    }

    /// A timed write that fails is retried: a file that cannot be made yet appears by itself
    /// once it can.
    @Test func aFailedTimedWriteIsRetried() throws {
        let directory = TemporaryDirectory()
        _ = FileManager.default.createFile(atPath: directory.appending("blocked"), contents: Data([1]))
        var options = EventFileWriter.Options()
        options.createWhenWritable = true
        options.flushDelay = .milliseconds(20)
        let writer = try EventFileWriter(directory: directory.appending("blocked/run"), options: options)
        try writer.appendScalar(tag: "x", value: 1, step: 1, wallTime: 1)
        usleep(100_000)
        #expect(!FileManager.default.fileExists(atPath: writer.path))
        try FileManager.default.removeItem(atPath: directory.appending("blocked"))
        var waited = 0
        while writer.pendingBytes > 0 && waited < 5_000 {
            usleep(10_000)
            waited += 10
        }
        #expect(try EventFileWriterTests.readAll(writer.path).map(\.step) == [0, 1])
        try writer.close()
    }
}
