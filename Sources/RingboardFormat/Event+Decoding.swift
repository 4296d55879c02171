extension Event {
    /// Decodes a serialized `tensorflow.Event`. Unknown fields are skipped; fields this library
    /// models must have the right wire type and, for strings, valid UTF-8.
    ///
    /// - Parameter serializedBytes: The protobuf bytes (one TFRecord's data).
    /// - Throws: `ProtobufError` when the bytes are not a valid message.
    public init(serializedBytes: [UInt8]) throws(ProtobufError) {
        var reader = ProtobufReader(serializedBytes)
        self.init(wallTime: 0)
        while let field = try reader.nextField() {
            switch field.number {
            case Event.wallTimeField: wallTime = try reader.double(field)
            case Event.stepField: step = try reader.int64(field)
            case Event.fileVersionField: what = .fileVersion(try reader.string(field))
            case Event.graphDefField: what = .graphDef(try reader.bytes(field))
            case Event.summaryField: what = .summary(try Summary(try reader.message(field)))
            case Event.taggedRunMetadataField:
                what = .taggedRunMetadata(try TaggedRunMetadata(try reader.message(field)))
            case 6, 7, 9:  // log_message, session_log, meta_graph_def
                what = .other(field: field.number, bytes: try reader.bytes(field))
            default: break
            }
        }
    }
}

extension Summary {
    init(_ message: ProtobufReader) throws(ProtobufError) {
        var reader = message
        self.init(values: [])
        while let field = try reader.nextField() {
            if field.number == Summary.valueField {
                values.append(try Summary.Value(try reader.message(field)))
            }
        }
    }
}

extension Summary.Value {
    init(_ message: ProtobufReader) throws(ProtobufError) {
        var reader = message
        self.init(tag: "", kind: .none)
        while let field = try reader.nextField() {
            switch field.number {
            case Summary.Value.tagField: tag = try reader.string(field)
            case Summary.Value.simpleValueField: kind = .simpleValue(try reader.float(field))
            case Summary.Value.histogramField: kind = .histogram(try HistogramProto(try reader.message(field)))
            case Summary.Value.imageField: kind = .image(try SummaryImage(try reader.message(field)))
            case Summary.Value.tensorField: kind = .tensor(try TensorProto(try reader.message(field)))
            case Summary.Value.audioField: kind = .audio(try reader.bytes(field))
            case Summary.Value.metadataField: metadata = try SummaryMetadata(try reader.message(field))
            case 7:  // node_name: the TF 1 name of the op, used by TensorBoard only when tag is empty.
                if tag.isEmpty { tag = try reader.string(field) }
            default: break
            }
        }
    }
}

extension SummaryMetadata {
    init(_ message: ProtobufReader) throws(ProtobufError) {
        var reader = message
        self.init(pluginName: "")
        while let field = try reader.nextField() {
            switch field.number {
            case SummaryMetadata.pluginDataField:
                var plugin = try reader.message(field)
                while let pluginField = try plugin.nextField() {
                    switch pluginField.number {
                    case SummaryMetadata.pluginNameField: pluginName = try plugin.string(pluginField)
                    case SummaryMetadata.pluginContentField: pluginContent = try plugin.bytes(pluginField)
                    default: break
                    }
                }
            case SummaryMetadata.displayNameField: displayName = try reader.string(field)
            case SummaryMetadata.summaryDescriptionField: summaryDescription = try reader.string(field)
            case SummaryMetadata.dataClassField: dataClass = Int(truncatingIfNeeded: try reader.int64(field))
            default: break
            }
        }
    }
}

extension HistogramProto {
    init(_ message: ProtobufReader) throws(ProtobufError) {
        var reader = message
        self.init(min: 0, max: 0, num: 0, sum: 0, sumSquares: 0, bucketLimit: [], bucket: [])
        while let field = try reader.nextField() {
            switch field.number {
            case HistogramProto.minField: min = try reader.double(field)
            case HistogramProto.maxField: max = try reader.double(field)
            case HistogramProto.numField: num = try reader.double(field)
            case HistogramProto.sumField: sum = try reader.double(field)
            case HistogramProto.sumSquaresField: sumSquares = try reader.double(field)
            case HistogramProto.bucketLimitField:
                try reader.appendRepeatedFixed(field, size: 8, to: &bucketLimit) { Double(bitPattern: $0) }
            case HistogramProto.bucketField:
                try reader.appendRepeatedFixed(field, size: 8, to: &bucket) { Double(bitPattern: $0) }
            default: break
            }
        }
    }
}

extension SummaryImage {
    init(_ message: ProtobufReader) throws(ProtobufError) {
        var reader = message
        self.init(height: 0, width: 0, colorspace: 0, encodedImage: [])
        while let field = try reader.nextField() {
            switch field.number {
            case SummaryImage.heightField: height = Int32(truncatingIfNeeded: try reader.int64(field))
            case SummaryImage.widthField: width = Int32(truncatingIfNeeded: try reader.int64(field))
            case SummaryImage.colorspaceField: colorspace = Int32(truncatingIfNeeded: try reader.int64(field))
            case SummaryImage.encodedImageField: encodedImage = try reader.bytes(field)
            default: break
            }
        }
    }
}

extension TaggedRunMetadata {
    init(_ message: ProtobufReader) throws(ProtobufError) {
        var reader = message
        self.init(tag: "", runMetadata: [])
        while let field = try reader.nextField() {
            switch field.number {
            case TaggedRunMetadata.tagField: tag = try reader.string(field)
            case TaggedRunMetadata.runMetadataField: runMetadata = try reader.bytes(field)
            default: break
            }
        }
    }
}

extension TensorProto {
    init(_ message: ProtobufReader) throws(ProtobufError) {
        var reader = message
        self.init(dtype: DataType(rawValue: 0))
        while let field = try reader.nextField() {
            switch field.number {
            case TensorProto.dtypeField:
                dtype = DataType(rawValue: Int(truncatingIfNeeded: try reader.int64(field)))
            case TensorProto.tensorShapeField:
                var shapeReader = try reader.message(field)
                while let dimField = try shapeReader.nextField() {
                    guard dimField.number == TensorProto.shapeDimField else { continue }
                    var dimReader = try shapeReader.message(dimField)
                    var size: Int64 = 0
                    while let sizeField = try dimReader.nextField() {
                        if sizeField.number == TensorProto.dimSizeField { size = try dimReader.int64(sizeField) }
                    }
                    shape.append(size)
                }
            case TensorProto.tensorContentField: tensorContent = try reader.bytes(field)
            case TensorProto.floatValField:
                try reader.appendRepeatedFixed(field, size: 4, to: &floatValues) {
                    Float(bitPattern: UInt32(truncatingIfNeeded: $0))
                }
            case TensorProto.doubleValField:
                try reader.appendRepeatedFixed(field, size: 8, to: &doubleValues) { Double(bitPattern: $0) }
            case TensorProto.intValField:
                try reader.appendRepeatedVarint(field, to: &intValues) { Int32(truncatingIfNeeded: $0) }
            case TensorProto.stringValField: stringValues.append(try reader.bytes(field))
            case TensorProto.int64ValField:
                try reader.appendRepeatedVarint(field, to: &int64Values) { Int64(bitPattern: $0) }
            case TensorProto.boolValField:
                try reader.appendRepeatedVarint(field, to: &boolValues) { $0 != 0 }
            case TensorProto.halfValField:
                try reader.appendRepeatedVarint(field, to: &halfValues) { Int32(truncatingIfNeeded: $0) }
            default: break
            }
        }
    }
}
