import ArgumentParser
import Foundation
import Logging
import Ringboard
import RingboardAggregator
import RingboardRecords
import RingboardRing

extension RingboardCommand {
    /// `ringboard demo`: K trainer processes of a small real model, each logging through the
    /// TensorBoard callback into its ring, and one aggregator writing the log directory.
    struct Demo: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Train a small model in several processes, log it as the Keras TensorBoard callback does, inspect the logs.",
            discussion: """
                Each process trains a bag-of-words classifier (an Embedding layer, mean pooling, a \
                Dense output) on its own shard of synthetic data, with validation, weight \
                histograms and images every epoch, embeddings for the projector, the Keras model \
                graph and a profiled batch. With one process the run is written to LOGDIR; with \
                more, each rank gets its own run, LOGDIR/rank_<r>.

                Examples:
                  ringboard demo
                  ringboard demo --logdir logs/demo --procs 4 --epochs 10
                  .venv/bin/tensorboard --logdir logs/ringboard-demo
                """
        )

        @Option(help: "Where to write the event files.")
        var logdir = "logs/ringboard-demo"

        @Option(help: "Trainer processes.")
        var procs = 2

        @Option(help: "Training epochs.")
        var epochs = 5

        @Option(help: "Batches per epoch.")
        var steps = 50

        func validate() throws {
            guard procs >= 1, procs <= 16 else { throw ValidationError("--procs must be between 1 and 16") }
            guard epochs >= 1, epochs <= 10_000 else { throw ValidationError("--epochs must be between 1 and 10000") }
            guard steps >= 1, steps <= 1_000_000 else { throw ValidationError("--steps must be between 1 and 1000000") }
        }

        func run() throws {
            let ringDirectory = "/dev/shm/ringboard-demo-\(getpid())"
            defer { try? FileManager.default.removeItem(atPath: ringDirectory) }
            var logger = Logger(label: "ringboard.demo")
            logger.logLevel = .warning
            let aggregator: Aggregator
            do {
                aggregator = try Aggregator(options: Aggregator.Options(logRoot: logdir, ringDirectory: ringDirectory), logger: logger)
            } catch {
                printError("demo", error.description)
                throw ExitCode(1)
            }
            let stop = StopSignal()
            let thread = Thread {
                aggregator.run { stop.isSet }
                stop.finished()
            }
            thread.start()

            print("demo: \(procs) trainer process\(procs == 1 ? "" : "es"), \(epochs) epochs × \(steps) batches, logging to \(logdir)")
            flushStandardOutput()
            let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
            var children: [Process] = []
            for rank in 0..<procs {
                let process = Process()
                process.executableURL = executable
                process.arguments = ["demo-trainer", "--rank", "\(rank)", "--procs", "\(procs)", "--epochs", "\(epochs)",
                                     "--steps", "\(steps)", "--ring-dir", ringDirectory, "--logdir", logdir]
                try process.run()
                children.append(process)
            }
            var failed = false
            for child in children {
                child.waitUntilExit()
                failed = failed || child.terminationStatus != 0
            }
            // The trainers closed their rings; the aggregator retires each once it is in the files.
            let deadline = Date().addingTimeInterval(60)
            while (try? FileManager.default.contentsOfDirectory(atPath: ringDirectory))?.contains(where: { $0.hasSuffix(".ring") }) == true,
                  Date() < deadline {
                usleep(20_000)
            }
            stop.set()
            stop.waitUntilFinished(if: true)
            if failed {
                printError("demo", "a trainer process failed")
                throw ExitCode(1)
            }
            print("")
            try Inspect.parse([logdir, "--no-files"]).run()
            print("\nOpen it with: .venv/bin/tensorboard --logdir \(logdir)   (or any tensorboard)")
        }
    }

    /// One trainer process of the demo (not for direct use).
    struct DemoTrainer: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "demo-trainer", shouldDisplay: false)

        @Option var rank: Int
        @Option var procs: Int
        @Option var epochs: Int
        @Option var steps: Int
        @Option var ringDir: String
        /// The run's `log_dir`, as Keras takes it.
        @Option var logdir: String
        /// `chief`, `mean` or `per-rank`; by default `chief` for one process, else `per-rank`.
        @Option var policy: String?
        /// The ring's data bytes (small rings make the trainer spill while the aggregator lags).
        @Option var ringCapacity: Int?
        /// Print `epoch <n> sent` once each epoch's hooks are in the ring (any rank).
        @Flag var printEpochs = false

        func run() throws {
            let rankPolicy: RankPolicy = switch policy {
            case "chief": .chief
            case "mean": .mean
            case "per-rank": .perRank
            case nil: procs == 1 ? .chief : .perRank
            default: throw ValidationError("--policy must be chief, mean or per-rank")
            }
            var ringOptions = RingWriter.Options()
            if let ringCapacity { ringOptions.capacity = ringCapacity }
            let callback = try TensorBoard(
                logDir: logdir, histogramFreq: 1, writeImages: true, updateFreq: .batch, profileBatch: 2, embeddingsFreq: 1,
                rank: rank, worldSize: procs, rankPolicy: rankPolicy, ringDirectory: ringDir, ringOptions: ringOptions)
            var model = BagOfWordsModel(seed: UInt64(rank + 1))
            var data = SplitMix64(seed: 1000 + UInt64(rank))
            let batchSize = 32
            let validation = (0..<256).map { _ in model.sample(&data) }
            try callback.setParams(TrainingParameters(batchSize: batchSize, epochs: epochs, steps: steps,
                                                      samples: steps * batchSize, doValidation: true,
                                                      metrics: ["loss", "accuracy", "val_loss", "val_accuracy"]))
            try callback.setModel(model.description)
            var logs = callback.batchLogs(["batch", "size", "loss", "accuracy"])
            callback.onTrainBegin(logs: [:])
            for epoch in 0..<epochs {
                callback.onEpochBegin(epoch, logs: [:])
                var epochLoss = 0.0, epochAccuracy = 0.0
                for batch in 0..<steps {
                    callback.onTrainBatchBegin(batch, logs: ["batch": Double(batch), "size": Double(batchSize)])
                    // Timed for the profiled batch's trace (the profile dashboard's trace viewer).
                    let examples = callback.span("load_batch") { (0..<batchSize).map { _ in model.sample(&data) } }
                    let (loss, accuracy) = callback.span("train_step") { model.train(examples, learningRate: 0.5) }
                    logs[0] = Double(batch)
                    logs[1] = Double(batchSize)
                    logs[2] = loss
                    logs[3] = accuracy
                    callback.onTrainBatchEnd(batch, logs: logs)
                    epochLoss += loss
                    epochAccuracy += accuracy
                }
                let (validationLoss, validationAccuracy) = model.evaluate(validation)
                callback.setWeights(model.description.layers)
                callback.onEpochEnd(epoch, logs: Logs([
                    ("loss", epochLoss / Double(steps)), ("accuracy", epochAccuracy / Double(steps)),
                    ("val_loss", validationLoss), ("val_accuracy", validationAccuracy),
                ]))
                if printEpochs {
                    print("epoch \(epoch) sent")
                    flushStandardOutput()
                } else if rank == 0 {
                    defer { flushStandardOutput() }
                    print("epoch \(epoch + 1)/\(epochs): loss \(rounded(epochLoss / Double(steps))), val_loss \(rounded(validationLoss)), val_accuracy \(rounded(validationAccuracy))")
                }
            }
            callback.onTrainEnd(logs: [:])
            _ = TensorBoard.closeRing(directory: ringDir)
        }

        private func rounded(_ value: Double) -> String {
            String(format: "%.4f", value)
        }
    }
}

/// A bag-of-words classifier: 4 token ids from a vocabulary of 24, an 8-dimensional embedding,
/// mean pooling, a dense layer to one logit. The data's label says whether the tokens' hidden
/// scores add up to more than zero, so the embedding has something real to learn.
struct BagOfWordsModel {
    static let vocabulary = 24, dimensions = 8, tokensPerExample = 4
    var embeddings: [Float]
    var kernel: [Float]
    var bias: Float = 0
    private let hiddenScores: [Double]

    init(seed: UInt64) {
        var generator = SplitMix64(seed: seed)
        embeddings = (0..<(Self.vocabulary * Self.dimensions)).map { _ in Float(generator.nextGaussian() * 0.1) }
        kernel = (0..<Self.dimensions).map { _ in Float(generator.nextGaussian() * 0.1) }
        var scores = SplitMix64(seed: 7)
        hiddenScores = (0..<Self.vocabulary).map { _ in scores.nextGaussian() }
    }

    func sample(_ generator: inout SplitMix64) -> (tokens: [Int], label: Double) {
        let tokens = (0..<Self.tokensPerExample).map { _ in Int(generator.next() % UInt64(Self.vocabulary)) }
        return (tokens, tokens.reduce(0) { $0 + hiddenScores[$1] } > 0 ? 1 : 0)
    }

    private func forward(_ tokens: [Int]) -> (pooled: [Float], probability: Double) {
        var pooled = [Float](repeating: 0, count: Self.dimensions)
        for token in tokens {
            for d in 0..<Self.dimensions { pooled[d] += embeddings[token * Self.dimensions + d] / Float(tokens.count) }
        }
        let logit = zip(pooled, kernel).reduce(bias) { $0 + $1.0 * $1.1 }
        return (pooled, 1 / (1 + exp(-Double(logit))))
    }

    func evaluate(_ examples: [(tokens: [Int], label: Double)]) -> (loss: Double, accuracy: Double) {
        var loss = 0.0, correct = 0.0
        for (tokens, label) in examples {
            let p = forward(tokens).probability
            loss -= label * log(max(p, 1e-12)) + (1 - label) * log(max(1 - p, 1e-12))
            correct += ((p > 0.5) == (label == 1)) ? 1 : 0
        }
        return (loss / Double(examples.count), correct / Double(examples.count))
    }

    /// One step of gradient descent on the cross-entropy; returns the batch's loss and accuracy
    /// before the step.
    mutating func train(_ examples: [(tokens: [Int], label: Double)], learningRate: Float) -> (Double, Double) {
        let before = evaluate(examples)
        var gradientKernel = [Float](repeating: 0, count: Self.dimensions)
        var gradientEmbeddings = [Float](repeating: 0, count: embeddings.count)
        var gradientBias: Float = 0
        for (tokens, label) in examples {
            let (pooled, p) = forward(tokens)
            let error = Float(p - label) / Float(examples.count)
            gradientBias += error
            for d in 0..<Self.dimensions {
                gradientKernel[d] += error * pooled[d]
                for token in tokens {
                    gradientEmbeddings[token * Self.dimensions + d] += error * kernel[d] / Float(tokens.count)
                }
            }
        }
        for d in 0..<Self.dimensions { kernel[d] -= learningRate * gradientKernel[d] }
        for k in embeddings.indices { embeddings[k] -= learningRate * 4 * gradientEmbeddings[k] }
        bias -= learningRate * gradientBias
        return before
    }

    var description: ModelDescription {
        ModelDescription(name: "bag_of_words", layers: [
            .init(name: "embedding", className: "Embedding",
                  configJSON: #"{"name": "embedding", "input_dim": 24, "output_dim": 8}"#,
                  weights: [.init(name: "embedding/embeddings:0", shape: [Self.vocabulary, Self.dimensions], values: embeddings)]),
            .init(name: "global_average_pooling1d", className: "GlobalAveragePooling1D"),
            .init(name: "dense", className: "Dense", configJSON: #"{"name": "dense", "units": 1, "activation": "sigmoid"}"#,
                  weights: [.init(name: "dense/kernel:0", shape: [Self.dimensions, 1], values: kernel),
                            .init(name: "dense/bias:0", shape: [1], values: [bias])]),
        ])
    }
}

/// A small deterministic generator, so every demo run trains on the same data.
struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func nextUniform() -> Double {
        Double(next() >> 11) / Double(1 << 53)
    }

    /// A standard normal sample (Box–Muller).
    mutating func nextGaussian() -> Double {
        let u = max(nextUniform(), 1e-300)
        return (-2 * log(u)).squareRoot() * cos(2 * .pi * nextUniform())
    }
}
