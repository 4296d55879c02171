/// What keeps a summary from being made. Each case names the tag it concerns.
public enum SummaryError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A tensor holds NaN or infinity where TensorFlow refuses them (histograms).
    case nonFiniteValues(tag: String)
    /// A tensor's shape cannot be shown as asked.
    case unsupportedShape(tag: String, shape: [Int], reason: String)
    /// zlib reported an error.
    case compression(String)
    /// A histogram with no values, or none within its bins.
    case emptyHistogram(tag: String)

    /// A one-line description naming the tag.
    public var description: String {
        switch self {
        case .nonFiniteValues(let tag): "NaN or infinity in summary histogram for: \(tag)"
        case .unsupportedShape(let tag, let shape, let reason): "\(tag): shape \(shape) \(reason)"
        case .compression(let message): "zlib: \(message)"
        case .emptyHistogram(let tag): "\(tag): the histogram has no values within its bins"
        }
    }
}
