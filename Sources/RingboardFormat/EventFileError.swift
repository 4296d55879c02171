package import RingboardSystem
import SystemPackage

/// What went wrong writing or reading an event file. Every case names the path.
public enum EventFileError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A system call failed: its name, the path it concerned and the error number.
    case systemCall(String, path: String, Errno)
    /// The file was removed (or its directory was) while it was being written; the bytes not
    /// yet written are kept by the writer.
    case fileRemoved(path: String)
    /// The writer was already closed.
    case closed(path: String)
    /// Not an event file: a directory, a device, or another kind of file.
    case notAnEventFile(path: String, reason: String)

    /// A one-line description naming the path.
    public var description: String {
        switch self {
        case .systemCall(let call, let path, let errno):
            SystemCallError(call, path: path, errno).description
        case .fileRemoved(let path):
            "\(path): the file or its directory was removed while being written"
        case .closed(let path):
            "\(path): the writer is closed"
        case .notAnEventFile(let path, let reason):
            "\(path): not an event file: \(reason)"
        }
    }
}

extension EventFileError {
    /// A failed system call, as an event file error (the same call, path and error number).
    ///
    /// - Parameter error: The failure.
    package init(_ error: SystemCallError) {
        self = .systemCall(error.call, path: error.path ?? "", error.errno)
    }
}
