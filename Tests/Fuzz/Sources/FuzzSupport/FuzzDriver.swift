import CFuzzDriver
import Glibc

/// The input handler `runFuzzer` hands libFuzzer (a C callback cannot capture it).
nonisolated(unsafe) private var currentTarget: ((UnsafeRawBufferPointer) -> Void)?

/// Runs libFuzzer with this process's arguments (its flags and corpus directories), calling
/// `target` with each input, then exits with libFuzzer's status.
///
/// With `--write-seeds DIRECTORY` as the only arguments it calls `writeSeeds` with the
/// directory instead, so each target makes its own seed corpus with the real writers.
///
/// - Parameters:
///   - writeSeeds: Writes seed inputs into a directory.
///   - target: Must not crash, trap or hang on any input; that is what is being tested.
/// - Warning: Do not escape the buffer from `target`.
public func runFuzzer(
    writeSeeds: (_ directory: String) throws -> Void, _ target: @escaping (UnsafeRawBufferPointer) -> Void
) -> Never {
    let arguments = CommandLine.arguments
    if arguments.count == 3 && arguments[1] == "--write-seeds" {
        do {
            mkdir(arguments[2], 0o755)
            try writeSeeds(arguments[2])
            exit(0)
        } catch {
            let message = Array("\(arguments[0]): writing seeds failed: \(error)\n".utf8)
            _ = message.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
            exit(1)
        }
    }
    currentTarget = target
    var argc = CommandLine.argc
    var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
    let status = LLVMFuzzerRunDriver(&argc, &argv) { data, size in
        currentTarget?(UnsafeRawBufferPointer(start: data, count: size))
        return 0
    }
    exit(status)
}

/// Writes `bytes` to `path` (mode 0600), replacing what is there.
public func writeFile(_ path: String, _ bytes: UnsafeRawBufferPointer) {
    let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0o600)
    precondition(descriptor >= 0, "open \(path): errno \(errno)")
    var offset = 0
    while offset < bytes.count {
        let written = write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
        precondition(written > 0, "write \(path): errno \(errno)")
        offset += written
    }
    close(descriptor)
}

/// Writes `bytes` to `path` (mode 0600), replacing what is there.
public func writeFile(_ path: String, _ bytes: [UInt8]) {
    bytes.withUnsafeBytes { writeFile(path, $0) }
}

/// A directory for this process's scratch files: `$RINGBOARD_FUZZ_SCRATCH/<pid>` (Scripts/fuzz.sh
/// puts it under .build-fuzz), else a fresh one under /tmp. Whoever set the variable removes it.
public let scratchDirectory: String = {
    if let base = getenv("RINGBOARD_FUZZ_SCRATCH").map({ String(cString: $0) }) {
        let path = base + "/\(getpid())"
        mkdir(base, 0o700)
        mkdir(path, 0o700)
        return path
    }
    var template = Array("/tmp/ringboard-fuzz.XXXXXX".utf8CString)
    let created = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
    precondition(created != nil, "mkdtemp failed")
    return String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}()

/// A whole file's bytes (without Foundation), for a target that makes its seeds from files.
///
/// - Throws: `SeedError` naming the file when it cannot be opened.
public func readFile(_ path: String) throws -> [UInt8] {
    guard let file = fopen(path, "rb") else { throw SeedError(path: path) }
    defer { fclose(file) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 4096)
    while true {
        let count = fread(&chunk, 1, chunk.count, file)
        if count <= 0 { break }
        bytes += chunk[0..<count]
    }
    return bytes
}

/// A seed's file could not be read.
public struct SeedError: Error {
    public var path: String
}

/// `rm -rf` without Foundation.
public func removeTree(_ path: String) {
    var status = stat()
    guard lstat(path, &status) == 0 else { return }
    if status.st_mode & S_IFMT == S_IFDIR, let handle = opendir(path) {
        var names: [String] = []
        while let entry = readdir(handle) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name != "." && name != ".." { names.append(name) }
        }
        closedir(handle)
        for name in names { removeTree(path + "/" + name) }
        rmdir(path)
    } else {
        unlink(path)
    }
}
