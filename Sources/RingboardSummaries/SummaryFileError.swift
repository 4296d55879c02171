internal import RingboardSystem
import SystemPackage

/// A file a summary writes (a profile trace, the projector's files) could not be written.
public enum SummaryFileError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A system call failed: its name, the path and the error number.
    case systemCall(String, path: String, Errno)
    /// zlib failed to compress.
    case compression(path: String, String)

    /// A one-line description naming the path.
    public var description: String {
        switch self {
        case .systemCall(let call, let path, let errno): SystemCallError(call, path: path, errno).description
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

}
