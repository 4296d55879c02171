import RingboardSystem
import SystemPackage
import Testing

@Suite struct SystemCallErrorTests {
    @Test func carriesTheCallThePathAndTheErrno() {
        let error = SystemCallError("mkdir", path: "/logs/run", .permissionDenied)
        #expect(error.call == "mkdir" && error.path == "/logs/run" && error.errno == .permissionDenied)
        #expect(error.reason == "mkdir failed: Permission denied (errno 13)")
        #expect(error.description == "/logs/run: mkdir failed: Permission denied (errno 13)")
    }

    @Test func aCallOnADescriptorHasNoPath() {
        let error = SystemCallError("fsync", .ioError)
        #expect(error.path == nil)
        #expect(error.description == "fsync failed: Input/output error (errno 5)")
    }

    @Test func errorsCompareByEveryPart() {
        let error = SystemCallError("open", path: "a", .notDirectory)
        #expect(error == SystemCallError("open", path: "a", .notDirectory))
        #expect(error != SystemCallError("openat", path: "a", .notDirectory))
        #expect(error != SystemCallError("open", path: "b", .notDirectory))
        #expect(error != SystemCallError("open", path: "a", .isDirectory))
    }
}
