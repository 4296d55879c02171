import RingboardSystem
import Testing

@Suite struct PathsTests {
    @Test(arguments: [
        ("/x", "/"), ("x", "."), ("a/x", "a"), ("/a/b/x", "/a/b"), ("//x", "/"), ("/", "/"), ("", "."), ("a/", "a"),
        ("./x", "."), ("../x", ".."),
    ])
    func directoryOf(_ path: String, _ directory: String) {
        #expect(Paths.directory(of: path) == directory)
    }

    @Test func lastComponent() {
        #expect(Paths.lastComponent(of: "/a/b.txt") == "b.txt")
        #expect(Paths.lastComponent(of: "b.txt") == "b.txt")
        #expect(Paths.lastComponent(of: "/x") == "x")
        #expect(Paths.lastComponent(of: "a/") == "")
    }

    @Test func joined() {
        #expect(Paths.joined("/logs", "run") == "/logs/run")
        #expect(Paths.joined("/logs/", "run") == "/logs/run")
        #expect(Paths.joined("/", "run") == "/run")
    }

    @Test func relativeBelowARoot() {
        #expect(Paths.relative("/logs/run/train", below: "/logs") == "run/train")
        #expect(Paths.relative("/logs/run", below: "/logs/") == "run")
        #expect(Paths.relative("/run", below: "/") == "run")
        #expect(Paths.relative("/logs", below: "/logs") == nil)
        #expect(Paths.relative("/logsx/run", below: "/logs") == nil)
        #expect(Paths.relative("/other/run", below: "/logs") == nil)
    }
}
