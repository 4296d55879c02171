/// TensorBoard's HParams plugin data (tensorboard/plugins/hparams: `api.proto`,
/// `plugin_data.proto`), as torch's `SummaryWriter.add_hparams` writes it: an experiment naming
/// the hyperparameters and metrics, a session start with the values, and a session end.
public enum HParams {
    /// A hyperparameter's value: `google.protobuf.Value`'s number, string or bool.
    public enum Value: Equatable, Sendable {
        case number(Double)
        case string(String)
        case bool(Bool)
    }

    /// The plugin's name in summary metadata.
    public static let pluginName = "hparams"
    /// The tags of the three summaries.
    public static let experimentTag = "_hparams_/experiment"
    public static let sessionStartTag = "_hparams_/session_start_info"
    public static let sessionEndTag = "_hparams_/session_end_info"

    /// The three summary values torch writes, in its order (experiment, session start, session
    /// end), each a value with the plugin's metadata and no data.
    ///
    /// - Parameters:
    ///   - values: The hyperparameters in the caller's order.
    ///   - discrete: The allowed values of some of them (`hparam_domain_discrete`).
    ///   - metrics: The metric tags.
    public static func summaryValues(
        _ values: [(name: String, value: Value)], discrete: [String: [Value]], metrics: [String]
    ) -> [Summary.Value] {
        let experiment = pluginData(field: 2) { body in
            for (name, value) in values {
                // HParamInfo: name, type, domain_discrete.
                body.appendMessageField(4) { info in
                    info.appendStringField(1, name)
                    info.appendInt64Field(4, dataType(value))
                    if let allowed = discrete[name] {
                        info.appendMessageField(6) { list in
                            for value in allowed { list.appendMessageField(1) { appendValue(value, to: &$0) } }
                        }
                    }
                }
            }
            // MetricInfo { name: MetricName { tag } }.
            for metric in metrics {
                body.appendMessageField(5) { info in info.appendMessageField(1) { $0.appendStringField(2, metric) } }
            }
        }
        let sessionStart = pluginData(field: 3) { body in
            // map<string, Value> hparams = 1: an entry message per key.
            for (name, value) in values {
                body.appendMessageField(1) { entry in
                    entry.appendStringField(1, name)
                    entry.appendMessageField(2) { appendValue(value, to: &$0) }
                }
            }
        }
        // SessionEndInfo { status: STATUS_SUCCESS }.
        let sessionEnd = pluginData(field: 4) { $0.appendInt64Field(1, 1) }
        return [(experimentTag, experiment), (sessionStartTag, sessionStart), (sessionEndTag, sessionEnd)].map { tag, content in
            Summary.Value(tag: tag, metadata: SummaryMetadata(pluginName: pluginName, pluginContent: content), kind: .none)
        }
    }

    /// `HParamsPluginData` (version 0, left out) holding one message in `field`.
    private static func pluginData(field: Int, _ body: (inout WireBuffer) -> Void) -> [UInt8] {
        var buffer = WireBuffer(capacity: 256)
        buffer.appendMessageField(field, body)
        return buffer.bytes
    }

    /// `DataType`: `DATA_TYPE_STRING` 1, `DATA_TYPE_BOOL` 2, `DATA_TYPE_FLOAT64` 3.
    private static func dataType(_ value: Value) -> Int64 {
        switch value {
        case .string: 1
        case .bool: 2
        case .number: 3
        }
    }

    /// A `google.protobuf.Value`: the kind is a oneof, so a zero, an empty string or false is
    /// written too.
    private static func appendValue(_ value: Value, to buffer: inout WireBuffer) {
        switch value {
        case .number(let number):
            buffer.appendKey(2, .fixed64)
            buffer.appendLittleEndian(number.bitPattern)
        case .string(let string):
            buffer.appendKey(3, .lengthDelimited)
            buffer.appendVarint(UInt64(string.utf8.count))
            buffer.append(utf8: string)
        case .bool(let flag):
            buffer.appendKey(4, .varint)
            buffer.append(byte: flag ? 1 : 0)
        }
    }
}
