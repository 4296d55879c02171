import Foundation
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

    /// Links planted at the names the next writers would take (same host, pid and second, the
    /// next counters) are skipped, never written through: the file each points to stays as it
    /// was.
    @Test func plantedLinksAtTheNextNamesAreNeverFollowed() throws {
        let directory = TemporaryDirectory("ringboard-planted")
        let target = directory.appending("target")
        #expect(FileManager.default.createFile(atPath: target, contents: Data("untouched".utf8)))
        var options = EventFileWriter.Options()
        options.hostName = "planted"
        let train = directory.appending("run/train")
        let first = try EventFileWriter(directory: train, options: options)
        try first.close()
        // events.out.tfevents.<secs>.planted.<pid>.<counter>.v2
        let parts = URL(fileURLWithPath: first.path).lastPathComponent.split(separator: ".")
        let seconds = try #require(Int64(parts[3])), counter = try #require(Int(parts[6]))
        var planted: [String] = []
        for second in seconds...(seconds + 2) {
            for next in (counter + 1)...(counter + 20) {
                let name = EventFileName.make(seconds: second, host: "planted", processID: getpid(), counter: next, suffix: ".v2")
                try FileManager.default.createSymbolicLink(atPath: train + "/" + name, withDestinationPath: target)
                planted.append(train + "/" + name)
            }
        }
        let second = try EventFileWriter(directory: train, options: options)
        try second.appendScalar(tag: "loss", value: 1, step: 0, wallTime: 0)
        try second.close()
        #expect(!planted.contains(second.path))
        #expect(try String(contentsOfFile: target, encoding: .utf8) == "untouched")
        let attributes = try FileManager.default.attributesOfItem(atPath: second.path)
        #expect(attributes[.type] as? FileAttributeType == .typeRegular)
        #expect(try EventFileWriterTests.readAll(second.path).count == 2)
    }
}
