internal import RingboardSystem
import SystemPackage

/// A file a summary writes (a profile trace, the projector's files) could not be written.
public enum SummaryFileError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A system call failed: its name, the path and the error number.
    case systemCall(String, path: String, Errno)
    /// zlib failed to compress.
    case compression(path: String, String)
    /// The directory to write in is not below the root its files are confined to.
    case outsideRoot(path: String, root: String)

    /// A one-line description naming the path.
    public var description: String {
        switch self {
        case .systemCall(let call, let path, let errno): SystemCallError(call, path: path, errno).description
        case .outsideRoot(let path, let root): "\(path) is not below \(root), where its files are confined"
        case .compression(let path, let message): "\(path): compression failed: \(message)"
        }
    }
}

extension SummaryFileError {
    /// A failed system call, as a summary file error (the same call, path and error number).
    ///
    /// - Parameter error: The failure.
    init(_ error: SystemCallError) {
        self = .systemCall(error.call, path: error.path ?? "", error.errno)
    }

    /// `relative` below `directory`, as a path relative to `root`, which `directory` lies below
    /// (or is): what `AtomicFile.replace(_:under:with:)` makes below `root`, following no link
    /// from `root` down.
    ///
    /// - Throws: `.outsideRoot` when `directory` is not below `root`.
    static func path(_ relative: String, in directory: String, confinedTo root: String) throws(SummaryFileError) -> String {
        if directory == root { return relative }
        guard let below = Paths.relative(directory, below: root) else { throw .outsideRoot(path: directory, root: root) }
        return below + "/" + relative
    }
}
