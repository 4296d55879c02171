import RingboardFormat

extension WeightImage {
    /// A weight as Keras 3's `TensorBoard` callback shows it with `write_images=True`: the
    /// images of `layout(forShape:)` (Keras 3's `_log_weight_as_image` squeezes, turns and
    /// splits a weight as TF 2.0's did), written by `tf.summary.image` in the TensorBoard 2.x form.
    ///
    /// `tf.summary.image` (tensorboard/plugins/image/summary_v2.py, TensorBoard 2.21) converts
    /// the floats with `tf.image.convert_image_dtype(data, tf.uint8, saturate=True)`: each value
    /// times 255.5 in single precision, clamped to [0, 255] and truncated. It encodes the first
    /// `maxImages` images as PNG, and writes one `DT_STRING` tensor: the tensor's width and
    /// height as decimal strings, then the PNGs. A NaN is written as 0.
    ///
    /// - Parameters:
    ///   - tag: The summary tag: `<weight.path with ":" replaced by "_">/image`.
    ///   - shape: The weight's shape.
    ///   - values: The weight's values, row-major.
    ///   - maxImages: How many images to encode at most (`tf.summary.image`'s `max_outputs`, 3).
    ///   - encoder: The PNG encoder.
    /// - Returns: The summary value, or `nil` when the callback skips this weight.
    /// - Throws: `SummaryError.unsupportedShape` as ``images(name:shape:values:maxImages:)`` does;
    ///   `SummaryError.compression` when zlib fails.
    public static func tensorBoardValue(
        tag: String, shape: [Int], values: Span<Float>, maxImages: Int = ImageSummary.defaultMaxImages,
        encoder: PNGEncoder = PNGEncoder()
    ) throws(SummaryError) -> Summary.Value? {
        try arranged(name: tag, shape: shape, values: values, maxImages: maxImages) { (geometry, values) throws(SummaryError) in
            guard let colorType = PNGEncoder.ColorType(channels: geometry.channels) else {
                throw .unsupportedShape(tag: tag, shape: geometry.shape, reason: "has \(geometry.channels) channels, not 1, 3 or 4")
            }
            var strings: [[UInt8]] = [Array(String(geometry.width).utf8), Array(String(geometry.height).utf8)]
            var pixels = [UInt8](repeating: 0, count: geometry.imageSize)
            for image in 0..<geometry.imageCount {
                let start = image * geometry.imageSize
                for index in 0..<geometry.imageSize { pixels[index] = convertedToUInt8(values[start + index]) }
                strings.append(try encoder.encode(pixels.span, width: geometry.width, height: geometry.height, colorType: colorType))
            }
            let tensor = TensorProto(dtype: .string, shape: [Int64(strings.count)], stringValues: strings)
            // metadata.create_summary_metadata: plugin "images" with ImagePluginData(version=0),
            // which serializes to no bytes.
            return Summary.Value(tag: tag, metadata: SummaryMetadata(pluginName: "images", pluginContent: []), kind: .tensor(tensor))
        }
    }

    /// `tf.image.convert_image_dtype(value, tf.uint8, saturate=True)` of one float: `value * 255.5`
    /// in single precision, clamped to [0, 255], truncated toward zero.
    @inline(__always)
    static func convertedToUInt8(_ value: Float) -> UInt8 {
        let scaled = value * 255.5
        guard scaled > 0 else { return 0 }  // negative, zero or NaN
        return scaled >= 255 ? 255 : UInt8(scaled)
    }
}
