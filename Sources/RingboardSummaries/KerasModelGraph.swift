import RingboardFormat

/// The `keras` model summary the TF 2.0 callback writes when `write_graph` is on: a scalar string
/// tensor holding the model's JSON (`model.to_json()`), owned by TensorBoard's
/// `graph_keras_model` plugin, at step 0 in the `train` run (`summary_ops_v2.keras_model`).
public enum KerasModelGraph {
    /// The tag TF 2.0 uses.
    public static let tag = "keras"
    /// The plugin TensorBoard's graph dashboard reads the model from.
    public static let pluginName = "graph_keras_model"

    /// One layer of a model, as Keras describes it in `to_json()`.
    public struct Layer: Sendable, Equatable {
        /// The layer's name, e.g. `dense`.
        public var name: String
        /// The Keras class, e.g. `Dense`.
        public var className: String
        /// The layer's `get_config()` as a JSON object, or `nil` for `{"name": <name>}`.
        public var configJSON: String?

        /// Describes a layer.
        ///
        /// - Parameters:
        ///   - name: The layer's name.
        ///   - className: The Keras class name.
        ///   - configJSON: The layer config as a JSON object text; must contain `"name"` for
        ///     TensorBoard to label the node. `nil` writes `{"name": <name>}`.
        public init(name: String, className: String, configJSON: String? = nil) {
            self.name = name
            self.className = className
            self.configJSON = configJSON
        }
    }

    /// The JSON of a Sequential model made of `layers`, in the form `Model.to_json()` gives it;
    /// used when the trainer describes its model only as layers.
    ///
    /// - Parameters:
    ///   - name: The model's name.
    ///   - layers: The layers in order.
    /// - Returns: The model JSON.
    public static func sequentialJSON(name: String, layers: [Layer]) -> String {
        let layerJSON = layers.map { layer in
            let config = layer.configJSON ?? "{\"name\": \(JSONText.quoted(layer.name))}"
            return "{\"class_name\": \(JSONText.quoted(layer.className)), \"config\": \(config)}"
        }
        return "{\"class_name\": \"Sequential\", \"config\": {\"name\": \(JSONText.quoted(name)), \"layers\": ["
            + layerJSON.joined(separator: ", ") + "]}, \"keras_version\": \"2.2.4-tf\", \"backend\": \"tensorflow\"}"
    }

    /// The summary value holding `modelJSON`, as `summary_ops_v2.keras_model` writes it.
    ///
    /// - Parameter modelJSON: The model's JSON.
    /// - Returns: A `keras` value: a scalar `DT_STRING` tensor, plugin `graph_keras_model`,
    ///   plugin content `"1"` (its version).
    public static func summaryValue(modelJSON: String) -> Summary.Value {
        Summary.Value(
            tag: tag,
            metadata: SummaryMetadata(pluginName: pluginName, pluginContent: Array("1".utf8)),
            kind: .tensor(.strings([Array(modelJSON.utf8)])))
    }
}
