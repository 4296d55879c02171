/// A mistake in how the callback is set up, with text that says what to change.
public enum ConfigurationError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Arguments Keras does not know (from a JSON or command-line configuration).
    case unrecognizedArguments([String])
    /// `histogram_freq` > 0 while `set_params` says there is no validation data.
    case histogramsNeedValidationData(histogramFrequency: Int)
    /// `embeddings_metadata` names layers that are not Embedding layers of the model.
    case unrecognizedEmbeddingLayers([String])
    /// An argument with a value it cannot take.
    case invalidArgument(name: String, reason: String)
    /// The ring could not be opened or the run not announced.
    case transport(String)

    /// A one-line description.
    public var description: String {
        switch self {
        case .unrecognizedArguments(let names):
            "Unrecognized arguments in `TensorBoard` Callback: \(names.sorted())"
        case .histogramsNeedValidationData(let frequency):
            "histogram_freq=\(frequency) needs validation data, but set_params says do_validation is false: pass validation data or set histogram_freq to 0"
        case .unrecognizedEmbeddingLayers(let names):
            "Unrecognized `Embedding` layer names passed to `keras.callbacks.TensorBoard` `embeddings_metadata` argument: \(names.sorted())"
        case .invalidArgument(let name, let reason):
            "\(name): \(reason)"
        case .transport(let message):
            "cannot reach the aggregator's ring: \(message)"
        }
    }
}
