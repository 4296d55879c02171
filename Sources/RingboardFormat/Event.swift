/// A TensorFlow `Event` (tensorflow/core/util/event.proto): one record of an event file.
public struct Event: Sendable, Equatable {
    /// Seconds since the Unix epoch.
    public var wallTime: Double
    /// The global step the event belongs to.
    public var step: Int64
    /// What the event carries (the proto's `what` oneof); `nil` for an empty event.
    public var what: What?

    /// The payload of an event.
    public enum What: Sendable, Equatable {
        /// `file_version`: `"brain.Event:2"` in the first record of every file.
        case fileVersion(String)
        /// `graph_def`: a serialized `GraphDef`.
        case graphDef([UInt8])
        /// `summary`: tagged values.
        case summary(Summary)
        /// `tagged_run_metadata`: a serialized `RunMetadata` with a tag.
        case taggedRunMetadata(TaggedRunMetadata)
        /// `log_message`, `session_log` or `meta_graph_def`: kept as the field number and raw bytes.
        case other(field: Int, bytes: [UInt8])
    }

    /// Creates an event.
    ///
    /// - Parameters:
    ///   - wallTime: Seconds since the Unix epoch.
    ///   - step: The global step.
    ///   - what: The payload.
    public init(wallTime: Double, step: Int64 = 0, what: What? = nil) {
        self.wallTime = wallTime
        self.step = step
        self.what = what
    }

    /// The file version every TF 2 event file starts with.
    public static let fileVersion2 = "brain.Event:2"

    // Field numbers of tensorflow.Event.
    static let wallTimeField = 1  // double
    static let stepField = 2  // int64
    static let fileVersionField = 3  // string
    static let graphDefField = 4  // bytes
    static let summaryField = 5  // Summary
    static let taggedRunMetadataField = 8  // TaggedRunMetadata
}

/// A TensorFlow `Summary` (tensorflow/core/framework/summary.proto): a list of tagged values.
public struct Summary: Sendable, Equatable {
    /// The values, in order.
    public var values: [Value]

    /// Creates a summary.
    ///
    /// - Parameter values: The tagged values.
    public init(values: [Value]) {
        self.values = values
    }

    /// One `Summary.Value`: a tag, optional plugin metadata and one payload.
    public struct Value: Sendable, Equatable {
        /// The tag TensorBoard groups values by.
        public var tag: String
        /// Which plugin the value belongs to (`metadata`); `nil` when absent.
        public var metadata: SummaryMetadata?
        /// The payload (the proto's `value` oneof).
        public var kind: Kind

        /// Creates a summary value.
        ///
        /// - Parameters:
        ///   - tag: The tag.
        ///   - metadata: Plugin metadata, if any.
        ///   - kind: The payload.
        public init(tag: String, metadata: SummaryMetadata? = nil, kind: Kind) {
            self.tag = tag
            self.metadata = metadata
            self.kind = kind
        }

        /// The payload of a summary value.
        public enum Kind: Sendable, Equatable {
            /// `simple_value`: a scalar, as the Keras callback writes it.
            case simpleValue(Float)
            /// `histo`: a bucketed histogram.
            case histogram(HistogramProto)
            /// `image`: an encoded image.
            case image(SummaryImage)
            /// `tensor`: a tensor, interpreted by the plugin named in `metadata`.
            case tensor(TensorProto)
            /// `audio`, kept as raw bytes.
            case audio([UInt8])
            /// No payload, or one this library does not model (`obsolete_old_style_histogram`).
            case none
        }

        // Field numbers of tensorflow.Summary.Value.
        static let tagField = 1  // string
        static let simpleValueField = 2  // float
        static let imageField = 4  // Summary.Image
        static let histogramField = 5  // HistogramProto
        static let audioField = 6  // Summary.Audio
        static let tensorField = 8  // TensorProto
        static let metadataField = 9  // SummaryMetadata
    }

    static let valueField = 1  // repeated Summary.Value
}

/// A `SummaryMetadata`: which TensorBoard plugin owns a value, and how to show it.
public struct SummaryMetadata: Sendable, Equatable {
    /// `plugin_data.plugin_name`, e.g. `"scalars"`, `"histograms"`, `"images"`, `"graph_keras_model"`.
    public var pluginName: String
    /// `plugin_data.content`: plugin-specific serialized settings.
    public var pluginContent: [UInt8]
    /// `display_name`.
    public var displayName: String
    /// `summary_description`.
    public var summaryDescription: String
    /// `data_class`: 0 unknown, 1 scalar, 2 tensor, 3 blob sequence.
    public var dataClass: Int

    /// Creates summary metadata.
    ///
    /// - Parameters:
    ///   - pluginName: The owning plugin.
    ///   - pluginContent: Plugin-specific content.
    ///   - displayName: A display name.
    ///   - summaryDescription: A description.
    ///   - dataClass: The `DataClass` enum value.
    public init(
        pluginName: String, pluginContent: [UInt8] = [], displayName: String = "",
        summaryDescription: String = "", dataClass: Int = 0
    ) {
        self.pluginName = pluginName
        self.pluginContent = pluginContent
        self.displayName = displayName
        self.summaryDescription = summaryDescription
        self.dataClass = dataClass
    }

    // Field numbers of tensorflow.SummaryMetadata and its PluginData.
    static let pluginDataField = 1  // PluginData
    static let displayNameField = 2  // string
    static let summaryDescriptionField = 3  // string
    static let dataClassField = 4  // DataClass enum
    static let pluginNameField = 1  // PluginData.plugin_name, string
    static let pluginContentField = 2  // PluginData.content, bytes
}

/// A `HistogramProto` (tensorflow/core/framework/summary.proto).
public struct HistogramProto: Sendable, Equatable {
    /// The smallest value.
    public var min: Double
    /// The largest value.
    public var max: Double
    /// The number of values.
    public var num: Double
    /// The sum of the values.
    public var sum: Double
    /// The sum of the squares of the values.
    public var sumSquares: Double
    /// The upper limit of each bucket.
    public var bucketLimit: [Double]
    /// The count of each bucket.
    public var bucket: [Double]

    /// Creates a histogram.
    ///
    /// - Parameters:
    ///   - min: The smallest value.
    ///   - max: The largest value.
    ///   - num: The number of values.
    ///   - sum: The sum of the values.
    ///   - sumSquares: The sum of their squares.
    ///   - bucketLimit: The upper limit of each bucket.
    ///   - bucket: The count in each bucket.
    public init(
        min: Double, max: Double, num: Double, sum: Double, sumSquares: Double,
        bucketLimit: [Double], bucket: [Double]
    ) {
        self.min = min
        self.max = max
        self.num = num
        self.sum = sum
        self.sumSquares = sumSquares
        self.bucketLimit = bucketLimit
        self.bucket = bucket
    }

    static let minField = 1  // double
    static let maxField = 2  // double
    static let numField = 3  // double
    static let sumField = 4  // double
    static let sumSquaresField = 5  // double
    static let bucketLimitField = 6  // repeated double, packed
    static let bucketField = 7  // repeated double, packed
}

/// A `Summary.Image`: an encoded (PNG) image with its size.
public struct SummaryImage: Sendable, Equatable {
    /// Height in pixels.
    public var height: Int32
    /// Width in pixels.
    public var width: Int32
    /// 1 grayscale, 2 grayscale + alpha, 3 RGB, 4 RGBA, 5 digital YUV, 6 BGRA.
    public var colorspace: Int32
    /// The encoded image bytes.
    public var encodedImage: [UInt8]

    /// Creates an image summary payload.
    ///
    /// - Parameters:
    ///   - height: Height in pixels.
    ///   - width: Width in pixels.
    ///   - colorspace: Channel count as TensorFlow numbers it.
    ///   - encodedImage: PNG bytes.
    public init(height: Int32, width: Int32, colorspace: Int32, encodedImage: [UInt8]) {
        self.height = height
        self.width = width
        self.colorspace = colorspace
        self.encodedImage = encodedImage
    }

    static let heightField = 1  // int32
    static let widthField = 2  // int32
    static let colorspaceField = 3  // int32
    static let encodedImageField = 4  // bytes
}

/// A `TaggedRunMetadata`: a serialized `RunMetadata` under a tag (the profile of a traced step).
public struct TaggedRunMetadata: Sendable, Equatable {
    /// The tag, e.g. `"batch_2"`.
    public var tag: String
    /// A serialized `RunMetadata`.
    public var runMetadata: [UInt8]

    /// Creates tagged run metadata.
    ///
    /// - Parameters:
    ///   - tag: The tag.
    ///   - runMetadata: A serialized `RunMetadata`.
    public init(tag: String, runMetadata: [UInt8]) {
        self.tag = tag
        self.runMetadata = runMetadata
    }

    static let tagField = 1  // string
    static let runMetadataField = 2  // bytes
}
