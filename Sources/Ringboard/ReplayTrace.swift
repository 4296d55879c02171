import Foundation
import RingboardRecords

/// A replay trace (DESIGN §5): JSON lines, the TensorBoard arguments first, then one hook a line,
/// named as Keras names them. The whole file is read and checked before anything is replayed,
/// so a malformed line leaves nothing half-written.
public struct ReplayTrace: Sendable {
    /// The callback's arguments, by their Keras names.
    public var arguments: TensorBoardArguments
    /// The rank, world size and policy the first line names (defaults 0, 1, chief).
    public var rank: Int, worldSize: Int, rankPolicy: RankPolicy
    /// Warnings about accepted, ignored arguments.
    public var warnings: [String]
    /// The hooks, in order.
    public var steps: [Step]

    /// One hook call.
    public enum Step: Sendable {
        case setParams(TrainingParameters)
        case setModel(ModelDescription)
        case setWeights([ModelDescription.Layer])
        case hook(name: String, index: Int?, logs: Logs)
    }

    /// A line that cannot be replayed: its number (from 1) and why.
    public struct LineError: Error, CustomStringConvertible, Sendable {
        /// The line number, from 1.
        public var line: Int
        /// What is wrong.
        public var reason: String
        /// `line N: reason`.
        public var description: String { "line \(line): \(reason)" }
    }

    /// Keras's TensorBoard arguments (TF 2.0).
    static let knownArguments: Set<String> = [
        "log_dir", "histogram_freq", "write_graph", "write_images", "update_freq", "profile_batch",
        "embeddings_freq", "embeddings_metadata",
    ]
    /// Keras 3's further argument. Its values travel in the logs (`batch_steps_per_second`,
    /// `epoch_steps_per_second`), as the Python callback sends them, so it is accepted as it is.
    static let keras3Arguments: Set<String> = ["write_steps_per_second"]
    /// TF 1 arguments TF 2.0 still accepts, with a warning, and ignores.
    static let ignoredArguments: Set<String> = ["write_grads", "batch_size", "embeddings_layer_names", "embeddings_data"]
    static let hooksWithIndex: Set<String> = [
        "on_epoch_begin", "on_epoch_end", "on_batch_begin", "on_batch_end", "on_train_batch_begin", "on_train_batch_end",
        "on_test_batch_begin", "on_test_batch_end", "on_predict_batch_begin", "on_predict_batch_end",
    ]
    static let hooksWithoutIndex: Set<String> = [
        "on_train_begin", "on_train_end", "on_test_begin", "on_test_end", "on_predict_begin", "on_predict_end",
    ]

    /// Parses and checks a whole trace.
    ///
    /// - Parameter text: The JSON-lines text.
    /// - Throws: `LineError` for the first line that is not valid.
    public init(text: String) throws(LineError) {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
            .map { (number: $0.offset + 1, text: $0.element) }
            .filter { !$0.text.allSatisfy(\.isWhitespace) }
        guard !lines.isEmpty else { throw LineError(line: 1, reason: "empty trace: the first line must give the TensorBoard arguments") }
        let first = lines.removeFirst()
        let header = try Self.object(first.text, line: first.number)
        guard let tensorboard = header["tensorboard"] as? [String: Any] else {
            throw LineError(line: first.number, reason: "the first line must be {\"tensorboard\": {...}}")
        }
        let semantics: Semantics
        switch header["semantics"] ?? "tf2.0" {
        case let name as String where Semantics(name: name) != nil: semantics = Semantics(name: name)!
        default: throw LineError(line: first.number, reason: "semantics must be \"tf2.0\" or \"keras3\"")
        }
        (arguments, warnings) = try Self.arguments(tensorboard, semantics: semantics, line: first.number)
        rank = try Self.integer(header["rank"] ?? 0, "rank", line: first.number)
        worldSize = try Self.integer(header["world_size"] ?? 1, "world_size", line: first.number)
        guard worldSize >= 1, worldSize <= HookRecord.maximumWorldSize else {
            throw LineError(line: first.number, reason: "world_size \(worldSize) is not between 1 and \(HookRecord.maximumWorldSize)")
        }
        guard rank >= 0, rank < worldSize else {
            throw LineError(line: first.number, reason: "rank \(rank) is not in 0..<world_size \(worldSize)")
        }
        switch header["rank_policy"] as? String ?? "chief" {
        case "chief": rankPolicy = .chief
        case "mean": rankPolicy = .mean
        case "per_rank": rankPolicy = .perRank
        case let other: throw LineError(line: first.number, reason: "rank_policy \"\(other)\" is not chief, mean or per_rank")
        }
        steps = []
        for (number, text) in lines {
            let step = try Self.step(try Self.object(text, line: number), line: number)
            try Self.check(step, arguments: arguments, line: number)
            steps.append(step)
        }
    }

    /// Parses and checks a whole trace read from a file: as `init(text:)`, and every line must be
    /// UTF-8.
    ///
    /// - Parameter bytes: The file's contents.
    /// - Throws: `LineError` for the first line that is not valid, an invalid UTF-8 line included.
    public init(bytes: [UInt8]) throws(LineError) {
        if let text = String(validating: bytes, as: UTF8.self) {
            try self.init(text: text)
            return
        }
        let (line, lineStart, column) = Self.firstInvalidUTF8(bytes)
        // The lines before it come first: if one of them is not valid, that is the error.
        let before = bytes[..<lineStart]
        if before.contains(where: { !Character(Unicode.Scalar($0)).isWhitespace }) {
            _ = try ReplayTrace(text: String(decoding: before, as: UTF8.self))
        }
        throw LineError(line: line, reason: "not UTF-8 (an invalid byte at column \(column))")
    }

    /// Where the first byte that is not UTF-8 is: its line (from 1), the offset where that line
    /// starts, and its column (bytes from 1).
    private static func firstInvalidUTF8(_ bytes: [UInt8]) -> (line: Int, lineStart: Int, column: Int) {
        var parser = Unicode.UTF8.ForwardParser()
        var iterator = bytes.makeIterator()
        var offset = 0, line = 1, lineStart = 0
        while true {
            switch parser.parseScalar(from: &iterator) {
            case .valid(let scalar):
                if scalar.count == 1 && scalar.first == 0x0a {
                    line += 1
                    lineStart = offset + 1
                }
                offset += scalar.count
            case .error:
                return (line, lineStart, offset - lineStart + 1)
            case .emptyInput:
                return (line, lineStart, offset - lineStart + 1)
            }
        }
    }

    /// The errors the callback itself would raise, found before anything is replayed.
    private static func check(_ step: Step, arguments: TensorBoardArguments, line: Int) throws(LineError) {
        switch step {
        case .setParams(let params):
            if arguments.histogramFrequency > 0 && !params.doValidation {
                throw LineError(line: line, reason: ConfigurationError.histogramsNeedValidationData(
                    histogramFrequency: Int(arguments.histogramFrequency)).description)
            }
        case .setModel(let model):
            if case .perLayer(let files) = arguments.embeddingsMetadata {
                let embeddingLayers = Set(model.layers.filter { $0.className == "Embedding" }.map(\.name))
                let unknown = files.keys.filter { !embeddingLayers.contains($0) }
                if !unknown.isEmpty {
                    throw LineError(line: line, reason: ConfigurationError.unrecognizedEmbeddingLayers(unknown).description)
                }
            }
        case .setWeights, .hook:
            break
        }
    }

    private static func object(_ text: Substring, line: Int) throws(LineError) -> [String: Any] {
        guard text.utf8.count <= 64 << 20 else { throw LineError(line: line, reason: "line longer than 64 MiB") }
        let parsed: Any
        do {
            parsed = try JSONSerialization.jsonObject(with: Data(text.utf8), options: [])
        } catch {
            // Foundation's own words say what and where ("Invalid value around character 6.").
            let error = error as NSError
            let detail = error.userInfo[NSDebugDescriptionErrorKey] as? String ?? error.localizedDescription
            throw LineError(line: line, reason: "not valid JSON (\(detail))")
        }
        guard let object = parsed as? [String: Any] else { throw LineError(line: line, reason: "not a JSON object") }
        return object
    }

    private static func arguments(
        _ object: [String: Any], semantics: Semantics, line: Int
    ) throws(LineError) -> (TensorBoardArguments, [String]) {
        let accepted = semantics == .keras3 ? knownArguments.union(keras3Arguments) : knownArguments.union(ignoredArguments)
        let unknown = object.keys.filter { !accepted.contains($0) }
        if !unknown.isEmpty {
            throw LineError(line: line, reason: ConfigurationError.unrecognizedArguments(unknown).description)
        }
        let warnings = object.keys.filter { ignoredArguments.contains($0) }.sorted()
            .map { "`\($0)` is a TF 1 argument of the TensorBoard callback: accepted and ignored" }
        var arguments = TensorBoardArguments(semantics: semantics)
        if let value = object["log_dir"] {
            guard let path = value as? String else { throw LineError(line: line, reason: "log_dir must be a string") }
            arguments.logDirectory = path
        }
        arguments.histogramFrequency = Int64(try integer(object["histogram_freq"] ?? 0, "histogram_freq", line: line, minimum: 0))
        arguments.writeGraph = try boolean(object["write_graph"] ?? true, "write_graph", line: line)
        arguments.writeImages = try boolean(object["write_images"] ?? false, "write_images", line: line)
        switch object["update_freq"] ?? "epoch" {
        case let text as String where text == "epoch": arguments.updateFrequency = .epoch
        case let text as String where text == "batch": arguments.updateFrequency = .batch
        case let value where !(value is String) && !isBoolean(value) && semantics == .keras3:
            // Keras 3 writes at every batch whose count update_freq divides.
            let batches = try integer(value, "update_freq", line: line, minimum: 1)
            arguments.updateFrequency = batches == 1 ? .batch : .samples(Int64(batches))
        case let value where !(value is String) && !isBoolean(value):
            // TF 2.0 compares samples since the last write with update_freq: 0 writes every batch.
            let samples = try integer(value, "update_freq", line: line, minimum: 0)
            arguments.updateFrequency = samples <= 1 ? .batch : .samples(Int64(samples))
        default:
            throw LineError(line: line, reason: "update_freq must be \"batch\", \"epoch\" or an integer ≥ \(semantics == .keras3 ? 1 : 0)")
        }
        // Keras 3 profiles no batch unless asked.
        let profileDefault = semantics == .keras3 ? 0 : 2
        arguments.profileBatch = Int64(try integer(object["profile_batch"] ?? profileDefault, "profile_batch", line: line, minimum: 0))
        arguments.embeddingsFrequency = Int64(try integer(object["embeddings_freq"] ?? 0, "embeddings_freq", line: line, minimum: 0))
        switch object["embeddings_metadata"] {
        case nil, is NSNull: arguments.embeddingsMetadata = nil
        case let path as String: arguments.embeddingsMetadata = .all(path)
        case let files as [String: Any]:
            var metadata: [String: String] = [:]
            for (layer, path) in files {
                guard let path = path as? String else { throw LineError(line: line, reason: "embeddings_metadata[\(layer)] must be a string") }
                metadata[layer] = path
            }
            arguments.embeddingsMetadata = .perLayer(metadata)
        default: throw LineError(line: line, reason: "embeddings_metadata must be a string or an object of strings")
        }
        do {
            // Resolved against the working directory when the callback is made; checked here.
            _ = try HookRecord.runDirectory(arguments.logDirectory, in: "/")
        } catch {
            throw LineError(line: line, reason: error.description)
        }
        return (arguments, warnings)
    }

    private static func step(_ object: [String: Any], line: Int) throws(LineError) -> Step {
        guard let hook = object["hook"] as? String else { throw LineError(line: line, reason: "no \"hook\" name") }
        switch hook {
        case "set_params":
            guard let params = object["params"] as? [String: Any] else { throw LineError(line: line, reason: "set_params needs \"params\"") }
            func optional(_ key: String) throws(LineError) -> Int? {
                guard let value = params[key], !(value is NSNull) else { return nil }
                return try integer(value, key, line: line, minimum: 0)
            }
            return .setParams(TrainingParameters(
                batchSize: try optional("batch_size"), epochs: try optional("epochs"), steps: try optional("steps"),
                samples: try optional("samples"), doValidation: try boolean(params["do_validation"] ?? false, "do_validation", line: line),
                metrics: params["metrics"] as? [String] ?? []))
        case "set_model":
            guard let model = object["model"] as? [String: Any] else { throw LineError(line: line, reason: "set_model needs \"model\"") }
            var graphDef: [UInt8] = []
            if let encoded = model["graph_def"] as? String {
                guard let data = Data(base64Encoded: encoded) else { throw LineError(line: line, reason: "graph_def must be base64") }
                graphDef = Array(data)
            }
            var modelJSON: String?
            if let json = model["json"], !(json is NSNull) {
                if let text = json as? String {
                    modelJSON = text
                } else if let object = json as? [String: Any], let text = serialized(object) {
                    modelJSON = text
                } else {
                    throw LineError(line: line, reason: "the model's \"json\" must be a JSON object or a string holding one")
                }
            }
            return .setModel(ModelDescription(
                name: model["name"] as? String ?? "model", layers: try layers(model["layers"], line: line),
                modelJSON: modelJSON, graphDef: graphDef))
        case "set_weights":
            return .setWeights(try layers(object["layers"], line: line))
        case let name where hooksWithIndex.contains(name):
            let key = name.contains("epoch") ? "epoch" : "batch"
            guard let value = object[key] else { throw LineError(line: line, reason: "\(name) needs \"\(key)\"") }
            return .hook(name: name, index: try integer(value, key, line: line, minimum: 0), logs: try logs(object["logs"], line: line))
        case "on_test_end" where object["iterations"] != nil:
            // Keras 3: the optimizer's iterations, -1 for a model without an optimizer.
            let iterations = try integer(object["iterations"]!, "iterations", line: line, minimum: -1)
            return .hook(name: "on_test_end", index: iterations, logs: try logs(object["logs"], line: line))
        case let name where hooksWithoutIndex.contains(name):
            return .hook(name: name, index: nil, logs: try logs(object["logs"], line: line))
        default:
            throw LineError(line: line, reason: "unknown hook \"\(hook)\"")
        }
    }

    private static func layers(_ value: Any?, line: Int) throws(LineError) -> [ModelDescription.Layer] {
        guard let layers = value as? [[String: Any]] else { throw LineError(line: line, reason: "\"layers\" must be a list of objects") }
        var result: [ModelDescription.Layer] = []
        for layer in layers {
            guard let name = layer["name"] as? String, !name.isEmpty else { throw LineError(line: line, reason: "a layer without a name") }
            var configJSON: String?
            if let config = layer["config"], !(config is NSNull) {
                guard let object = config as? [String: Any], let text = serialized(object) else {
                    throw LineError(line: line, reason: "layer \(name): \"config\" must be a JSON object")
                }
                configJSON = text
            }
            var weights: [ModelDescription.Weight] = []
            for weight in layer["weights"] as? [[String: Any]] ?? [] {
                guard let weightName = weight["name"] as? String, let shape = weight["shape"] as? [Any], let values = weight["values"] as? [Any]
                else { throw LineError(line: line, reason: "layer \(name): a weight needs \"name\", \"shape\" and \"values\"") }
                var dimensions: [Int] = []
                for dimension in shape { dimensions.append(try integer(dimension, "shape of \(weightName)", line: line, minimum: 0)) }
                var floats: [Float] = []
                floats.reserveCapacity(values.count)
                for value in values {
                    guard let number = number(value) else {
                        throw LineError(line: line, reason: "weight \(weightName): values must be numbers")
                    }
                    floats.append(Float(number))
                }
                guard let needed = ModelDescription.elementCount(dimensions) else {
                    throw LineError(line: line, reason: "weight \(weightName): shape \(dimensions) is too large")
                }
                guard needed == floats.count else {
                    throw LineError(line: line, reason: "weight \(weightName): shape \(dimensions) needs \(needed) values, not \(floats.count)")
                }
                weights.append(ModelDescription.Weight(name: weightName, shape: dimensions, values: floats))
            }
            result.append(ModelDescription.Layer(name: name, className: layer["class_name"] as? String ?? "Layer",
                                                 configJSON: configJSON, weights: weights))
        }
        return result
    }

    private static func logs(_ value: Any?, line: Int) throws(LineError) -> Logs {
        guard let value, !(value is NSNull) else { return Logs() }
        guard let object = value as? [String: Any] else { throw LineError(line: line, reason: "\"logs\" must be an object") }
        var entries: [(name: String, value: Double)] = []
        for (name, value) in object.sorted(by: { $0.key < $1.key }) {
            guard let number = number(value) else {
                throw LineError(line: line, reason: "logs[\"\(name)\"] must be a number")
            }
            if name == "size" || name == "batch" {
                guard number >= 0, number == number.rounded(), number < 9e15 else {
                    throw LineError(line: line, reason: "logs[\"\(name)\"] must be a non-negative integer, not \(number)")
                }
            }
            entries.append((name, number))
        }
        return Logs(entries)
    }

    /// A parsed JSON object as compact text with sorted keys (`nil` if it holds something JSON
    /// cannot write, which a parsed object never does).
    private static func serialized(_ object: [String: Any]) -> String? {
        guard JSONSerialization.isValidJSONObject(object),
              let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        else { return nil }
        return String(decoding: data, as: UTF8.self)
    }

    /// A JSON number, or one of the strings strict JSON needs for the others: "NaN",
    /// "Infinity", "-Infinity", "-0.0".
    private static func number(_ value: Any) -> Double? {
        switch value {
        case let text as String:
            switch text {
            case "NaN": .nan
            case "Infinity": .infinity
            case "-Infinity": -.infinity
            case "-0.0": -0.0
            default: nil
            }
        case let number as NSNumber where !isBoolean(value): number.doubleValue
        default: nil
        }
    }

    private static func integer(_ value: Any, _ name: String, line: Int, minimum: Int = .min) throws(LineError) -> Int {
        guard let number = value as? NSNumber, !isBoolean(value), number.doubleValue == number.doubleValue.rounded(),
              abs(number.doubleValue) < 9.0e15, number.intValue >= minimum
        else { throw LineError(line: line, reason: "\(name) must be an integer\(minimum > .min ? " ≥ \(minimum)" : "")") }
        return number.intValue
    }

    private static func boolean(_ value: Any, _ name: String, line: Int) throws(LineError) -> Bool {
        guard isBoolean(value), let flag = value as? Bool else { throw LineError(line: line, reason: "\(name) must be true or false") }
        return flag
    }

    /// Whether a parsed JSON value is `true` or `false` (Foundation bridges 0 and 1 to `Bool` too,
    /// so `is Bool` cannot tell them apart).
    private static func isBoolean(_ value: Any) -> Bool {
        if let number = value as? NSNumber { return String(cString: number.objCType) == "c" }
        return value is Bool
    }
}

extension ReplayTrace {
    /// Plays the trace through a callback, as Keras would call it.
    ///
    /// - Parameters:
    ///   - callback: The callback.
    ///   - progress: Called with the steps played and their total every 4096 steps, and once
    ///     at the end.
    /// - Throws: `ConfigurationError` from `setParams` or `setModel`.
    public func replay(
        into callback: TensorBoard, progress: (_ done: Int, _ total: Int) -> Void = { _, _ in }
    ) throws(ConfigurationError) {
        defer { progress(steps.count, steps.count) }
        for (number, step) in steps.enumerated() {
            if number & 4095 == 4095 { progress(number, steps.count) }
            switch step {
            case .setParams(let params): try callback.setParams(params)
            case .setModel(let model): try callback.setModel(model)
            case .setWeights(let layers): callback.setWeights(layers)
            case .hook(let name, let index, let logs):
                let i = index ?? 0
                switch name {
                case "on_train_begin": callback.onTrainBegin(logs: logs)
                case "on_train_end": callback.onTrainEnd(logs: logs)
                case "on_epoch_begin": callback.onEpochBegin(i, logs: logs)
                case "on_epoch_end": callback.onEpochEnd(i, logs: logs)
                case "on_batch_begin", "on_train_batch_begin": callback.onTrainBatchBegin(i, logs: logs)
                case "on_batch_end", "on_train_batch_end": callback.onTrainBatchEnd(i, logs: logs)
                case "on_test_begin": callback.onTestBegin(logs: logs)
                case "on_test_end": callback.onTestEnd(logs: logs, iterations: index.flatMap { $0 >= 0 ? $0 : nil })
                case "on_test_batch_begin": callback.onTestBatchBegin(i, logs: logs)
                case "on_test_batch_end": callback.onTestBatchEnd(i, logs: logs)
                case "on_predict_begin": callback.onPredictBegin(logs: logs)
                case "on_predict_end": callback.onPredictEnd(logs: logs)
                case "on_predict_batch_begin": callback.onPredictBatchBegin(i, logs: logs)
                case "on_predict_batch_end": callback.onPredictBatchEnd(i, logs: logs)
                default: break
                }
            }
        }
    }
}
