/// Why a record's bytes were refused. Every case says where in the payload.
public enum RecordError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A record type this version does not know.
    case unknownType(UInt16)
    /// The payload ends before a field does.
    case truncated(type: UInt16, offset: Int)
    /// Bytes left over after the last field.
    case trailingBytes(type: UInt16, offset: Int)
    /// An enum field with a value out of range.
    case invalidValue(type: UInt16, field: String, value: Int64)
    /// A string that is not UTF-8, is empty where a name is required, or is too long.
    case invalidString(type: UInt16, field: String, reason: String)
    /// A run directory that is not an absolute, normalized path: relative, with an empty, `.` or
    /// `..` component, or with NUL.
    case invalidRunDirectory(String)
    /// A record version this build does not read.
    case unsupportedVersion(UInt16)

    /// A one-line description.
    public var description: String {
        switch self {
        case .unknownType(let type): "unknown record type \(type)"
        case .truncated(let type, let offset): "record type \(type) ends early at byte \(offset)"
        case .trailingBytes(let type, let offset): "record type \(type) has bytes left over at byte \(offset)"
        case .invalidValue(let type, let field, let value): "record type \(type): \(field) = \(value) is out of range"
        case .invalidString(let type, let field, let reason): "record type \(type): \(field): \(reason)"
        case .invalidRunDirectory(let path): "run directory \"\(path)\" is refused: it must be an absolute path without empty, '.' or '..' components, or NUL"
        case .unsupportedVersion(let version): "record version \(version) is not supported"
        }
    }
}
