import Logging
import RingboardFormat
import RingboardRecords
import RingboardSummaries

/// Stage 3: makes the events and files a `SummaryRequest` asks for and hands them to the run's
/// files (stage 4). Histograms and images are made on the pool, each keeping its place in its
/// file; the rest is made here.
struct SummaryMaker {
    let pool: SummaryPool
    let host: String
    let logger: Logger

    /// Makes what `request` asks for in `files`. `tags` is the run's batch scalar tags (staged
    /// batch scalars are handed over before anything else is written).
    func make(_ request: SummaryRequest, in files: inout RunFiles, tags: borrowing [ScalarTag]) throws(EventFileError) {
        switch request {
        case .epochScalars(let scalars, let step, let wallTime):
            for scalar in scalars {
                try files.writer(scalar.validation ? "validation" : "train", wallTime: wallTime, tags: tags)
                    .appendScalar(scalar.tag, value: scalar.value, step: step, wallTime: wallTime)
            }
        case .weights(let model, let epoch, let images, let semantics, let wallTime):
            try weights(model, epoch: epoch, images: images, semantics: semantics, wallTime: wallTime, in: &files, tags: tags)
        case .graph(let graphDef, let kerasJSON, let wallTime):
            let writer = try files.writer("train", wallTime: wallTime, tags: tags)
            if let graphDef { try writer.append(Event(wallTime: wallTime, step: 0, what: .graphDef(graphDef))) }
            if let kerasJSON {
                try writer.append(Event(wallTime: wallTime, step: 0, what: .summary(Summary(values: [KerasModelGraph.summaryValue(modelJSON: kerasJSON)]))))
            }
        case .profile(let spans, let startedAt, let step, let graphDef, let wallTime):
            let runDirectory = files.directory + "/train"
            for suffix in [ProfileTrace.traceSuffix, ProfileTrace.xplaneSuffix] {
                files.fileCreated(ProfileTrace.tracePath(runDirectory: runDirectory, host: host, wallTime: startedAt, suffix: suffix))
            }
            do {
                try files.makeDirectory("train/plugins/profile")
                try ProfileTrace.write(spans: spans, processNames: [0: "trainer"], runDirectory: runDirectory, host: host, wallTime: startedAt,
                                       confinedTo: files.root, threadNames: [0: "hooks"])
            } catch {
                logger.error("profile trace not written", metadata: ["run": "\(files.directory)", "reason": "\(error)"])
            }
            if let graphDef {
                try files.writer("train", wallTime: wallTime, tags: tags).append(ProfileTrace.runMetadataEvent(
                    step: step, spans: spans, graphDef: graphDef, wallTime: wallTime))
            } else {
                logger.notice("profiled batch without a model: its run metadata is not written, only the trace file",
                              metadata: ["run": "\(files.directory)", "step": "\(step)"])
            }
        case .summary(let subdirectory, let tag, let step, _, .embedding(let embedding)):
            self.embedding(embedding, tag: tag, step: step, in: subdirectory, files: &files)
        case .summary(let subdirectory, let tag, let step, let wallTime, let value):
            try summary(value, tag: tag, step: step, wallTime: wallTime, in: try files.writer(subdirectory, wallTime: wallTime, tags: tags),
                        run: files.directory)
        case .mappedHistogram(let subdirectory, let tag, let step, let wallTime, let values):
            let writer = try files.writer(subdirectory, wallTime: wallTime, tags: tags)
            try appendValue(to: writer, step: step, wallTime: wallTime, run: files.directory, tag: tag, what: "histogram") { () throws(SummaryError) in
                // The mapping stays until the values are counted.
                let histogram = try values.withSpan { (values) throws(SummaryError) in try Histogram.summaryWriter(values, tag: tag) }
                return Summary.Value(tag: tag, kind: .histogram(histogram))
            }
        case .embeddings(let embeddings, let keepingTensors, let inTrainRunToo):
            do {
                try files.makeDirectory("train")
                try Projector.write(embeddings, logDirectory: files.directory, confinedTo: files.root, keepingTensors: keepingTensors,
                                    inTrainRunToo: inTrainRunToo)
            } catch {
                logger.error("projector files not written", metadata: ["run": "\(files.directory)", "reason": "\(error)"])
            }
        }
    }

    /// A `SummaryWriter` summary, as torch's `torch.utils.tensorboard.summary` makes it: a
    /// `simple_value` scalar; text as the text plugin's one-string tensor under `<tag>/text_summary`;
    /// a histogram with numpy's counts (`Histogram.summaryWriter`) or as the caller counted it; an
    /// image as PNG (one channel shown as three, as torch's `convert_to_HWC` does). Histograms and
    /// images are made on the pool, in their place in the file.
    private func summary(_ value: SummaryValue, tag: String, step: Int64, wallTime: Double, in writer: EventFileWriter, run: String) throws(EventFileError) {
        switch value {
        case .scalar(let scalar):
            try writer.appendScalar(tag: tag, value: Float(scalar), step: step, wallTime: wallTime)
        case .text(let text):
            let value = Summary.Value(
                tag: tag + "/text_summary", metadata: SummaryMetadata(pluginName: "text"),
                kind: .tensor(.strings([Array(text.utf8)], shape: [1])))
            try writer.append(Event(wallTime: wallTime, step: step, what: .summary(Summary(values: [value]))))
        case .hparams(let set):
            // Three events, as torch's add_hparams writes them: experiment, session start, end.
            func converted(_ value: HParamsSet.Value) -> HParams.Value {
                switch value {
                case .number(let number): .number(number)
                case .string(let string): .string(string)
                case .bool(let flag): .bool(flag)
                }
            }
            let values = HParams.summaryValues(
                set.values.map { ($0.name, converted($0.value)) }, discrete: set.discrete.mapValues { $0.map(converted) },
                metrics: set.metrics)
            for value in values { try writer.append(Event(wallTime: wallTime, step: step, what: .summary(Summary(values: [value])))) }
        case .prCurve(let numThresholds, let columns, let values):
            let value = PRCurves.summaryValue(tag: tag, numThresholds: numThresholds, columns: columns, values: values)
            try writer.append(Event(wallTime: wallTime, step: step, what: .summary(Summary(values: [value]))))
        case .customScalars(let layout):
            let categories = layout.categories.map { category in
                (category.title, category.charts.map { chart -> CustomScalars.Chart in
                    switch chart.content {
                    case .multiline(let tags): .multiline(title: chart.title, tags: tags)
                    case .margin(let value, let lower, let upper): .margin(title: chart.title, value: value, lower: lower, upper: upper)
                    }
                })
            }
            try writer.append(Event(wallTime: wallTime, step: step, what: .summary(Summary(values: [CustomScalars.summaryValue(categories)]))))
        case .tensorScalar(let scalar, let doublePrecision):
            let tensor = doublePrecision ? TensorProto(dtype: .double, doubleValues: [scalar]) : TensorProto(dtype: .float, floatValues: [Float(scalar)])
            let value = Summary.Value(tag: tag, metadata: SummaryMetadata(pluginName: "scalars"), kind: .tensor(tensor))
            try writer.append(Event(wallTime: wallTime, step: step, what: .summary(Summary(values: [value]))))
        case .sessionStart:
            // As torch's writer starts a file with purge_step: a file version and a START, both at the step.
            try writer.append(Event(wallTime: wallTime, step: step, what: .fileVersion("brain.Event:2")))
            try writer.append(Event(wallTime: wallTime, step: step, what: .other(field: 7, bytes: [0x08, 0x01])))  // SessionLog { status START }
        case .audio(let sampleRate, let samples):
            try appendValue(to: writer, step: step, wallTime: wallTime, run: run, tag: tag, what: "audio") { () throws(SummaryError) in
                let frames = switch samples {
                case .float(let samples): AudioSummary.frames(samples)
                case .double(let samples): AudioSummary.frames(samples)
                }
                return AudioSummary.summaryValue(tag: tag, sampleRate: sampleRate, frames: frames)
            }
        case .mesh(let mesh):
            let parts = mesh.components.map { component in
                MeshSummary.Part(content: Int(component.content.rawValue), contentName: component.content.name,
                                 shape: [Int64(component.batch), Int64(component.count), 3], values: component.values)
            }
            // One event of the parts, as torch writes them.
            try writer.append(Event(wallTime: wallTime, step: step, what: .summary(Summary(
                values: MeshSummary.summaryValues(tag: tag, parts: parts, jsonConfig: mesh.jsonConfig)))))
        case .graph(let graphDef, let runMetadata):
            do {
                _ = try GraphDefCheck.nodeCount(in: graphDef)
            } catch {
                logger.warning("graph skipped: not a GraphDef", metadata: ["run": "\(run)", "reason": "\(error)"])
                return
            }
            try writer.append(Event(wallTime: wallTime, step: 0, what: .graphDef(graphDef)))
            if !runMetadata.isEmpty {
                try writer.append(Event(wallTime: wallTime, step: 0, what: .taggedRunMetadata(TaggedRunMetadata(tag: "step1", runMetadata: runMetadata))))
            }
        case .embedding, .inSegment:
            break  // files, not events (`embedding(_:tag:step:in:files:)`); stage 1 reads segments
        case .rawHistogram(let raw):
            let histogram = HistogramProto(min: raw.min, max: raw.max, num: raw.num, sum: raw.sum, sumSquares: raw.sumSquares,
                                           bucketLimit: raw.bucketLimits, bucket: raw.bucketCounts)
            try writer.append(Event(wallTime: wallTime, step: step, what: .summary(Summary(values: [Summary.Value(tag: tag, kind: .histogram(histogram))]))))
        case .histogram(let values):
            try appendValue(to: writer, step: step, wallTime: wallTime, run: run, tag: tag, what: "histogram") { () throws(SummaryError) in
                let histogram = switch values {
                case .float(let values): try Histogram.summaryWriter(values.span, tag: tag)
                case .double(let values): try Histogram.summaryWriter(values.span, tag: tag)
                case .segment: throw .emptyHistogram(tag: tag)  // stage 1 maps these (`mappedHistogram`)
                }
                return Summary.Value(tag: tag, kind: .histogram(histogram))
            }
        case .image(let height, let width, let channels, let pixels):
            try appendValue(to: writer, step: step, wallTime: wallTime, run: run, tag: tag, what: "image") { () throws(SummaryError) in
                // Noise is stored rather than compressed: torch's PNG bytes (Pillow's) are not
                // matched anyway, only its pixels.
                var encoder = PNGEncoder()
                encoder.storesIncompressible = true
                guard channels == 1 else {
                    return try ImageSummary.Image(tag: tag, height: height, width: width, channels: channels, pixels: pixels)
                        .summaryValue(encoder: encoder)
                }
                var rgb = [UInt8](repeating: 0, count: pixels.count * 3)
                for (index, pixel) in pixels.enumerated() { (rgb[3 * index], rgb[3 * index + 1], rgb[3 * index + 2]) = (pixel, pixel, pixel) }
                return try ImageSummary.Image(tag: tag, height: height, width: width, channels: 3, pixels: rgb).summaryValue(encoder: encoder)
            }
        }
    }

    /// `add_embedding`'s files under the writer's directory (`subdirectory` of the run), and its
    /// entry in the directory's projector config. Events written before stay where they are.
    private func embedding(_ embedding: EmbeddingData, tag: String, step: Int64, in subdirectory: String, files: inout RunFiles) {
        let runDirectory = files.path(of: subdirectory)
        do {
            var sprite: (png: [UInt8], imageHeight: Int, imageWidth: Int)?
            if let made = embedding.sprite {
                let png = try PNGEncoder().encode(made.pixels, width: made.side, height: made.side, colorType: .rgb)
                sprite = (png, made.imageHeight, made.imageWidth)
            }
            try Projector.write(
                Projector.LoggedEmbedding(tag: tag, step: step, rows: embedding.rows, columns: embedding.columns, values: embedding.values,
                                          metadata: embedding.metadata, sprite: sprite),
                runDirectory: runDirectory, confinedTo: files.root)
        } catch {
            logger.error("embedding not written", metadata: ["run": "\(runDirectory)", "tag": "\(tag)", "reason": "\(error)"])
        }
    }

    /// Every weight of every layer as a histogram (and an image with `images`), in `train/`, in
    /// the order Keras writes them: each weight's histogram, then its images. A weight holding
    /// NaN or infinity gets no histogram (its image is still written).
    private func weights(
        _ model: RunModel, epoch: Int64, images: Bool, semantics: Semantics, wallTime: Double, in files: inout RunFiles,
        tags: borrowing [ScalarTag]
    ) throws(EventFileError) {
        guard model.layers.contains(where: { !$0.weights.isEmpty }) else { return }
        if semantics == .keras3 {
            try keras3Weights(model, epoch: epoch, images: images, wallTime: wallTime, in: &files, tags: tags)
            return
        }
        let writer = try files.writer("train", wallTime: wallTime, tags: tags)
        let (logger, run) = (self.logger, files.directory)
        for layer in model.layers {
            for weight in layer.weights {
                let tag = ScalarDestination.cleanTag(weight.name.replacingOccurrences(of: ":", with: "_"))
                // Mapped values keep their segment mapped until the closure is done with them.
                let values = weight.values
                try appendValue(to: writer, step: epoch, wallTime: wallTime, run: run, tag: tag, what: "histogram") { () throws(SummaryError) in
                    let histogram = try values.withSpan { (values) throws(SummaryError) in try Histogram.tensorFlow(values, tag: tag) }
                    return Summary.Value(tag: tag, kind: .histogram(histogram))
                }
                guard images else { continue }
                let made: [ImageSummary.Image]?
                do {
                    made = try values.withSpan { (values) throws(SummaryError) in try WeightImage.images(name: tag, shape: weight.shape, values: values) }
                } catch {
                    logger.warning("weight image skipped", metadata: ["run": "\(run)", "tag": "\(tag)", "reason": "\(error)"])
                    continue
                }
                for image in made ?? [] {
                    // PNG encoding (filtering and deflate) is most of an image's cost.
                    try appendValue(to: writer, step: epoch, wallTime: wallTime, run: run, tag: image.tag, what: "weight image") {
                        () throws(SummaryError) in try image.summaryValue()
                    }
                }
            }
        }
    }

    /// Keras 3's `_log_weights`: for each weight, `<path>/histogram` (the TensorBoard 2.x form)
    /// and with `images` `<path>/image` (`tf.summary.image`), the path's `:` replaced by `_`.
    private func keras3Weights(
        _ model: RunModel, epoch: Int64, images: Bool, wallTime: Double, in files: inout RunFiles, tags: borrowing [ScalarTag]
    ) throws(EventFileError) {
        let writer = try files.writer("train", wallTime: wallTime, tags: tags)
        let run = files.directory
        for layer in model.layers {
            for weight in layer.weights {
                let name = weight.name.replacingOccurrences(of: ":", with: "_")
                let (values, shape) = (weight.values, weight.shape)
                let histogramTag = name + "/histogram", imageTag = name + "/image"
                try appendValue(to: writer, step: epoch, wallTime: wallTime, run: run, tag: histogramTag, what: "histogram") {
                    () throws(SummaryError) in
                    try values.withSpan { (values) throws(SummaryError) in try Histogram.tensorBoard(values, tag: histogramTag) }
                }
                guard images else { continue }
                try appendValue(to: writer, step: epoch, wallTime: wallTime, run: run, tag: imageTag, what: "weight image") {
                    () throws(SummaryError) in
                    try values.withSpan { (values) throws(SummaryError) in try WeightImage.tensorBoardValue(tag: imageTag, shape: shape, values: values) }
                }
            }
        }
    }

    /// Makes a summary value on the pool, as an event at `step` in its place in `writer`. A value
    /// that cannot be made is left out, with a warning naming `what` was skipped; `nil` is left
    /// out silently.
    private func appendValue(
        to writer: EventFileWriter, step: Int64, wallTime: Double, run: String, tag: String, what: String,
        _ make: @escaping @Sendable () throws(SummaryError) -> Summary.Value?
    ) throws(EventFileError) {
        let logger = self.logger
        try pool.append(to: writer) {
            do {
                return try make().map { Event(wallTime: wallTime, step: step, what: .summary(Summary(values: [$0]))) }
            } catch {
                logger.warning("\(what) skipped", metadata: ["run": "\(run)", "tag": "\(tag)", "reason": "\(error)"])
                return nil
            }
        }
    }
}
