import RingboardFormat

/// The op graph written for `write_graph` when the trainer supplies no GraphDef: a `GraphDef`
/// (tensorflow/core/framework/graph.proto) with a node per layer, the nearest equivalent of the
/// graph TF 2.0 writes (`summary_ops_v2.graph(K.get_graph(), step=0)`) that needs no TensorFlow.
///
/// Each node is named after its layer, its op is the layer's Keras class, its inputs are the
/// layers that feed it, and an attribute `keras_class` (a string, as TensorBoard's own Keras
/// conversion sets it) holds the class again, so the dashboard lists it with the node.
public enum LayerGraph {
    /// One layer, as a node of the graph.
    public struct Layer: Sendable, Equatable {
        /// The layer's name, e.g. `dense`; the node's name.
        public var name: String
        /// The Keras class, e.g. `Dense`; the node's op.
        public var className: String
        /// The layers whose outputs this one takes, by name.
        public var inboundLayers: [String]

        /// Describes a layer.
        ///
        /// - Parameters:
        ///   - name: The layer's name.
        ///   - className: The Keras class name.
        ///   - inboundLayers: The names of the layers that feed it.
        public init(name: String, className: String, inboundLayers: [String] = []) {
            self.name = name
            self.className = className
            self.inboundLayers = inboundLayers
        }
    }

    static let graphNode = 1  // GraphDef.node, repeated NodeDef
    static let nodeName = 1  // NodeDef.name, string
    static let nodeOp = 2  // NodeDef.op, string
    static let nodeInput = 3  // NodeDef.input, repeated string
    static let nodeAttr = 5  // NodeDef.attr, map<string, AttrValue>: repeated entries
    static let attrEntryKey = 1  // NodeDef.AttrEntry.key, string
    static let attrEntryValue = 2  // NodeDef.AttrEntry.value, AttrValue
    static let attrValueString = 2  // AttrValue.s, bytes

    /// The attribute that holds a node's Keras class.
    public static let kerasClassAttribute = "keras_class"

    /// The layers of a Sequential model: each layer takes the one before it.
    ///
    /// - Parameter layers: The layers in order, as name and Keras class.
    /// - Returns: The layers with their inbound layers.
    public static func sequential(_ layers: [(name: String, className: String)]) -> [Layer] {
        layers.indices.map { index in
            Layer(name: layers[index].name, className: layers[index].className,
                  inboundLayers: index == 0 ? [] : [layers[index - 1].name])
        }
    }

    /// The layers of a model described by its Keras JSON (`model.to_json()`, parsed).
    ///
    /// A model of class `Sequential` chains its layers in order. Otherwise each layer of
    /// `config.layers` takes the layers its `inbound_nodes` name, in either form Keras writes:
    /// TF 2.0's lists (`[[["input_1", 0, 0, {}]]]`) or Keras 3's call arguments (`[{"args":
    /// [{"config": {"keras_history": ["input_1", 0, 0]}}]}]`); a layer without `inbound_nodes`
    /// takes the layer before it. A layer that is itself a model is one node.
    ///
    /// - Parameter model: The parsed JSON object.
    /// - Returns: The layers, or `nil` when the object has no `config.layers` list.
    public static func layers(modelJSON model: [String: Any]) -> [Layer]? {
        guard let config = model["config"] as? [String: Any], let layers = config["layers"] as? [Any] else {
            return nil
        }
        let isSequential = model["class_name"] as? String == "Sequential"
        var result: [Layer] = []
        for case let layer as [String: Any] in layers {
            let layerConfig = layer["config"] as? [String: Any]
            let name = layerConfig?["name"] as? String ?? layer["name"] as? String ?? ""
            let className = layer["class_name"] as? String ?? ""
            var inbound: [String]
            if !isSequential, let nodes = layer["inbound_nodes"] as? [Any] {
                inbound = []
                for node in nodes { collectInboundNames(node, into: &inbound) }
            } else {
                inbound = result.last.map { [$0.name] } ?? []
            }
            result.append(Layer(name: name, className: className, inboundLayers: inbound))
        }
        return result
    }

    /// Appends the layer names one `inbound_nodes` entry refers to: `[name, node, tensor, …]`
    /// lists (possibly nested), and `keras_history` triples anywhere in a Keras 3 call.
    private static func collectInboundNames(_ value: Any, into names: inout [String]) {
        if let list = value as? [Any] {
            // A reference: a name, then node and tensor indexes (numbers, not strings or lists).
            if list.count >= 3, let name = list[0] as? String, !(list[1] is String), !(list[1] is [Any]),
               !(list[1] is [String: Any]) {
                if !names.contains(name) { names.append(name) }
                return
            }
            for item in list { collectInboundNames(item, into: &names) }
        } else if let object = value as? [String: Any] {
            if let history = (object["config"] as? [String: Any])?["keras_history"] as? [Any] {
                collectInboundNames(history, into: &names)
                return
            }
            for key in object.keys.sorted() { collectInboundNames(object[key]!, into: &names) }
        }
    }

    /// The serialized `GraphDef`: a `NodeDef` per layer, in order.
    ///
    /// Node names must be unique and non-empty: a layer without a name is called `layer_<index>`,
    /// and a repeated name gets `_<n>` appended (its inbound names still refer to the first). An
    /// inbound name that is no layer of the graph is left out, so every input names a node.
    ///
    /// - Parameter layers: The layers.
    /// - Returns: The `GraphDef` bytes.
    public static func graphDef(_ layers: [Layer]) -> [UInt8] {
        var names: [String] = []
        var taken: Set<String> = []
        for (index, layer) in layers.enumerated() {
            let base = layer.name.isEmpty ? "layer_\(index)" : layer.name
            var name = base
            var suffix = 1
            while taken.contains(name) {
                name = "\(base)_\(suffix)"
                suffix += 1
            }
            taken.insert(name)
            names.append(name)
        }
        var graph = ProtobufMessage()
        for (layer, name) in zip(layers, names) {
            var node = ProtobufMessage()
            node.appendString(nodeName, name)
            node.appendString(nodeOp, layer.className)
            for input in layer.inboundLayers where input != name && taken.contains(input) {
                node.appendString(nodeInput, input)
            }
            var value = ProtobufMessage()
            value.appendBytes(attrValueString, Array(layer.className.utf8))
            var entry = ProtobufMessage()
            entry.appendString(attrEntryKey, kerasClassAttribute)
            entry.appendBytes(attrEntryValue, value.bytes)
            node.appendBytes(nodeAttr, entry.bytes)
            graph.appendBytes(graphNode, node.bytes)
        }
        return graph.bytes
    }
}
