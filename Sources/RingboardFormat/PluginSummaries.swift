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

/// An audio clip as torch's `add_audio` writes it: a `Summary.Audio` of one channel of 16-bit PCM
/// WAV, the `audio` field TensorBoard's audio plugin reads (as a legacy summary).
public enum AudioSummary {
    /// The summary value of `frames` 16-bit samples at `sampleRate` per second: the WAV file
    /// Python's `wave` module writes (a 44-byte header, the samples little-endian), with
    /// `Summary.Audio`'s sample rate as given and `wave`'s frame rate rounded.
    public static func summaryValue(tag: String, sampleRate: Double, frames: [Int16]) -> Summary.Value {
        let dataLength = UInt32(truncatingIfNeeded: 2 * frames.count)
        let frameRate = UInt32(sampleRate.rounded())
        var wav = WireBuffer(capacity: 44 + 2 * frames.count)
        wav.append(utf8: "RIFF")
        wav.appendLittleEndian(36 &+ dataLength)
        wav.append(utf8: "WAVEfmt ")
        wav.appendLittleEndian(UInt32(16))  // the fmt chunk's length
        wav.appendLittleEndian(UInt32(1 | 1 << 16))  // PCM, one channel
        wav.appendLittleEndian(frameRate)
        wav.appendLittleEndian(frameRate &* 2)  // bytes per second
        wav.appendLittleEndian(UInt32(2 | 16 << 16))  // 2 bytes per frame, 16 bits per sample
        wav.append(utf8: "data")
        wav.appendLittleEndian(dataLength)
        wav.append(byteCount: 2 * frames.count) { destination in
            for (index, frame) in frames.enumerated() {
                destination.storeBytes(of: UInt16(bitPattern: frame).littleEndian, toByteOffset: 2 * index, as: UInt16.self)
            }
        }
        var audio = WireBuffer(capacity: wav.count + 64)
        audio.appendFloatField(1, Float(sampleRate))  // sample_rate
        audio.appendInt64Field(2, 1)  // num_channels
        audio.appendInt64Field(3, Int64(frames.count))  // length_frames
        audio.appendBytesField(4, wav.bytes)  // encoded_audio_string
        audio.appendStringField(5, "audio/wav")  // content_type
        return Summary.Value(tag: tag, kind: .audio(audio.bytes))
    }

    /// torch's conversion of a clip to 16-bit samples: clipped to [-1, 1] when any sample lies
    /// beyond, times 32767 in the samples' own precision, truncated toward zero.
    public static func frames<Sample: BinaryFloatingPoint>(_ samples: [Sample]) -> [Int16] {
        let clip = samples.contains { abs($0) > 1 }
        return samples.map { sample in
            let clipped = clip ? Swift.min(Swift.max(sample, -1), 1) : sample
            return Int16((clipped * 32767).rounded(.towardZero))
        }
    }
}

/// The mesh plugin's summaries (tensorboard/plugins/mesh), as torch's `add_mesh` writes them: one
/// `[batch, count, 3]` float tensor per part, tagged `<tag>_VERTEX`, `<tag>_FACE`, `<tag>_COLOR`, each
/// with `MeshPluginData` naming the parts present.
public enum MeshSummary {
    /// A part of the mesh: its content type (1 vertex, 2 face, 3 color), name, shape and values.
    public struct Part: Sendable {
        public var content: Int
        public var contentName: String
        public var shape: [Int64]
        public var values: [Float]

        public init(content: Int, contentName: String, shape: [Int64], values: [Float]) {
            self.content = content
            self.contentName = contentName
            self.shape = shape
            self.values = values
        }
    }

    /// The summary values of a mesh's parts, in the order given.
    public static func summaryValues(tag: String, parts: [Part], jsonConfig: String) -> [Summary.Value] {
        // `get_components_bitmask`: a bit per part present, content type c at bit c.
        let components = parts.reduce(UInt64(0)) { $0 | 1 << UInt64($1.content) }
        return parts.map { part in
            var content = WireBuffer(capacity: 64 + tag.utf8.count + jsonConfig.utf8.count)
            // MeshPluginData { version = 1 (0, left out); name = 2; content_type = 3; json_config = 5;
            // shape = 6 (packed); components = 7 }.
            content.appendStringField(2, tag)
            content.appendInt64Field(3, Int64(part.content))
            content.appendStringField(5, jsonConfig)
            content.appendPackedVarints(6, part.shape.map { UInt64(bitPattern: $0) })
            content.appendInt64Field(7, Int64(components))
            return Summary.Value(tag: tag + "_" + part.contentName, metadata: SummaryMetadata(pluginName: "mesh", pluginContent: content.bytes),
                                 kind: .tensor(TensorProto(dtype: .float, shape: part.shape, floatValues: part.values)))
        }
    }
}
