import RingboardRecords

/// A model as the callback sees it: layers holding named weights, and optionally the Keras model
/// JSON (for the `keras` graph summary) and a serialized GraphDef.
public struct ModelDescription: Sendable, Equatable {
    /// The model's name.
    public var name: String
    /// The layers, in order.
    public var layers: [Layer]
    /// `model.to_json()`; when `nil`, a Sequential model of the layers' class names and configs.
    public var modelJSON: String?
    /// A serialized GraphDef, written as the run graph when `write_graph` is on; empty for none.
    public var graphDef: [UInt8]

    /// One layer.
    public struct Layer: Sendable, Equatable {
        /// The layer's name, e.g. `dense`.
        public var name: String
        /// The Keras class, e.g. `Dense` or `Embedding` (Embedding layers feed the projector).
        public var className: String
        /// `get_config()` as a JSON object; `nil` for `{"name": <name>}`.
        public var configJSON: String?
        /// The layer's weights, as `layer.weights` lists them.
        public var weights: [Weight]

        /// Creates a layer.
        ///
        /// - Parameters:
        ///   - name: The layer's name.
        ///   - className: The Keras class name.
        ///   - configJSON: The config as a JSON object.
        ///   - weights: Its weights.
        public init(name: String, className: String, configJSON: String? = nil, weights: [Weight] = []) {
            self.name = name
            self.className = className
            self.configJSON = configJSON
            self.weights = weights
        }
    }

    /// One weight: a name such as `dense/kernel:0`, a shape and row-major Float32 values.
    public struct Weight: Sendable, Equatable {
        /// The variable's name.
        public var name: String
        /// Its shape.
        public var shape: [Int]
        /// Its values, row-major; as many as the shape's product.
        public var values: [Float]

        /// Creates a weight.
        ///
        /// - Parameters:
        ///   - name: The variable's name, e.g. `dense/kernel:0`.
        ///   - shape: The shape.
        ///   - values: Row-major values.
        public init(name: String, shape: [Int], values: [Float]) {
            self.name = name
            self.shape = shape
            self.values = values
        }
    }

    /// Describes a model.
    ///
    /// - Parameters:
    ///   - name: The model's name.
    ///   - layers: Its layers.
    ///   - modelJSON: `model.to_json()`, if known.
    ///   - graphDef: A serialized GraphDef, if any.
    public init(name: String, layers: [Layer], modelJSON: String? = nil, graphDef: [UInt8] = []) {
        self.name = name
        self.layers = layers
        self.modelJSON = modelJSON
        self.graphDef = graphDef
    }

    /// Checks that every weight's values fill its shape.
    func validate() throws(ConfigurationError) {
        for layer in layers {
            for weight in layer.weights {
                guard let needed = ModelDescription.elementCount(weight.shape) else {
                    throw .invalidArgument(
                        name: "weight \(weight.name)", reason: "shape \(weight.shape) has a negative dimension or is too large")
                }
                guard needed == weight.values.count else {
                    throw .invalidArgument(
                        name: "weight \(weight.name)",
                        reason: "shape \(weight.shape) holds \(needed) values, but \(weight.values.count) were given")
                }
            }
        }
    }

    /// The number of values a shape holds (1 for a scalar), or `nil` when a dimension is negative
    /// or the product does not fit in an `Int`.
    static func elementCount(_ shape: [Int]) -> Int? {
        WeightShape.elementCount(shape)
    }
}

/// What `set_params` tells the callback.
public struct TrainingParameters: Sendable, Equatable {
    /// `batch_size`.
    public var batchSize: Int?
    /// `epochs`.
    public var epochs: Int?
    /// `steps` per epoch.
    public var steps: Int?
    /// `samples` per epoch.
    public var samples: Int?
    /// Whether there is validation data.
    public var doValidation: Bool
    /// The metric names Keras will report.
    public var metrics: [String]

    /// Creates the parameters.
    ///
    /// - Parameters:
    ///   - batchSize: `batch_size`.
    ///   - epochs: `epochs`.
    ///   - steps: `steps`.
    ///   - samples: `samples`.
    ///   - doValidation: `do_validation`.
    ///   - metrics: `metrics`.
    public init(batchSize: Int? = nil, epochs: Int? = nil, steps: Int? = nil, samples: Int? = nil,
                doValidation: Bool = false, metrics: [String] = []) {
        self.batchSize = batchSize
        self.epochs = epochs
        self.steps = steps
        self.samples = samples
        self.doValidation = doValidation
        self.metrics = metrics
    }
}
