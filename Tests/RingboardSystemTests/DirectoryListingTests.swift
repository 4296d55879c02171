import Foundation
import RingboardSystem
import RingboardTestSupport
import SystemPackage
import Testing

@Suite struct DirectoryListingTests {
    @Test func listsEveryEntryButDotAndDotDot() throws {
        let directory = TemporaryDirectory("ringboard-listing")
        // Odd names: spaces, a newline, a leading dash and dot, non-ASCII, a name of dots.
        let files = ["plain", "with space", "new\nline", "-dash", ".hidden", "ünïcødé", "...", "events.out.tfevents.1.h"]
        for name in files {
            #expect(FileManager.default.createFile(atPath: directory.appending(name), contents: Data()), "\(name)")
        }
        try FileManager.default.createDirectory(atPath: directory.appending("sub dir"), withIntermediateDirectories: false)
        try FileManager.default.createSymbolicLink(atPath: directory.appending("link"), withDestinationPath: directory.appending("sub dir"))
        let entries = try DirectoryListing.entries(of: directory.path)
        #expect(Set(entries.map(\.name)) == Set(files + ["sub dir", "link"]))
        #expect(entries.count == files.count + 2)
        // A link to a directory is not a directory: walks do not follow it.
        #expect(Set(entries.filter(\.isDirectory).map(\.name)) == ["sub dir"])
        #expect(Set(try DirectoryListing.names(in: directory.path)) == Set(entries.map(\.name)))
    }

    @Test func anEmptyDirectoryHasNoEntries() throws {
        let directory = TemporaryDirectory("ringboard-listing")
        #expect(try DirectoryListing.entries(of: directory.path).isEmpty)
        #expect(try DirectoryListing.names(in: directory.path + "/").isEmpty)
    }

    @Test func aMissingDirectoryIsAnErrorNamingIt() throws {
        let directory = TemporaryDirectory("ringboard-listing")
        let missing = directory.appending("missing")
        #expect(throws: SystemCallError("opendir", path: missing, .noSuchFileOrDirectory)) {
            try DirectoryListing.names(in: missing)
        }
        #expect(FileManager.default.createFile(atPath: directory.appending("file"), contents: Data()))
        #expect(throws: SystemCallError("opendir", path: directory.appending("file"), .notDirectory)) {
            try DirectoryListing.entries(of: directory.appending("file"))
        }
    }

    /// Many entries: more than one `getdents` buffer's worth.
    @Test func listsALargeDirectory() throws {
        let directory = TemporaryDirectory("ringboard-listing")
        let names = (0..<2000).map { "file-\($0)-" + String(repeating: "x", count: 40) }
        for name in names { #expect(FileManager.default.createFile(atPath: directory.appending(name), contents: nil)) }
        #expect(try DirectoryListing.names(in: directory.path).sorted() == names.sorted())
    }
}
