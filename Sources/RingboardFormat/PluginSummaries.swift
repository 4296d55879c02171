// Summaries of TensorBoard plugins whose data `SummaryWriter` calls carry as they are.

/// The custom scalars dashboard's layout (tensorboard/plugins/custom_scalar/layout.proto), as
/// torch's `SummaryWriter.add_custom_scalars` writes it: a `Layout` serialized into a string
/// tensor under `custom_scalars__config__`.
public enum CustomScalars {
    /// A chart: a multiline chart of tags (regular expressions), or a margin chart of a value
    /// and its lower and upper bounds.
    public enum Chart: Equatable, Sendable {
        case multiline(title: String, tags: [String])
        case margin(title: String, value: String, lower: String, upper: String)
    }

    /// The tag TensorBoard reads the layout from.
    public static let tag = "custom_scalars__config__"

    /// The summary value holding the layout of `categories` (titles and their charts, in order).
    public static func summaryValue(_ categories: [(title: String, charts: [Chart])]) -> Summary.Value {
        var layout = WireBuffer(capacity: 256)
        // Layout { version = 1 (0, left out); repeated Category category = 2 }.
        for (title, charts) in categories {
            layout.appendMessageField(2) { category in
                category.appendStringField(1, title)
                for chart in charts {
                    category.appendMessageField(2) { body in
                        switch chart {
                        case .multiline(let title, let tags):
                            body.appendStringField(1, title)
                            body.appendMessageField(2) { content in for tag in tags { content.appendStringField(1, tag) } }
                        case .margin(let title, let value, let lower, let upper):
                            body.appendStringField(1, title)
                            body.appendMessageField(3) { content in
                                content.appendMessageField(1) { series in
                                    series.appendStringField(1, value)
                                    series.appendStringField(2, lower)
                                    series.appendStringField(3, upper)
                                }
                            }
                        }
                    }
                }
            }
        }
        return Summary.Value(tag: tag, metadata: SummaryMetadata(pluginName: "custom_scalars"),
                             kind: .tensor(.strings([layout.bytes])))
    }
}

/// The PR curves plugin's summary (tensorboard/plugins/pr_curve), as torch's `add_pr_curve_raw`
/// writes it: a `[6, columns]` float tensor (true positives, false positives, true negatives,
/// false negatives, precision, recall) with `PrCurvePluginData { num_thresholds }`.
public enum PRCurves {
    public static func summaryValue(tag: String, numThresholds: Int, columns: Int, values: [Float]) -> Summary.Value {
        var content = WireBuffer(capacity: 8)
        content.appendInt64Field(2, Int64(numThresholds))  // version 0 (field 1) left out
        return Summary.Value(tag: tag, metadata: SummaryMetadata(pluginName: "pr_curves", pluginContent: content.bytes),
                             kind: .tensor(TensorProto(dtype: .float, shape: [6, Int64(columns)], floatValues: values)))
    }
}
