internal import RingboardSystem

/// The embedding projector's files (`embeddings_freq`): `<log_dir>/projector_config.pbtxt` naming
/// each Embedding layer's tensor, and the tensor's values as TSV under `<log_dir>/train/`, a form
/// TensorBoard's projector reads without TensorFlow (`tensor_path`, resolved relative to the
/// config's directory).
///
/// TF 2.0's callback writes the config once (`_configure_embeddings`) and a checkpoint at every
/// `embeddings_freq` epoch; here each write replaces the TSV whole, so the projector always shows
/// the latest values.
public enum Projector {
    /// The config file name TensorBoard looks for in a run directory and in the log directory.
    public static let configFileName = "projector_config.pbtxt"

    /// One embedding: a tensor of `rows` × `columns` values.
    public struct Embedding: Sendable, Equatable {
        /// The tensor's name, e.g. `embedding/embeddings:0` (TF 2.0 uses the variable's name).
        public var tensorName: String
        /// Rows (vocabulary size).
        public var rows: Int
        /// Columns (embedding dimension).
        public var columns: Int
        /// The `embeddings_metadata` file for this layer, relative to the log directory; `nil` for none.
        public var metadataPath: String?

        /// Describes an embedding.
        ///
        /// - Parameters:
        ///   - tensorName: The tensor's name.
        ///   - rows: Rows.
        ///   - columns: Columns.
        ///   - metadataPath: The metadata file, relative to the log directory.
        public init(tensorName: String, rows: Int, columns: Int, metadataPath: String? = nil) {
            self.tensorName = tensorName
            self.rows = rows
            self.columns = columns
            self.metadataPath = metadataPath
        }

        /// The TSV's file name: `<tensor name, '/', ':' and NUL as '_'>.tsv` (a NUL would cut
        /// the path short where the system reads it).
        public var tensorFileName: String {
            String(tensorName.map { $0 == "/" || $0 == ":" || $0 == "\0" ? "_" : $0 }) + ".tsv"
        }

        /// Where the TSV goes, relative to the log directory: `train/<tensorFileName>`.
        public var tensorPath: String { "train/" + tensorFileName }
    }

    /// The `ProjectorConfig` in protobuf text format (tensorboard/plugins/projector/projector_config.proto).
    ///
    /// - Parameter embeddings: The embeddings.
    /// - Returns: The text.
    ///   - inTrainRun: Paths relative to the log directory's `train/` run, for a copy of the
    ///     config there (`trainRunConfig`), rather than to the log directory.
    public static func configText(_ embeddings: [Embedding], inTrainRun: Bool = false) -> String {
        var text = ""
        for embedding in embeddings {
            text += "embeddings {\n"
            text += "  tensor_name: \(textFormatString(embedding.tensorName))\n"
            if let metadataPath = embedding.metadataPath {
                let path = inTrainRun && !metadataPath.hasPrefix("/") ? "../" + metadataPath : metadataPath
                text += "  metadata_path: \(textFormatString(path))\n"
            }
            text += "  tensor_shape: \(embedding.rows)\n  tensor_shape: \(embedding.columns)\n"
            text += "  tensor_path: \(textFormatString(inTrainRun ? embedding.tensorFileName : embedding.tensorPath))\n"
            text += "}\n"
        }
        return text
    }

    /// Where `write(_:logDirectory:confinedTo:keepingTensors:inTrainRunToo:)` puts a copy of the
    /// config, relative to the log directory.
    public static let trainRunConfig = "train/" + configFileName

    /// The values as TSV: one row per line, columns separated by tabs, each value printed so that
    /// it reads back as the same Float32.
    ///
    /// - Parameters:
    ///   - values: `rows × columns` values, row-major.
    ///   - columns: The row length.
    /// - Returns: The TSV text.
    public static func tsv(_ values: [Float], columns: Int) -> String {
        precondition(columns > 0 && values.count % columns == 0, "values must fill whole rows")
        var text = ""
        text.reserveCapacity(values.count * 12)
        for (index, value) in values.enumerated() {
            text += value.isFinite ? "\(value)" : (value.isNaN ? "nan" : (value < 0 ? "-inf" : "inf"))
            text += (index + 1) % columns == 0 ? "\n" : "\t"
        }
        return text
    }

    /// Writes the config into `logDirectory` and each embedding's TSV, each file replaced whole.
    ///
    /// TensorBoard's projector reads a config from the directory it was started on and from each
    /// run directory (a directory with event files), not from the directories between: started on
    /// the parent of several `log_dir`s (a `.perRank` run's `rank_<r>/`), it would find none and
    /// say "No checkpoint was found". With `inTrainRunToo` a copy goes into `train/` too, its
    /// paths relative to it, so the projector shows the embeddings under each `rank_<r>/train`.
    ///
    /// - Parameters:
    ///   - embeddings: Each embedding with its row-major values.
    ///   - logDirectory: The callback's `log_dir`.
    ///   - root: A directory `logDirectory` lies below (or is), the log root: the directories
    ///     from it down are made, or opened, one by one, following no symbolic link. `nil` for
    ///     `logDirectory` itself.
    ///   - keepingTensors: Leave a TSV that exists as it is (the config is written all the same).
    ///   - inTrainRunToo: Also write the config into `train/` (`trainRunConfig`).
    /// - Throws: `SummaryFileError` when a file cannot be written (`.outsideRoot` when
    ///   `logDirectory` is not below `root`).
    public static func write(
        _ embeddings: [(Embedding, [Float])], logDirectory: String, confinedTo root: String? = nil, keepingTensors: Bool = false,
        inTrainRunToo: Bool = false
    ) throws(SummaryFileError) {
        let root = root ?? logDirectory
        let tensorPaths = try embeddings.map { (embedding, _) throws(SummaryFileError) in
            try SummaryFileError.path(embedding.tensorPath, in: logDirectory, confinedTo: root)
        }
        let configPath = try SummaryFileError.path(configFileName, in: logDirectory, confinedTo: root)
        let trainConfigPath = inTrainRunToo ? try SummaryFileError.path(trainRunConfig, in: logDirectory, confinedTo: root) : nil
        do {
            for ((embedding, values), path) in zip(embeddings, tensorPaths) {
                precondition(values.count == embedding.rows * embedding.columns, "values must be rows × columns")
                // `path` is relative to `root`.
                if keepingTensors, case .success = Syscalls.linkStatus(root + "/" + path) { continue }
                try AtomicFile.replace(path, under: root, with: [Array(tsv(values, columns: embedding.columns).utf8)])
            }
            if let trainConfigPath {
                try AtomicFile.replace(trainConfigPath, under: root, with: [Array(configText(embeddings.map(\.0), inTrainRun: true).utf8)])
            }
            try AtomicFile.replace(configPath, under: root, with: [Array(configText(embeddings.map(\.0)).utf8)])
        } catch {
            throw SummaryFileError(error)
        }
    }

    /// A protobuf text-format string literal (C-style escapes, as `text_format` reads them).
    static func textFormatString(_ string: String) -> String {
        var out = "\""
        for byte in string.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out += "\\\""
            case UInt8(ascii: "\\"): out += "\\\\"
            case UInt8(ascii: "\n"): out += "\\n"
            case 0x20..<0x7f: out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let octal = String(byte, radix: 8)
                out += "\\" + String(repeating: "0", count: 3 - octal.count) + octal
            }
        }
        return out + "\""
    }
}

extension Projector {
    /// An embedding `SummaryWriter.add_embedding` logged: its files go under `<run>/<directory>/`,
    /// its entry into the run's `projector_config.pbtxt`, as torch writes them.
    public struct LoggedEmbedding: Sendable {
        public var tag: String
        public var step: Int64
        public var rows: Int
        public var columns: Int
        public var values: [Float]
        /// `metadata.tsv`'s text, or `nil`.
        public var metadata: String?
        /// The sprite as PNG and one image's height and width, or `nil`.
        public var sprite: (png: [UInt8], imageHeight: Int, imageWidth: Int)?

        public init(tag: String, step: Int64, rows: Int, columns: Int, values: [Float], metadata: String?,
                    sprite: (png: [UInt8], imageHeight: Int, imageWidth: Int)?) {
            self.tag = tag
            self.step = step
            self.rows = rows
            self.columns = columns
            self.values = values
            self.metadata = metadata
            self.sprite = sprite
        }

        /// torch's `<global_step, zero-filled to 5>/<tag with %, / and \ percent-encoded>`; a tag
        /// of `.` or `..` (which torch writes into the step's directory or the log directory
        /// itself) with its dots encoded too.
        public var directory: String {
            let digits = String(step.magnitude)
            let padded = String(repeating: "0", count: max(0, (step < 0 ? 4 : 5) - digits.count)) + digits
            var tag = ""
            for character in self.tag {
                switch character {
                case "%": tag += "%25"
                case "/": tag += "%2f"
                case "\\": tag += "%5c"
                default: tag.append(character)
                }
            }
            if tag == "." || tag == ".." { tag = String(repeating: "%2e", count: tag.count) }
            return (step < 0 ? "-" : "") + padded + "/" + tag
        }

        /// The config's entry, as protobuf's text format prints an `EmbeddingInfo` (fields in
        /// number order).
        public var configEntry: String {
            let directory = self.directory
            var text = "embeddings {\n"
            text += "  tensor_name: \(textFormatString(tag + ":" + directory.prefix { $0 != "/" }))\n"
            if metadata != nil { text += "  metadata_path: \(textFormatString(directory + "/metadata.tsv"))\n" }
            if let sprite {
                text += "  sprite {\n    image_path: \(textFormatString(directory + "/sprite.png"))\n"
                text += "    single_image_dim: \(sprite.imageWidth)\n    single_image_dim: \(sprite.imageHeight)\n  }\n"
            }
            text += "  tensor_path: \(textFormatString(directory + "/tensors.tsv"))\n}\n"
            return text
        }
    }

    /// Writes a logged embedding's files (each replaced whole), then adds its entry to the run's
    /// config unless the config holds it already: a record written twice (replayed after a crash)
    /// leaves one entry. Entries of earlier writers stay (torch's writer rewrites the config
    /// with its own entries only).
    ///
    /// - Parameters:
    ///   - embedding: The embedding.
    ///   - runDirectory: The writer's directory.
    ///   - root: A directory `runDirectory` lies below (or is); nothing outside it is touched.
    public static func write(_ embedding: LoggedEmbedding, runDirectory: String, confinedTo root: String) throws(SummaryFileError) {
        let directory = embedding.directory
        let tensorsPath = try SummaryFileError.path(directory + "/tensors.tsv", in: runDirectory, confinedTo: root)
        let metadataPath = try SummaryFileError.path(directory + "/metadata.tsv", in: runDirectory, confinedTo: root)
        let spritePath = try SummaryFileError.path(directory + "/sprite.png", in: runDirectory, confinedTo: root)
        let configPath = try SummaryFileError.path(configFileName, in: runDirectory, confinedTo: root)
        do {
            // torch prints each value as Python prints the float it is (`str(i.item())`).
            var text = ""
            text.reserveCapacity(embedding.values.count * 20)
            for (index, value) in embedding.values.enumerated() {
                text += value.isFinite ? "\(Double(value))" : (value.isNaN ? "nan" : (value < 0 ? "-inf" : "inf"))
                text += (index + 1) % embedding.columns == 0 ? "\n" : "\t"
            }
            try AtomicFile.replace(tensorsPath, under: root, with: [Array(text.utf8)])
            if let metadata = embedding.metadata { try AtomicFile.replace(metadataPath, under: root, with: [Array(metadata.utf8)]) }
            if let sprite = embedding.sprite { try AtomicFile.replace(spritePath, under: root, with: [sprite.png]) }
            let entry = embedding.configEntry
            let existing = try AtomicFile.contents(of: configPath, under: root).map { String(decoding: $0, as: UTF8.self) } ?? ""
            // Entries start at a line's start and end with a `}` line of their own, so a match is a whole entry.
            if !("\n" + existing).contains("\n" + entry) {
                try AtomicFile.replace(configPath, under: root, with: [Array((existing + entry).utf8)])
            }
        } catch {
            throw SummaryFileError(error)
        }
    }
}
