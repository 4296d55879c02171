import Foundation
import RingboardSystem
import RingboardTestSupport
import SystemPackage
import Testing

/// Run directories are made below the log root and never through a symbolic link planted there.
@Suite struct ConfinedDirectoryTests {
    /// A log root, and a directory outside it that planted links point to.
    static func makeRoot() throws -> (TemporaryDirectory, root: String, outside: String) {
        let directory = TemporaryDirectory("ringboard-confined")
        let outside = directory.appending("outside")
        try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
        return (directory, directory.appending("logs"), outside)
    }

    static func isRefused(_ error: SystemCallError, at path: String, _ errno: Errno) -> Bool {
        error.path == path && error.errno == errno
    }

    static func isDirectory(_ path: String) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
    }

    @Test func createsEveryComponentAsARealDirectory() throws {
        let (directory, root, _) = try Self.makeRoot()
        defer { withExtendedLifetime(directory) {} }
        #expect(try ConfinedDirectory.create("./a//b/./c", under: root) == root + "/./a//b/./c")
        #expect(Self.isDirectory(root + "/a/b/c"))
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
            Self.isRefused(error as! SystemCallError, at: root + "/" + link, .tooManySymbolicLinkLevels)
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: outside).isEmpty)
        // A link to a directory inside the root is refused all the same: links are not followed.
        try FileManager.default.removeItem(atPath: root + "/" + link)
        try FileManager.default.createDirectory(atPath: root + "/elsewhere", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: root + "/" + link, withDestinationPath: root + "/elsewhere")
        #expect(throws: SystemCallError.self) { try ConfinedDirectory.create("run/train", under: root) }
        #expect(!FileManager.default.fileExists(atPath: root + "/elsewhere/train"))
    }

    @Test func aFileWhereADirectoryBelongsIsRefused() throws {
        let (directory, root, _) = try Self.makeRoot()
        defer { withExtendedLifetime(directory) {} }
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        #expect(FileManager.default.createFile(atPath: root + "/run", contents: Data()))
        #expect { try ConfinedDirectory.create("run/train", under: root) } throws: { error in
            Self.isRefused(error as! SystemCallError, at: root + "/run", .notDirectory)
        }
    }

    /// `..` anywhere, or an absolute path, is refused before anything is made.
    @Test(arguments: ["../escape", "run/../../escape", "/absolute", "run/..", "a/b/../c"])
    func pathsThatLeaveTheRootAreRefused(_ relative: String) throws {
        let (directory, root, _) = try Self.makeRoot()
        defer { withExtendedLifetime(directory) {} }
        #expect { try ConfinedDirectory.create(relative, under: root) } throws: { error in
            (error as! SystemCallError).errno == .invalidArgument && (error as! SystemCallError).call == "open"
        }
        #expect(!FileManager.default.fileExists(atPath: directory.appending("escape")))
        #expect(!FileManager.default.fileExists(atPath: root + "/run"))
        #expect(!FileManager.default.fileExists(atPath: root + "/a"))
    }

    /// The root may itself be a link: that is the user's choice, not something planted in it.
    @Test func theRootMayBeALink() throws {
        let (directory, root, outside) = try Self.makeRoot()
        defer { withExtendedLifetime(directory) {} }
        try FileManager.default.createSymbolicLink(atPath: root, withDestinationPath: outside)
        try ConfinedDirectory.create("run/train", under: root)
        #expect(FileManager.default.fileExists(atPath: outside + "/run/train"))
    }

    /// A missing root is made as `mkdir -p` makes it; a file in its way is named.
    @Test func theRootIsMadeAsMkdirP() throws {
        let (directory, root, _) = try Self.makeRoot()
        defer { withExtendedLifetime(directory) {} }
        try ConfinedDirectory.makeRoot(root + "/deep/er")
        #expect(Self.isDirectory(root + "/deep/er"))
        #expect(FileManager.default.createFile(atPath: root + "/file", contents: Data()))
        #expect(throws: SystemCallError("mkdir", path: root + "/file/below", .notDirectory)) {
            try ConfinedDirectory.makeRoot(root + "/file/below")
        }
    }

    /// With a root, a directory below it is made confined; one outside it is a root of its own.
    @Test func confinedToARootOnlyBelowIt() throws {
        let (directory, root, outside) = try Self.makeRoot()
        defer { withExtendedLifetime(directory) {} }
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: root + "/run", withDestinationPath: outside)
        #expect(throws: SystemCallError("open", path: root + "/run", .tooManySymbolicLinkLevels)) {
            try ConfinedDirectory.create(root + "/run/train", confinedTo: root)
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: outside).isEmpty)
        // Without a root, or outside it, the caller chose the path: the link is followed.
        try ConfinedDirectory.create(root + "/run/train", confinedTo: nil)
        try ConfinedDirectory.create(root + "/run/validation", confinedTo: directory.appending("other"))
        #expect(Self.isDirectory(outside + "/train") && Self.isDirectory(outside + "/validation"))
    }

    /// `open` hands back the checked directory: a file made relative to it lands inside.
    @Test func openReturnsTheLastDirectory() throws {
        let (directory, root, _) = try Self.makeRoot()
        defer { withExtendedLifetime(directory) {} }
        let descriptor = try ConfinedDirectory.open("run/train", under: root)
        defer { try? descriptor.close() }
        let file = openat(descriptor.rawValue, "marker", O_WRONLY | O_CREAT | O_CLOEXEC, 0o600)
        #expect(file >= 0)
        close(file)
        #expect(FileManager.default.fileExists(atPath: root + "/run/train/marker"))
    }
}
