import Foundation
import RingboardTestSupport
import SystemPackage
import Testing
@testable import RingboardFormat

/// Run directories are made below the log root and never through a symbolic link planted there.
@Suite struct ConfinedDirectoryTests {
    /// A log root, and a directory outside it that planted links point to.
    static func makeRoot() throws -> (TemporaryDirectory, root: String, outside: String) {
        let directory = TemporaryDirectory("ringboard-confined")
        let outside = directory.appending("outside")
        try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
        return (directory, directory.appending("logs"), outside)
    }

    static func isRefused(_ error: any Error, at path: String, _ errno: Errno) -> Bool {
        guard case .systemCall(_, let refusedPath, let code) = error as? EventFileError else { return false }
        return refusedPath == path && code == errno
    }

    @Test func createsEveryComponentAsARealDirectory() throws {
        let (directory, root, _) = try Self.makeRoot()
        defer { withExtendedLifetime(directory) {} }
        #expect(try ConfinedDirectory.create("./a//b/./c", under: root) == root + "/./a//b/./c")
        var isDirectory: ObjCBool = false
        #expect(FileManager.default.fileExists(atPath: root + "/a/b/c", isDirectory: &isDirectory) && isDirectory.boolValue)
        // Again: everything already there is fine.
        try ConfinedDirectory.create("a/b/c", under: root)
        try ConfinedDirectory.create(".", under: root)
    }

    /// A link at the run directory, or deeper (at `train`), leading outside: refused, and nothing
    /// is created outside.
    @Test(arguments: ["run", "run/train"])
    func aPlantedLinkIsRefused(at link: String) throws {
        let (directory, root, outside) = try Self.makeRoot()
        defer { withExtendedLifetime(directory) {} }
        try FileManager.default.createDirectory(atPath: root + "/run", withIntermediateDirectories: true)
        if link == "run" { try FileManager.default.removeItem(atPath: root + "/run") }
        try FileManager.default.createSymbolicLink(atPath: root + "/" + link, withDestinationPath: outside)
        #expect { try ConfinedDirectory.create("run/train/plugins", under: root) } throws: { error in
            Self.isRefused(error, at: root + "/" + link, .tooManySymbolicLinkLevels)
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: outside).isEmpty)
        // A link to a directory inside the root is refused all the same: links are not followed.
        try FileManager.default.removeItem(atPath: root + "/" + link)
        try FileManager.default.createDirectory(atPath: root + "/elsewhere", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: root + "/" + link, withDestinationPath: root + "/elsewhere")
        #expect(throws: EventFileError.self) { try ConfinedDirectory.create("run/train", under: root) }
    }

    @Test func aFileWhereADirectoryBelongsIsRefused() throws {
        let (directory, root, _) = try Self.makeRoot()
        defer { withExtendedLifetime(directory) {} }
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        #expect(FileManager.default.createFile(atPath: root + "/run", contents: Data()))
        #expect { try ConfinedDirectory.create("run/train", under: root) } throws: { error in
            Self.isRefused(error, at: root + "/run", .notDirectory)
        }
    }

    @Test(arguments: ["../escape", "run/../../escape", "/absolute", "run/.."])
    func pathsThatLeaveTheRootAreRefused(_ relative: String) throws {
        let (directory, root, _) = try Self.makeRoot()
        defer { withExtendedLifetime(directory) {} }
        #expect { try ConfinedDirectory.create(relative, under: root) } throws: { error in
            guard case .systemCall(_, _, .invalidArgument) = error as? EventFileError else { return false }
            return true
        }
        #expect(!FileManager.default.fileExists(atPath: directory.appending("escape")))
    }

    /// The root may itself be a link: that is the user's choice, not something planted in it.
    @Test func theRootMayBeALink() throws {
        let (directory, root, outside) = try Self.makeRoot()
        defer { withExtendedLifetime(directory) {} }
        try FileManager.default.createSymbolicLink(atPath: root, withDestinationPath: outside)
        try ConfinedDirectory.create("run/train", under: root)
        #expect(FileManager.default.fileExists(atPath: outside + "/run/train"))
    }
}
