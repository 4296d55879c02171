import Glibc
import SystemPackage
internal import RingboardSystem

/// The per-user directory that holds the ring files of one node: created 0700, and refused when
/// it belongs to someone else or others can write it.
public enum RingDirectory {
    /// The default: `RINGBOARD_RING_DIR` when the environment sets it, else
    /// `/dev/shm/ringboard-<uid>`, memory-backed and private to this user. Every process of the
    /// user that takes the default shares it, trainers and the aggregator alike.
    public static var defaultPath: String {
        if let named = getenv(environmentVariable), named.pointee != 0 { return String(cString: named) }
        return "/dev/shm/ringboard-\(Syscalls.effectiveUserID)"
    }

    /// The environment variable that names the default ring directory.
    public static let environmentVariable = "RINGBOARD_RING_DIR"

    /// The file name suffix of ring files.
    public static let ringSuffix = ".ring"

    /// Creates the directory (mode 0700) if it is missing, and checks that this user owns it and
    /// that nobody else can write to it.
    ///
    /// - Parameter path: The directory.
    /// - Throws: `RingError.notOwned` for a directory of another user, one that others can write,
    ///   or a symbolic link; `RingError.systemCall` when it cannot be created.
    public static func prepare(_ path: String) throws(RingError) {
        // Parents as needed (0755, as mkdir -p makes them); the ring directory itself 0700.
        do {
            try ConfinedDirectory.makeRoot(Paths.directory(of: path))
        } catch {
            throw RingError(error)
        }
        switch Syscalls.makeDirectory(path, mode: 0o700) {
        case .success, .failure(.fileExists): break
        case .failure(let error): throw .systemCall("mkdir", path: path, error)
        }
        let status: Syscalls.FileStatus
        switch Syscalls.linkStatus(path) {
        case .success(let value): status = value
        case .failure(let error): throw .systemCall("lstat", path: path, error)
        }
        guard status.isDirectory else { throw .notOwned(path: path, reason: "not a directory (a symbolic link?)") }
        if let problem = status.ownershipProblem { throw .notOwned(path: path, reason: problem) }
    }
}

extension Syscalls.FileStatus {
    /// Why a file of the ring directory (or the directory) is not to be trusted: another user's,
    /// or writable by others; `nil` when it is this user's alone.
    var ownershipProblem: String? {
        if owner != Syscalls.effectiveUserID { return "owned by uid \(owner), not \(Syscalls.effectiveUserID)" }
        if mode & 0o022 != 0 { return "group or others can write it (mode \(String(mode, radix: 8)))" }
        return nil
    }
}
