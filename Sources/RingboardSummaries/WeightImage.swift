import RingboardFormat

/// Weights shown as images, as the TF 2.0 Keras `TensorBoard` callback shows them with
/// `write_images=True` (`_log_weight_as_image` in tensorflow/python/keras/callbacks.py):
///
/// ```python
/// w_img = array_ops.squeeze(weight)
/// shape = K.int_shape(w_img)
/// if len(shape) == 1:  # Bias case
///   w_img = array_ops.reshape(w_img, [1, shape[0], 1, 1])
/// elif len(shape) == 2:  # Dense layer kernel case
///   if shape[0] > shape[1]:
///     w_img = array_ops.transpose(w_img)
///     shape = K.int_shape(w_img)
///   w_img = array_ops.reshape(w_img, [1, shape[0], shape[1], 1])
/// elif len(shape) == 3:  # ConvNet case
///   if K.image_data_format() == 'channels_last':
///     w_img = array_ops.transpose(w_img, perm=[2, 0, 1])
///     shape = K.int_shape(w_img)
///   w_img = array_ops.reshape(w_img, [shape[0], shape[1], shape[2], 1])
/// shape = K.int_shape(w_img)
/// if len(shape) == 4 and shape[-1] in [1, 3, 4]:
///   summary_ops_v2.image(weight_name, w_img, step=epoch)
/// ```
///
/// So every dimension of size 1 is dropped first; then a vector becomes one image one pixel wide
/// and `n` high; a matrix one image, turned so that it is at least as wide as high; a 3-D weight
/// (channels last, Keras' default image data format) one image per channel; a 4-D weight is
/// written as it is when its last dimension is 1, 3 or 4 (`[batch, height, width, channels]`);
/// anything else, including scalars and 5-D weights, is skipped. The images are then written as
/// ``ImageSummary`` writes a float tensor, at most 3 of them, tagged `<name>/image/<i>`.
public enum WeightImage {
    /// How a weight's values are rearranged into the image tensor.
    public enum Arrangement: Sendable, Equatable {
        /// In their own order (a reshape).
        case asIs
        /// A matrix transposed: `[h, w]` with `h > w` becomes `[w, h]`.
        case transposed
        /// Channels moved to the front: `[h, w, c]` becomes `[c, h, w]` (perm `[2, 0, 1]`).
        case channelsFirst
    }

    /// What the callback does with a weight of some shape.
    public enum Layout: Sendable, Equatable {
        /// Written as an image tensor of this `[batch, height, width, channels]` shape, its values
        /// rearranged as `arrangement` says.
        case images(shape: [Int], arrangement: Arrangement)
        /// Not written: after squeezing, the weight is not one the callback can show.
        case skipped(squeezedShape: [Int])
    }

    /// What the callback does with a weight of this shape.
    ///
    /// - Parameter shape: The weight's shape.
    /// - Returns: The image tensor's shape and arrangement, or why it is skipped.
    public static func layout(forShape shape: [Int]) -> Layout {
        let squeezed = shape.filter { $0 != 1 }
        switch squeezed.count {
        case 1:
            return .images(shape: [1, squeezed[0], 1, 1], arrangement: .asIs)
        case 2 where squeezed[0] > squeezed[1]:
            return .images(shape: [1, squeezed[1], squeezed[0], 1], arrangement: .transposed)
        case 2:
            return .images(shape: [1, squeezed[0], squeezed[1], 1], arrangement: .asIs)
        case 3:
            return .images(shape: [squeezed[2], squeezed[0], squeezed[1], 1], arrangement: .channelsFirst)
        case 4 where [1, 3, 4].contains(squeezed[3]):
            return .images(shape: squeezed, arrangement: .asIs)
        default:
            return .skipped(squeezedShape: squeezed)
        }
    }

    /// The images the callback writes for a weight, before PNG encoding.
    ///
    /// Only the images that are written are rearranged: a 3-D weight with 512 channels costs
    /// the work of `maxImages` of them.
    ///
    /// - Parameters:
    ///   - name: The summary name: the weight's name with `:` replaced by `_`, e.g. `dense/kernel_0`.
    ///   - shape: The weight's shape.
    ///   - values: The weight's values, row-major.
    ///   - maxImages: How many images to write at most, at least 1 (the callback uses 3).
    /// - Returns: The images, or `nil` when the callback skips this weight.
    /// - Throws: `SummaryError.unsupportedShape` when the shape does not match the values, or
    ///   the image tensor is one TensorFlow cannot write (see ``ImageSummary``).
    public static func images(
        name: String, shape: [Int], values: [Float], maxImages: Int = ImageSummary.defaultMaxImages
    ) throws(SummaryError) -> [ImageSummary.Image]? {
        try images(name: name, shape: shape, values: values.span, maxImages: maxImages)
    }

    /// The images the callback writes for a weight, of values read in place (a mapped weight
    /// segment, say); see ``images(name:shape:values:maxImages:)`` for `[Float]`.
    ///
    /// - Parameters:
    ///   - name: The summary name: the weight's name with `:` replaced by `_`, e.g. `dense/kernel_0`.
    ///   - shape: The weight's shape.
    ///   - values: The weight's values, row-major.
    ///   - maxImages: How many images to write at most, at least 1 (the callback uses 3).
    /// - Returns: The images, or `nil` when the callback skips this weight.
    /// - Throws: `SummaryError.unsupportedShape` when the shape does not match the values, or
    ///   the image tensor is one TensorFlow cannot write (see ``ImageSummary``).
    public static func images(
        name: String, shape: [Int], values: Span<Float>, maxImages: Int = ImageSummary.defaultMaxImages
    ) throws(SummaryError) -> [ImageSummary.Image]? {
        try arranged(name: name, shape: shape, values: values, maxImages: maxImages) { (geometry, values) throws(SummaryError) in
            try ImageSummary.normalizedImages(tag: name, geometry: geometry, values: values, badColor: ImageSummary.defaultBadColor)
        }
    }

    /// Hands `body` the image tensor's geometry and the values of the images that are written,
    /// rearranged as `layout(forShape:)` says; `nil` when the callback skips the weight.
    static func arranged<Result>(
        name: String, shape: [Int], values: Span<Float>, maxImages: Int,
        _ body: (ImageSummary.Geometry, Span<Float>) throws(SummaryError) -> Result
    ) throws(SummaryError) -> Result? {
        guard shape.allSatisfy({ $0 >= 0 }), let count = ImageSummary.product(of: shape), count == values.count else {
            throw .unsupportedShape(tag: name, shape: shape, reason: "does not match the \(values.count) values given")
        }
        guard case .images(let imageShape, let arrangement) = layout(forShape: shape) else { return nil }
        let geometry = try ImageSummary.Geometry(tag: name, shape: imageShape, elementCount: count, maxImages: maxImages)
        switch arrangement {
        case .asIs:
            return try body(geometry, values)
        case .transposed:
            let transposed = transpose(values, rows: geometry.width, columns: geometry.height)
            return try body(geometry, transposed.span)
        case .channelsFirst:
            let planes = channelPlanes(values, pixels: geometry.height * geometry.width, channels: geometry.batch, count: geometry.imageCount)
            return try body(geometry, planes.span)
        }
    }

    /// The summary values the callback writes for a weight: its images, PNG-encoded.
    ///
    /// - Parameters:
    ///   - name: The summary name: the weight's name with `:` replaced by `_`, e.g. `dense/kernel_0`.
    ///   - shape: The weight's shape.
    ///   - values: The weight's values, row-major.
    ///   - maxImages: How many images to write at most, at least 1 (the callback uses 3).
    ///   - encoder: The PNG encoder; by default, TensorFlow's settings.
    /// - Returns: One value per image, or `nil` when the callback skips this weight.
    /// - Throws: `SummaryError.unsupportedShape` as ``images(name:shape:values:maxImages:)`` does;
    ///   `SummaryError.compression` when zlib fails.
    public static func summaryValues(
        name: String, shape: [Int], values: [Float], maxImages: Int = ImageSummary.defaultMaxImages,
        encoder: PNGEncoder = PNGEncoder()
    ) throws(SummaryError) -> [Summary.Value]? {
        guard let images = try images(name: name, shape: shape, values: values, maxImages: maxImages) else { return nil }
        return try ImageSummary.encoded(images, encoder: encoder)
    }

    /// The transpose of a `rows × columns` row-major matrix (`columns × rows`, row-major).
    static func transpose(_ values: Span<Float>, rows: Int, columns: Int) -> [Float] {
        precondition(values.count == rows * columns)
        var result = [Float](repeating: 0, count: values.count)
        var output = result.mutableSpan
        // In tiles, so that both the reads and the writes stay within a few cache lines.
        let tile = 32
        for rowStart in stride(from: 0, to: rows, by: tile) {
            let rowEnd = min(rowStart + tile, rows)
            for columnStart in stride(from: 0, to: columns, by: tile) {
                let columnEnd = min(columnStart + tile, columns)
                for row in rowStart..<rowEnd {
                    for column in columnStart..<columnEnd {
                        output[column * rows + row] = values[row * columns + column]
                    }
                }
            }
        }
        return result
    }

    /// The first `count` channel planes of a channels-last image: plane `c` holds channel `c` of
    /// every pixel, in order (the first `count` images of `transpose(perm=[2, 0, 1])`).
    static func channelPlanes(_ values: Span<Float>, pixels: Int, channels: Int, count: Int) -> [Float] {
        precondition(values.count == pixels * channels && count <= channels)
        var result = [Float](repeating: 0, count: pixels * count)
        var output = result.mutableSpan
        for pixel in 0..<pixels {
            for channel in 0..<count {
                output[channel * pixels + pixel] = values[pixel * channels + channel]
            }
        }
        return result
    }
}
