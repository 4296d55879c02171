import Foundation

/// A directory under the system's temporary directory, removed when the value is released.
public final class TemporaryDirectory: @unchecked Sendable {
    /// The directory's path.
    public let path: String

    /// Creates a fresh, empty directory.
    public init(_ label: String = "ringboard-test") {
        let base = NSTemporaryDirectory().hasSuffix("/") ? NSTemporaryDirectory() : NSTemporaryDirectory() + "/"
        var template = Array("\(base)\(label).XXXXXX".utf8CString)
        let created = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        precondition(created != nil, "mkdtemp failed")
        path = String(cString: template)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }

    /// `path/relative`.
    public func appending(_ relative: String) -> String {
        path + "/" + relative
    }
}

/// The package's root directory (the folder holding Package.swift).
public let packageRoot: String = {
    var url = URL(fileURLWithPath: #filePath)
    while url.path != "/" {
        url.deleteLastPathComponent()
        if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) {
            return url.path
        }
    }
    fatalError("Package.swift not found above \(#filePath)")
}()

/// The Python of the project's venv, which has the pinned TensorBoard (`Scripts/setup.sh` makes it).
public let venvPython: String = packageRoot + "/.venv/bin/python"

/// The directory holding the built products (the `ringboard` executable sits beside the tests).
public let productsDirectory: String = {
    let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
    var directory = executable.deletingLastPathComponent()
    // On Linux the test runner is <products>/ringboardPackageTests.xctest.
    if directory.lastPathComponent.hasSuffix(".xctest") { directory.deleteLastPathComponent() }
    return directory.path
}()

/// The result of running a process to completion.
public struct ProcessOutput: Sendable {
    public var status: Int32
    public var standardOutput: String
    public var standardError: String
}

/// Runs `executable` with `arguments`, waiting at most `timeout` seconds.
///
/// - Parameters:
///   - currentDirectory: Its working directory (created when missing); this process's when `nil`.
///   - environment: Variables to set on top of this process's environment.
public func run(
    _ executable: String, _ arguments: [String], timeout: Double = 300, currentDirectory: String? = nil,
    environment: [String: String] = [:]
) throws -> ProcessOutput {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    if let currentDirectory {
        try FileManager.default.createDirectory(atPath: currentDirectory, withIntermediateDirectories: true)
        process.currentDirectoryURL = URL(fileURLWithPath: currentDirectory)
    }
    if !environment.isEmpty { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
    let outputFile = TemporaryDirectory("ringboard-run")
    let outPath = outputFile.appending("stdout"), errPath = outputFile.appending("stderr")
    FileManager.default.createFile(atPath: outPath, contents: nil)
    FileManager.default.createFile(atPath: errPath, contents: nil)
    process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
    process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
    process.standardInput = FileHandle.nullDevice
    try process.run()
    let deadline = Date().addingTimeInterval(timeout)
    while process.isRunning {
        if Date() > deadline {
            process.terminate()
            process.waitUntilExit()
            throw ProcessTimeout(command: ([executable] + arguments).joined(separator: " "))
        }
        usleep(10_000)
    }
    return ProcessOutput(
        status: process.terminationStatus,
        standardOutput: (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "",
        standardError: (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "")
}

/// A process that ran past its time limit.
public struct ProcessTimeout: Error, CustomStringConvertible {
    public var command: String
    public var description: String { "timed out: \(command)" }
}

/// Bytes from a hex string (whitespace ignored).
public func bytes(hex: String) -> [UInt8] {
    let digits = hex.filter { !$0.isWhitespace }
    precondition(digits.count % 2 == 0)
    var result: [UInt8] = []
    var index = digits.startIndex
    while index < digits.endIndex {
        let next = digits.index(index, offsetBy: 2)
        result.append(UInt8(digits[index..<next], radix: 16)!)
        index = next
    }
    return result
}

/// A seeded generator, so random tests are repeatable.
public struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Why this process cannot mount a tmpfs, or `nil` when it can (root on Linux); disk-full tests
/// need one.
public let tmpfsMountProblem: String? = {
    if let rootProblem { return rootProblem }
    let directory = TemporaryDirectory("ringboard-mount-probe")
    let probe: ProcessOutput
    do {
        probe = try run("/bin/mount", ["-t", "tmpfs", "-o", "size=16k", "tmpfs", directory.path], timeout: 10)
    } catch {
        return "/bin/mount -t tmpfs did not run: \(error)"
    }
    guard probe.status == 0 else {
        return "/bin/mount -t tmpfs failed with status \(probe.status): \(probe.standardError.trimmingCharacters(in: .whitespacesAndNewlines))"
    }
    _ = try? run("/bin/umount", [directory.path], timeout: 10)
    return nil
}()

/// Whether this process may mount a tmpfs (``tmpfsMountProblem`` is `nil`).
public var canMountTmpfs: Bool { tmpfsMountProblem == nil }
