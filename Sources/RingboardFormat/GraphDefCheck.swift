/// Checks a serialized `tensorflow.GraphDef` (tensorflow/core/framework/graph.proto) before it is
/// written as `Event.graph_def`: TensorBoard's graph dashboard shows "Malformed GraphDef" for one
/// that does not parse, and "The graph is empty" for one without nodes.
///
/// The check reads the graph's own fields and each `NodeDef` (node_def.proto) with its attribute
/// entries and their `AttrValue`s (attr_value.proto): every field must have its wire type and every
/// string must be UTF-8. Messages below that (a function library, shapes, tensors) are checked as
/// well-formed bytes of the right length only; unknown fields are skipped, as protobuf does.
public enum GraphDefCheck {
    static let graphNode = 1  // GraphDef.node, repeated NodeDef
    static let graphLibrary = 2  // GraphDef.library, FunctionDefLibrary
    static let graphVersion = 3  // GraphDef.version, int32 (deprecated)
    static let graphVersions = 4  // GraphDef.versions, VersionDef
    static let graphDebugInfo = 5  // GraphDef.debug_info, GraphDebugInfo
    static let nodeName = 1  // NodeDef.name, string
    static let nodeOp = 2  // NodeDef.op, string
    static let nodeInput = 3  // NodeDef.input, repeated string
    static let nodeDevice = 4  // NodeDef.device, string
    static let nodeAttr = 5  // NodeDef.attr, map<string, AttrValue>
    static let nodeDebugInfo = 6  // NodeDef.experimental_debug_info, message
    static let nodeType = 7  // NodeDef.experimental_type, FullTypeDef
    static let attrEntryKey = 1  // NodeDef.AttrEntry.key, string
    static let attrEntryValue = 2  // NodeDef.AttrEntry.value, AttrValue
    static let attrList = 1  // AttrValue.list, ListValue
    static let attrString = 2  // AttrValue.s, bytes
    static let attrInteger = 3  // AttrValue.i, int64
    static let attrFloat = 4  // AttrValue.f, float
    static let attrBool = 5  // AttrValue.b, bool
    static let attrType = 6  // AttrValue.type, DataType
    static let attrShape = 7  // AttrValue.shape, TensorShapeProto
    static let attrTensor = 8  // AttrValue.tensor, TensorProto
    static let attrPlaceholder = 9  // AttrValue.placeholder, string
    static let attrFunction = 10  // AttrValue.func, NameAttrList

    /// Checks `bytes` as a `GraphDef` and counts its nodes.
    ///
    /// - Parameter bytes: The serialized `GraphDef`.
    /// - Returns: The number of nodes (`GraphDef.node`).
    /// - Throws: `ProtobufError` for the first field that does not parse.
    public static func nodeCount(in bytes: [UInt8]) throws(ProtobufError) -> Int {
        var reader = ProtobufReader(bytes)
        var nodes = 0
        while let field = try reader.nextField() {
            switch field.number {
            case graphNode:
                try checkNode(try reader.message(field))
                nodes += 1
            case graphLibrary, graphVersions, graphDebugInfo: try skipFields(try reader.message(field))
            case graphVersion: _ = try reader.int64(field)
            default: break
            }
        }
        return nodes
    }

    private static func checkNode(_ message: ProtobufReader) throws(ProtobufError) {
        var reader = message
        while let field = try reader.nextField() {
            switch field.number {
            case nodeName, nodeOp, nodeInput, nodeDevice: _ = try reader.string(field)
            case nodeAttr:
                var entry = try reader.message(field)
                while let entryField = try entry.nextField() {
                    switch entryField.number {
                    case attrEntryKey: _ = try entry.string(entryField)
                    case attrEntryValue: try checkAttrValue(try entry.message(entryField))
                    default: break
                    }
                }
            case nodeDebugInfo, nodeType: try skipFields(try reader.message(field))
            default: break
            }
        }
    }

    private static func checkAttrValue(_ message: ProtobufReader) throws(ProtobufError) {
        var reader = message
        while let field = try reader.nextField() {
            switch field.number {
            case attrString: _ = try reader.bytes(field)
            case attrInteger, attrBool, attrType: _ = try reader.int64(field)
            case attrFloat: _ = try reader.float(field)
            case attrPlaceholder: _ = try reader.string(field)
            case attrList, attrShape, attrTensor, attrFunction: try skipFields(try reader.message(field))
            default: break
            }
        }
    }

    /// Reads every field of a message whose fields are not checked one by one.
    private static func skipFields(_ message: ProtobufReader) throws(ProtobufError) {
        var reader = message
        while try reader.nextField() != nil {}
    }
}
