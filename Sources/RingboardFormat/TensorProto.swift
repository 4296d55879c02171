/// A TensorFlow `DataType` (tensorflow/core/framework/types.proto), for the dtypes summaries use.
public struct DataType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The enum value on the wire.
    public var rawValue: Int

    /// Wraps a wire value; unknown values are kept as they are.
    ///
    /// - Parameter rawValue: The `DataType` enum value.
    public init(rawValue: Int) {
        self.rawValue = rawValue
    }

    /// `DT_FLOAT`.
    public static let float = DataType(rawValue: 1)
    /// `DT_DOUBLE`.
    public static let double = DataType(rawValue: 2)
    /// `DT_INT32`.
    public static let int32 = DataType(rawValue: 3)
    /// `DT_UINT8`.
    public static let uint8 = DataType(rawValue: 4)
    /// `DT_STRING`.
    public static let string = DataType(rawValue: 7)
    /// `DT_INT64`.
    public static let int64 = DataType(rawValue: 9)
    /// `DT_BOOL`.
    public static let bool = DataType(rawValue: 10)
    /// `DT_HALF`.
    public static let half = DataType(rawValue: 19)

    /// The TensorFlow name, e.g. `DT_FLOAT`.
    public var description: String {
        switch self {
        case .float: "DT_FLOAT"
        case .double: "DT_DOUBLE"
        case .int32: "DT_INT32"
        case .uint8: "DT_UINT8"
        case .string: "DT_STRING"
        case .int64: "DT_INT64"
        case .bool: "DT_BOOL"
        case .half: "DT_HALF"
        default: "DT_\(rawValue)"
        }
    }
}

/// A `TensorProto` (tensorflow/core/framework/tensor.proto) holding the fields summaries use.
///
/// Values are in one of the typed lists or, packed little-endian, in `tensorContent`.
public struct TensorProto: Sendable, Equatable {
    /// The element type.
    public var dtype: DataType
    /// The dimension sizes; empty for a scalar.
    public var shape: [Int64]
    /// `tensor_content`: the values as raw little-endian bytes.
    public var tensorContent: [UInt8]
    /// `float_val`.
    public var floatValues: [Float]
    /// `double_val`.
    public var doubleValues: [Double]
    /// `int_val` (also carries `DT_UINT8` and `DT_BOOL` in some writers).
    public var intValues: [Int32]
    /// `int64_val`.
    public var int64Values: [Int64]
    /// `string_val`: byte strings.
    public var stringValues: [[UInt8]]
    /// `bool_val`.
    public var boolValues: [Bool]
    /// `half_val`: `DT_HALF` values as their bit patterns.
    public var halfValues: [Int32]

    /// Creates a tensor.
    ///
    /// - Parameters:
    ///   - dtype: The element type.
    ///   - shape: The dimension sizes.
    ///   - tensorContent: Packed little-endian values, or empty.
    ///   - floatValues: `float_val`.
    ///   - doubleValues: `double_val`.
    ///   - intValues: `int_val`.
    ///   - int64Values: `int64_val`.
    ///   - stringValues: `string_val`.
    ///   - boolValues: `bool_val`.
    ///   - halfValues: `half_val`.
    public init(
        dtype: DataType, shape: [Int64] = [], tensorContent: [UInt8] = [],
        floatValues: [Float] = [], doubleValues: [Double] = [], intValues: [Int32] = [],
        int64Values: [Int64] = [], stringValues: [[UInt8]] = [], boolValues: [Bool] = [],
        halfValues: [Int32] = []
    ) {
        self.dtype = dtype
        self.shape = shape
        self.tensorContent = tensorContent
        self.floatValues = floatValues
        self.doubleValues = doubleValues
        self.intValues = intValues
        self.int64Values = int64Values
        self.stringValues = stringValues
        self.boolValues = boolValues
        self.halfValues = halfValues
    }

    /// A string tensor, as the `graph_keras_model` and text plugins use.
    ///
    /// - Parameters:
    ///   - strings: The byte strings.
    ///   - shape: The dimension sizes; a scalar when empty.
    /// - Returns: A `DT_STRING` tensor.
    public static func strings(_ strings: [[UInt8]], shape: [Int64] = []) -> TensorProto {
        TensorProto(dtype: .string, shape: shape, stringValues: strings)
    }

    /// The number of elements the shape describes (1 for a scalar).
    public var elementCount: Int64 {
        shape.reduce(1, *)
    }

    // Field numbers of tensorflow.TensorProto.
    static let dtypeField = 1  // DataType
    static let tensorShapeField = 2  // TensorShapeProto
    static let tensorContentField = 4  // bytes
    static let floatValField = 5  // repeated float, packed
    static let doubleValField = 6  // repeated double, packed
    static let intValField = 7  // repeated int32, packed
    static let stringValField = 8  // repeated bytes
    static let int64ValField = 10  // repeated int64, packed
    static let boolValField = 11  // repeated bool, packed
    static let halfValField = 13  // repeated int32, packed
    // tensorflow.TensorShapeProto
    static let shapeDimField = 2  // repeated Dim
    static let dimSizeField = 1  // Dim.size, int64
}
