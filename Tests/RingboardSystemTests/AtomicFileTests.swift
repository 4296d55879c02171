import Foundation
import RingboardSystem
import RingboardTestSupport
import SystemPackage
import Testing

/// Whole-file replacement: the contents and mode, no temporary file left, no link followed.
@Suite struct AtomicFileTests {
    static func contents(_ path: String) -> [UInt8]? {
        FileManager.default.contents(atPath: path).map(Array.init)
    }

    static func mode(_ path: String) throws -> mode_t {
        try Syscalls.linkStatus(path).get().mode
    }

    /// The names in `directory` that are temporary files.
    static func temporaryFiles(in directory: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".tmp") }
    }

    @Test func writesTheContentsAndMakesTheDirectories() throws {
        let directory = TemporaryDirectory("ringboard-atomic")
        let root = directory.appending("logs")
        let path = try AtomicFile.replace("run/train/file.tsv", under: root, with: [[1, 2], [], [3]])
        #expect(path == root + "/run/train/file.tsv")
        #expect(Self.contents(path) == [1, 2, 3])
        #expect(try Self.temporaryFiles(in: root + "/run/train").isEmpty)
    }

    @Test func replacesAnExistingFileWhole() throws {
        let directory = TemporaryDirectory("ringboard-atomic")
        try AtomicFile.replace("state", under: directory.path, with: [Array(repeating: 7, count: 4096)])
        try AtomicFile.replace("state", under: directory.path, with: [[9]], durable: false)
        #expect(Self.contents(directory.appending("state")) == [9])
        #expect(try Self.temporaryFiles(in: directory.path).isEmpty)
    }

    @Test func givesANewFileItsPermissions() throws {
        let directory = TemporaryDirectory("ringboard-atomic")
        try AtomicFile.replace("private", under: directory.path, with: [[1]], permissions: [.ownerReadWrite])
        #expect(try Self.mode(directory.appending("private")) == 0o600)
        try AtomicFile.replace("shared", under: directory.path, with: [[1]])
        let mode = try Self.mode(directory.appending("shared"))
        #expect(mode & 0o600 == 0o600 && mode & ~0o644 == 0, "mode \(String(mode, radix: 8))")
    }

    /// A spare file is moved into place and overwritten: it is gone, and the target holds only
    /// the new bytes even though the spare was longer.
    @Test func reusesASpareFile() throws {
        let directory = TemporaryDirectory("ringboard-atomic")
        #expect(FileManager.default.createFile(atPath: directory.appending("old"), contents: Data(repeating: 5, count: 10_000)))
        try AtomicFile.replace("new", under: directory.path, with: [[1, 2, 3]], durable: false, reusing: "old")
        #expect(Self.contents(directory.appending("new")) == [1, 2, 3])
        #expect(!FileManager.default.fileExists(atPath: directory.appending("old")))
        // A spare that is not there: a new file is made.
        try AtomicFile.replace("other", under: directory.path, with: [[4]], reusing: "missing")
        #expect(Self.contents(directory.appending("other")) == [4])
    }

    /// The rename fails (a directory is in the way): the error names the call and the target, the
    /// temporary file is removed and the directory in the way is untouched.
    @Test func aFailedRenameLeavesNoTemporaryFile() throws {
        let directory = TemporaryDirectory("ringboard-atomic")
        try FileManager.default.createDirectory(atPath: directory.appending("target/inside"), withIntermediateDirectories: true)
        #expect(throws: SystemCallError("rename", path: directory.appending("target"), .isDirectory)) {
            try AtomicFile.replace("target", under: directory.path, with: [[1]])
        }
        #expect(try Self.temporaryFiles(in: directory.path).isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.appending("target")) == ["inside"])
    }

    /// Its directory cannot be made (a file is where it belongs): nothing is written anywhere.
    @Test func aMissingDirectoryThatCannotBeMadeIsAnError() throws {
        let directory = TemporaryDirectory("ringboard-atomic")
        #expect(FileManager.default.createFile(atPath: directory.appending("run"), contents: Data()))
        #expect(throws: SystemCallError("open", path: directory.appending("run"), .notDirectory)) {
            try AtomicFile.replace("run/file", under: directory.path, with: [[1]])
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["run"])
    }

    /// A link planted where a directory of the file belongs, pointing outside: refused, and
    /// nothing is created outside.
    @Test func aPlantedLinkIsNotFollowed() throws {
        let directory = TemporaryDirectory("ringboard-atomic")
        let root = directory.appending("logs")
        let outside = directory.appending("outside")
        try FileManager.default.createDirectory(atPath: root + "/run", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: root + "/run/plugins", withDestinationPath: outside)
        #expect(throws: SystemCallError("open", path: root + "/run/plugins", .tooManySymbolicLinkLevels)) {
            try AtomicFile.replace("run/plugins/profile/trace.json.gz", under: root, with: [[1]])
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: outside).isEmpty)
    }

    /// A link planted at the file itself is replaced, not written through.
    @Test func aLinkAtTheTargetIsReplacedNotFollowed() throws {
        let directory = TemporaryDirectory("ringboard-atomic")
        let outside = directory.appending("outside.txt")
        #expect(FileManager.default.createFile(atPath: outside, contents: Data([42])))
        try FileManager.default.createDirectory(atPath: directory.appending("logs"), withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: directory.appending("logs/config"), withDestinationPath: outside)
        try AtomicFile.replace("config", under: directory.appending("logs"), with: [[1]])
        #expect(Self.contents(outside) == [42])
        #expect(try !Syscalls.linkStatus(directory.appending("logs/config")).get().isSymbolicLink)
    }

    @Test(arguments: ["", "run/", "..", "run/.."])
    func aPathWithoutAFileNameIsRefused(_ relative: String) throws {
        let directory = TemporaryDirectory("ringboard-atomic")
        #expect { try AtomicFile.replace(relative, under: directory.path, with: [[1]]) } throws: { error in
            (error as! SystemCallError).errno == .invalidArgument
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).isEmpty)
    }
}
