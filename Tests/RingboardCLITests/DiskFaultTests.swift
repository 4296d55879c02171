import Foundation
import RingboardFormat
import RingboardTestSupport
import Testing

/// Full disks and removed directories under a running aggregator and trainer (real processes,
/// real tmpfs mounts; needs root to mount, as CI runs).
@Suite(.serialized) struct DiskFaultTests {
    /// The log root on a tmpfs that fills up: the aggregator says so once, the trainer never
    /// waits (it spills), and once the tmpfs grows every event is written, exactly as without
    /// the fault.
    @Test(.privileged("needs root to mount a small tmpfs", missing: tmpfsMountProblem))
    func aFullLogDiskLosesNothingOnceSpaceReturns() throws {
        let directory = TemporaryDirectory("ringboard-enospc")
        let epochs = 150, capacity = 64 << 10
        let reference = try TrainerHarness.uninterruptedRun(
            directory.appending("reference"), policy: "chief", procs: 1, epochs: epochs, ringCapacity: capacity)
        let rings = directory.appending("rings"), logs = directory.appending("logs")
        try FileManager.default.createDirectory(atPath: logs, withIntermediateDirectories: true)
        #expect(try run("/bin/mount", ["-t", "tmpfs", "-o", "size=256k", "tmpfs", logs]).status == 0)
        defer { _ = try? run("/bin/umount", ["-l", logs]) }

        let aggregator = try TrainerHarness.startAggregator(logs: logs, rings: rings, exitWhenIdle: true)
        let trainer = try TrainerHarness.startTrainer(rank: 0, procs: 1, policy: "chief", epochs: epochs, rings: rings, logs: logs, ringCapacity: capacity)
        let started = Date()
        while trainer.isRunning && Date().timeIntervalSince(started) < 60 { usleep(20_000) }
        #expect(!trainer.isRunning, "the trainer waited for the full disk")
        trainer.waitUntilExit()
        #expect(trainer.terminationStatus == 0)
        let messages = { (try? String(contentsOfFile: rings + ".log", encoding: .utf8)) ?? "" }
        #expect(messages().contains("No space left on device"), "the disk never filled: \(messages())")
        #expect(TrainerHarness.ringFiles(rings) == 1, "the ring must wait, undrained, while the disk is full")

        #expect(try run("/bin/mount", ["-o", "remount,size=64m", logs]).status == 0)
        let deadline = Date().addingTimeInterval(60)
        while aggregator.isRunning && Date() < deadline { usleep(20_000) }
        #expect(!aggregator.isRunning)
        if aggregator.isRunning { aggregator.terminate() }
        try TrainerHarness.expectSameEvents(logs, as: reference, epochs: epochs, family: "log-disk-full", faults: 1)
        let reports = messages().split(separator: "\n").filter { $0.contains("event files cannot be written") }
        #expect(reports.count == 1, "reported \(reports.count) times, not once: \(reports)")
    }

    /// The log directory removed while the aggregator writes into it: it says so, makes the
    /// directory again and goes on in new files, which hold the rest of the stream, whole.
    @Test func aRemovedLogDirectoryIsMadeAgain() throws {
        let directory = TemporaryDirectory("ringboard-removed")
        let epochs = 150
        let reference = try TrainerHarness.uninterruptedRun(directory.appending("reference"), policy: "chief", procs: 1, epochs: epochs)
        let rings = directory.appending("rings"), logs = directory.appending("logs")
        let aggregator = try TrainerHarness.startAggregator(logs: logs, rings: rings, exitWhenIdle: true)
        let trainer = try TrainerHarness.startTrainer(rank: 0, procs: 1, policy: "chief", epochs: epochs, rings: rings, logs: logs)
        let started = Date()
        while !FileManager.default.fileExists(atPath: logs + "/validation") && Date().timeIntervalSince(started) < 30 { usleep(10_000) }
        usleep(300_000)
        // Files may appear while it is being removed; try until it is gone.
        var removed = false
        for _ in 0..<50 where !removed {
            removed = (try? FileManager.default.removeItem(atPath: logs)) != nil
        }
        #expect(removed)
        trainer.waitUntilExit()
        let deadline = Date().addingTimeInterval(60)
        while aggregator.isRunning && Date() < deadline { usleep(20_000) }
        #expect(!aggregator.isRunning)
        if aggregator.isRunning { aggregator.terminate() }

        let streams = try TrainerHarness.eventStreams(logs)
        for run in ["train", "validation"] {
            let written = streams[run] ?? [], expected = reference[run] ?? []
            #expect(!written.isEmpty && written.count < expected.count, "\(run): \(written.count) of \(expected.count) events")
            #expect(Array(expected.suffix(written.count)) == written, "\(run): not the rest of the uninterrupted stream")
        }
        let messages = (try? String(contentsOfFile: rings + ".log", encoding: .utf8)) ?? ""
        #expect(messages.contains("removed while being written"))
    }

    /// The ring directory's disk full while the aggregator is stopped: the trainer cannot spill,
    /// says so once and waits for room instead of dropping anything; once the aggregator goes
    /// on, every event arrives.
    @Test(.privileged("needs root to mount a small tmpfs", missing: tmpfsMountProblem))
    func aFullSpillDiskFallsBackToWaiting() throws {
        let directory = TemporaryDirectory("ringboard-spill-enospc")
        let epochs = 60, capacity = 64 << 10
        let reference = try TrainerHarness.uninterruptedRun(
            directory.appending("reference"), policy: "chief", procs: 1, epochs: epochs, ringCapacity: capacity)
        let rings = directory.appending("rings"), logs = directory.appending("logs")
        try FileManager.default.createDirectory(atPath: rings, withIntermediateDirectories: true)
        #expect(try run("/bin/mount", ["-t", "tmpfs", "-o", "size=256k,mode=0700", "tmpfs", rings]).status == 0)
        defer { _ = try? run("/bin/umount", ["-l", rings]) }

        let aggregator = try TrainerHarness.startAggregator(logs: logs, rings: rings, exitWhenIdle: true)
        usleep(200_000)
        kill(aggregator.processIdentifier, SIGSTOP)
        let errors = Pipe()
        let trainer = try TrainerHarness.startTrainer(
            rank: 0, procs: 1, policy: "chief", epochs: epochs, rings: rings, logs: logs, ringCapacity: capacity, standardError: errors)
        usleep(3_000_000)
        #expect(trainer.isRunning, "the trainer finished with nowhere to put its records")
        kill(aggregator.processIdentifier, SIGCONT)
        trainer.waitUntilExit()
        #expect(trainer.terminationStatus == 0)
        let said = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(said.components(separatedBy: "cannot spill").count - 1 == 1, "the trainer said: \(said)")
        #expect(said.contains("waiting for the aggregator to make room"))
        let deadline = Date().addingTimeInterval(60)
        while aggregator.isRunning && Date() < deadline { usleep(20_000) }
        #expect(!aggregator.isRunning)
        if aggregator.isRunning { aggregator.terminate() }
        try TrainerHarness.expectSameEvents(logs, as: reference, epochs: epochs, family: "spill-disk-full", faults: 1)
    }

    /// A ring directory whose file system cannot hold a ring (a container's small `/dev/shm`):
    /// the producer is refused with a message that says what to do. The ring's file used to be
    /// sparse, so the producer's first store into a page the full tmpfs could not give it
    /// raised SIGBUS and killed it.
    @Test(.privileged("needs root to mount a small tmpfs", missing: tmpfsMountProblem))
    func aRingThatDoesNotFitItsFileSystemIsRefusedNotFaulted() throws {
        let directory = TemporaryDirectory("ringboard-ring-enospc")
        let rings = directory.appending("rings")
        try FileManager.default.createDirectory(atPath: rings, withIntermediateDirectories: true)
        #expect(try run("/bin/mount", ["-t", "tmpfs", "-o", "size=1m,mode=0700", "tmpfs", rings]).status == 0)
        defer { _ = try? run("/bin/umount", ["-l", rings]) }
        // 50,000 records of 64 bytes are 4 MB: past the tmpfs's 1 MiB, inside the 16 MiB ring.
        let result = try run(productsDirectory + "/ringboard", [
            "stress", "--producers", "1", "--records", "50000", "--bytes", "64", "--ring-dir", rings + "/r",
        ], timeout: 120)
        let said = result.standardOutput + result.standardError
        #expect(result.status == 1, "\(said)")
        #expect(said.contains("no room for a ring of 16 MiB"), "\(said)")
        #expect(said.contains("docker run --shm-size"), "\(said)")
        #expect(!said.contains("Bus error") && !said.contains("crashed"), "\(said)")
    }
}
