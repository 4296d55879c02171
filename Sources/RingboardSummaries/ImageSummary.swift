import RingboardFormat

/// Image summaries as TensorFlow writes them: a `[batch, height, width, channels]` tensor becomes
/// one PNG-encoded `Summary.Image` per image, up to `maxImages` of them.
///
/// This follows the image summary kernels (`AddTensorAsImageToSummary` in
/// tensorflow/core/summary/summary_converter.cc, used by TF 2's `write_image_summary`, and
/// `SummaryImageOp` in tensorflow/core/kernels/summary_image_op.cc, used by TF 1's
/// `tf.summary.image`; both behave the same):
/// - the tensor is 4-D with 1 (grayscale), 3 (RGB) or 4 (RGBA) channels, `height × width` under
///   2^29;
/// - the first `min(maxImages, batch)` images are written, tagged `<tag>/image/<i>` from 0, or
///   `<tag>/image` when `maxImages` is 1 (the tag depends on how many images were asked for,
///   not how many there are);
/// - float values are scaled to 8 bits per image (see ``images(tag:shape:values:maxImages:badColor:)``),
///   pixels with a NaN or infinite channel taking the bad colour; 8-bit values are used as they are;
/// - `Summary.Image` gets height, width, `colorspace` = channels, and the PNG bytes.
///
/// Where TensorFlow fails to encode (an image with no rows or columns, or one more than 1,000,000
/// pixels high or wide, which libpng refuses), these functions throw instead.
public enum ImageSummary {
    /// One image of a summary, before PNG encoding.
    public struct Image: Sendable, Equatable {
        /// The tag: `<tag>/image/<i>`, or `<tag>/image` when one image was asked for.
        public var tag: String
        /// Rows.
        public var height: Int
        /// Pixels per row.
        public var width: Int
        /// Channels per pixel: 1, 3 or 4.
        public var channels: Int
        /// `height × width × channels` bytes, row by row, each pixel's channels together.
        public var pixels: [UInt8]

        /// Creates an image.
        ///
        /// - Parameters:
        ///   - tag: The summary tag.
        ///   - height: Rows.
        ///   - width: Pixels per row.
        ///   - channels: Channels per pixel: 1, 3 or 4.
        ///   - pixels: `height × width × channels` bytes.
        public init(tag: String, height: Int, width: Int, channels: Int, pixels: [UInt8]) {
            self.tag = tag
            self.height = height
            self.width = width
            self.channels = channels
            self.pixels = pixels
        }

        /// The image as a `Summary.Value` holding a PNG-encoded `Summary.Image`.
        ///
        /// - Parameter encoder: The PNG encoder; by default, TensorFlow's settings.
        /// - Returns: The summary value.
        /// - Throws: `SummaryError.unsupportedShape` when the size and pixels disagree or the
        ///   channel count is not 1, 3 or 4; `SummaryError.compression` when zlib fails.
        public func summaryValue(encoder: PNGEncoder = PNGEncoder()) throws(SummaryError) -> Summary.Value {
            guard let colorType = PNGEncoder.ColorType(channels: channels) else {
                throw .unsupportedShape(tag: tag, shape: [height, width, channels], reason: "has \(channels) channels, not 1, 3 or 4")
            }
            let png = try encoder.encode(pixels, width: width, height: height, colorType: colorType)
            return Summary.Value(
                tag: tag,
                kind: .image(SummaryImage(height: Int32(height), width: Int32(width), colorspace: Int32(channels), encodedImage: png)))
        }
    }

    /// TensorFlow's default `max_images`: at most 3 images per summary.
    public static let defaultMaxImages = 3
    /// TensorFlow's default bad colour, opaque red (`[255, 0, 0, 255]`); a grayscale image takes
    /// its first channel (255), an RGB image its first three.
    public static let defaultBadColor: [UInt8] = [255, 0, 0, 255]
    /// The largest height or width libpng writes (`PNG_USER_WIDTH_MAX`, `PNG_USER_HEIGHT_MAX`).
    public static let maximumDimension = 1_000_000

    /// The tag of image `index` (TensorFlow's `AddImages`).
    ///
    /// - Parameters:
    ///   - tag: The summary's tag.
    ///   - index: The image's position in the batch, from 0.
    ///   - maxImages: How many images were asked for.
    /// - Returns: `<tag>/image/<index>`, or `<tag>/image` when `maxImages` is 1.
    public static func tag(_ tag: String, index: Int, maxImages: Int) -> String {
        maxImages > 1 ? "\(tag)/image/\(index)" : "\(tag)/image"
    }

    /// The images of a float tensor, scaled to 8 bits as TensorFlow does.
    ///
    /// Each image is scaled on its own: over its pixels whose every channel is finite, if the
    /// minimum is negative then `scale = 127 / max(|min|, |max|)` and `offset = 128`, else
    /// `scale = 255 / max` and `offset = 0` (scale 0 when that bound is under 1e-6); a channel
    /// becomes `uint8(value * scale + offset)`, truncated, and a pixel with any non-finite
    /// channel the bad colour.
    ///
    /// - Parameters:
    ///   - tag: The summary tag the images' tags start with.
    ///   - shape: `[batch, height, width, channels]`, with 1, 3 or 4 channels.
    ///   - values: The tensor, row-major.
    ///   - maxImages: How many images to write at most, at least 1.
    ///   - badColor: The colour of pixels with a NaN or infinite channel, at least one byte per channel.
    /// - Returns: The first `min(maxImages, batch)` images.
    /// - Throws: `SummaryError.unsupportedShape` when the shape is not such a tensor, does not
    ///   match the number of values, or cannot be encoded.
    public static func images(
        tag: String, shape: [Int], values: [Float], maxImages: Int = defaultMaxImages, badColor: [UInt8] = defaultBadColor
    ) throws(SummaryError) -> [Image] {
        let geometry = try Geometry(tag: tag, shape: shape, elementCount: values.count, maxImages: maxImages)
        return try normalizedImages(tag: tag, geometry: geometry, values: values.span, badColor: badColor)
    }

    /// The images of an 8-bit tensor, used as they are.
    ///
    /// - Parameters:
    ///   - tag: The summary tag the images' tags start with.
    ///   - shape: `[batch, height, width, channels]`, with 1, 3 or 4 channels.
    ///   - pixels: The tensor, row-major.
    ///   - maxImages: How many images to write at most, at least 1.
    /// - Returns: The first `min(maxImages, batch)` images.
    /// - Throws: `SummaryError.unsupportedShape` when the shape is not such a tensor, does not
    ///   match the number of values, or cannot be encoded.
    public static func images(tag: String, shape: [Int], pixels: [UInt8], maxImages: Int = defaultMaxImages) throws(SummaryError) -> [Image] {
        let geometry = try Geometry(tag: tag, shape: shape, elementCount: pixels.count, maxImages: maxImages)
        return (0..<geometry.imageCount).map { i in
            Image(
                tag: Self.tag(tag, index: i, maxImages: maxImages), height: geometry.height, width: geometry.width,
                channels: geometry.channels, pixels: Array(pixels[(i * geometry.imageSize)..<((i + 1) * geometry.imageSize)]))
        }
    }

    /// The summary values of a float tensor: its images, scaled to 8 bits and PNG-encoded.
    ///
    /// - Parameters:
    ///   - tag: The summary tag the images' tags start with.
    ///   - shape: `[batch, height, width, channels]`, with 1, 3 or 4 channels.
    ///   - values: The tensor, row-major.
    ///   - maxImages: How many images to write at most, at least 1.
    ///   - badColor: The colour of pixels with a NaN or infinite channel, at least one byte per channel.
    ///   - encoder: The PNG encoder; by default, TensorFlow's settings.
    /// - Returns: One value per image, as ``images(tag:shape:values:maxImages:badColor:)`` makes them.
    /// - Throws: `SummaryError.unsupportedShape` as ``images(tag:shape:values:maxImages:badColor:)``
    ///   does; `SummaryError.compression` when zlib fails.
    public static func values(
        tag: String, shape: [Int], values: [Float], maxImages: Int = defaultMaxImages, badColor: [UInt8] = defaultBadColor,
        encoder: PNGEncoder = PNGEncoder()
    ) throws(SummaryError) -> [Summary.Value] {
        let images = try images(tag: tag, shape: shape, values: values, maxImages: maxImages, badColor: badColor)
        return try encoded(images, encoder: encoder)
    }

    /// The summary values of an 8-bit tensor: its images, PNG-encoded.
    ///
    /// - Parameters:
    ///   - tag: The summary tag the images' tags start with.
    ///   - shape: `[batch, height, width, channels]`, with 1, 3 or 4 channels.
    ///   - pixels: The tensor, row-major.
    ///   - maxImages: How many images to write at most, at least 1.
    ///   - encoder: The PNG encoder; by default, TensorFlow's settings.
    /// - Returns: One value per image.
    /// - Throws: `SummaryError.unsupportedShape` as ``images(tag:shape:pixels:maxImages:)`` does;
    ///   `SummaryError.compression` when zlib fails.
    public static func values(
        tag: String, shape: [Int], pixels: [UInt8], maxImages: Int = defaultMaxImages, encoder: PNGEncoder = PNGEncoder()
    ) throws(SummaryError) -> [Summary.Value] {
        try encoded(images(tag: tag, shape: shape, pixels: pixels, maxImages: maxImages), encoder: encoder)
    }

    /// The product of the dimensions, or `nil` when it overflows; 1 for no dimensions.
    static func product(of shape: [Int]) -> Int? {
        var product = 1
        for dimension in shape {
            let (result, overflow) = product.multipliedReportingOverflow(by: dimension)
            if overflow { return nil }
            product = result
        }
        return product
    }

    static func encoded(_ images: [Image], encoder: PNGEncoder) throws(SummaryError) -> [Summary.Value] {
        var values: [Summary.Value] = []
        values.reserveCapacity(images.count)
        for image in images { values.append(try image.summaryValue(encoder: encoder)) }
        return values
    }

    /// Scales the first `geometry.imageCount` images of `values` (which may hold just those).
    static func normalizedImages(tag: String, geometry: Geometry, values: Span<Float>, badColor: [UInt8]) throws(SummaryError) -> [Image] {
        guard badColor.count >= geometry.channels else {
            throw .unsupportedShape(
                tag: tag, shape: geometry.shape, reason: "has \(geometry.channels) channels but the bad colour only \(badColor.count)")
        }
        precondition(values.count >= geometry.imageCount * geometry.imageSize)
        var images: [Image] = []
        images.reserveCapacity(geometry.imageCount)
        for i in 0..<geometry.imageCount {
            var pixels = [UInt8](repeating: 0, count: geometry.imageSize)
            var output = pixels.mutableSpan
            ImageNormalization.normalize(
                values.extracting((i * geometry.imageSize)..<((i + 1) * geometry.imageSize)), channels: geometry.channels,
                badColor: badColor.span, into: &output)
            images.append(Image(
                tag: Self.tag(tag, index: i, maxImages: geometry.maxImages), height: geometry.height, width: geometry.width,
                channels: geometry.channels, pixels: pixels))
        }
        return images
    }
}

extension ImageSummary {
    /// A validated `[batch, height, width, channels]` image tensor shape.
    struct Geometry: Equatable {
        var batch: Int
        var height: Int
        var width: Int
        var channels: Int
        var maxImages: Int

        var shape: [Int] { [batch, height, width, channels] }
        /// The images written: `min(maxImages, batch)`.
        var imageCount: Int { Swift.min(maxImages, batch) }
        /// Values per image.
        var imageSize: Int { height * width * channels }

        /// Checks a shape the way TensorFlow's image summary kernel does, plus the cases where
        /// its PNG encoding fails.
        ///
        /// - Parameters:
        ///   - tag: The tag, for errors.
        ///   - shape: The tensor's shape.
        ///   - elementCount: How many values the tensor holds.
        ///   - maxImages: How many images are asked for, at least 1 (the op's `max_images >= 1`).
        init(tag: String, shape: [Int], elementCount: Int, maxImages: Int) throws(SummaryError) {
            precondition(maxImages >= 1, "maxImages must be at least 1")
            guard shape.allSatisfy({ $0 >= 0 }) else {
                throw .unsupportedShape(tag: tag, shape: shape, reason: "has a negative dimension")
            }
            guard shape.count == 4, [1, 3, 4].contains(shape[3]) else {
                // TF: "Tensor must be 4-D with last dim 1, 3, or 4".
                throw .unsupportedShape(tag: tag, shape: shape, reason: "is not [batch, height, width, channels] with 1, 3 or 4 channels")
            }
            let limit = 1 << 31
            guard shape[0] < limit, shape[1] < limit, shape[2] < limit, shape[1] * shape[2] < 1 << 29 else {
                // TF: "Tensor too large for summary".
                throw .unsupportedShape(tag: tag, shape: shape, reason: "is too large for an image summary (height × width must be under 2^29)")
            }
            guard let needed = ImageSummary.product(of: shape), needed == elementCount else {
                throw .unsupportedShape(tag: tag, shape: shape, reason: "does not match the \(elementCount) values given")
            }
            (batch, height, width, channels) = (shape[0], shape[1], shape[2], shape[3])
            self.maxImages = maxImages
            guard imageCount > 0 else { return }
            // png_io.cc's WriteImageToBuffer returns false for an empty image, and libpng's
            // png_check_IHDR refuses sizes over its user limits; TF then fails with
            // "PNG encoding failed".
            guard height > 0, width > 0 else {
                throw .unsupportedShape(tag: tag, shape: shape, reason: "has images without pixels, which PNG cannot hold")
            }
            guard height <= ImageSummary.maximumDimension, width <= ImageSummary.maximumDimension else {
                throw .unsupportedShape(
                    tag: tag, shape: shape, reason: "has images over \(ImageSummary.maximumDimension) pixels high or wide, more than libpng writes")
            }
        }
    }
}
