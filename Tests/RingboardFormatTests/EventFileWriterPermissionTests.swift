import Foundation
import Synchronization
import RingboardTestSupport
import Testing
@testable import RingboardFormat

/// Event files are created 0644 less the umask, exclusively, and never through a link planted
/// where the file goes.
@Suite struct EventFileWriterPermissionTests {
    /// This process's umask, as the kernel reports it (reading it with umask(2) would change it
    /// for every thread while the tests run).
    static var umask: Int {
        let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("Umask:") }
        return line.flatMap { Int($0.dropFirst("Umask:".count).trimmingCharacters(in: .whitespaces), radix: 8) } ?? 0o022
    }

    @Test func filesAre0644LessTheUmask() throws {
        let directory = TemporaryDirectory("ringboard-mode")
        let writer = try EventFileWriter(directory: directory.appending("run/train"))
        try writer.close()
        let mode = try FileManager.default.attributesOfItem(atPath: writer.path)[.posixPermissions] as! Int
        #expect(mode == 0o644 & ~Self.umask)
    }

    /// Links planted at the names a writer tries first (same host, pid and second, its first
    /// 20 counters) are skipped, never written through: the writer takes the 21st name, and the
    /// file each link points to stays as it was. The writer draws its counters from its own
    /// source, so writers that other suites open meanwhile cannot take the planted names from it.
    @Test func plantedLinksAtTheNextNamesAreNeverFollowed() throws {
        let directory = TemporaryDirectory("ringboard-planted")
        let target = directory.appending("target")
        #expect(FileManager.default.createFile(atPath: target, contents: Data("untouched".utf8)))
        let drawn = Mutex<[Int]>([])
        var options = EventFileWriter.Options()
        options.hostName = "planted"
        options.createdAt = 1_764_291_845.5
        options.counter = { drawn.withLock { drawn in drawn.append(drawn.count); return drawn.count - 1 } }
        let train = directory.appending("run/train")
        try FileManager.default.createDirectory(atPath: train, withIntermediateDirectories: true)
        var planted: [String] = []
        for counter in 0..<20 {
            let name = EventFileName.make(seconds: 1_764_291_845, host: "planted", processID: getpid(), counter: counter, suffix: ".v2")
            try FileManager.default.createSymbolicLink(atPath: train + "/" + name, withDestinationPath: target)
            planted.append(train + "/" + name)
        }
        let writer = try EventFileWriter(directory: train, options: options)
        try writer.appendScalar(tag: "loss", value: 1, step: 0, wallTime: 0)
        try writer.close()
        #expect(drawn.withLock { $0 } == Array(0...20), "every planted name tried once, then the next")
        #expect(writer.path == train + "/" + EventFileName.make(seconds: 1_764_291_845, host: "planted", processID: getpid(), counter: 20, suffix: ".v2"))
        #expect(try String(contentsOfFile: target, encoding: .utf8) == "untouched")
        for link in planted {
            #expect(try FileManager.default.destinationOfSymbolicLink(atPath: link) == target)
        }
        let attributes = try FileManager.default.attributesOfItem(atPath: writer.path)
        #expect(attributes[.type] as? FileAttributeType == .typeRegular)
        #expect(try EventFileWriterTests.readAll(writer.path).count == 2)
    }
}
