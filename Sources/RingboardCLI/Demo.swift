import ArgumentParser
import Foundation
import RingboardFormat

extension RingboardCommand {
    /// `ringboard demo`: trains a small logistic regression on synthetic data and logs it as the
    /// Keras callback would with `update_freq="batch"`, then inspects the log directory.
    struct Demo: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Train a small model on synthetic data, log it, and inspect the log directory."
        )

        @Option(help: "Where to write the event files.")
        var logdir = "logs/ringboard-demo"

        @Option(help: "Training epochs.")
        var epochs = 5

        @Option(help: "Batches per epoch.")
        var steps = 50

        func validate() throws {
            guard epochs > 0, epochs <= 10_000 else { throw ValidationError("--epochs must be between 1 and 10000") }
            guard steps > 0, steps <= 1_000_000 else { throw ValidationError("--steps must be between 1 and 1000000") }
        }

        func run() throws {
            do {
                try train()
            } catch {
                printError("demo", error.description)
                throw ExitCode(1)
            }
            print("")
            try Inspect.parse([logdir]).run()
            print("\nOpen it with: .venv/bin/tensorboard --logdir \(logdir)   (or any tensorboard)")
        }

        /// Logistic regression on two Gaussian blobs, trained by minibatch gradient descent.
        private func train() throws(EventFileError) {
            var generator = SplitMix64(seed: 42)
            let features = 8
            let batchSize = 32
            let trueWeights = (0..<features).map { _ in generator.nextGaussian() }
            func sample() -> ([Double], Double) {
                let x = (0..<features).map { _ in generator.nextGaussian() }
                let margin = zip(x, trueWeights).reduce(0) { $0 + $1.0 * $1.1 }
                return (x, margin + 0.5 * generator.nextGaussian() > 0 ? 1 : 0)
            }
            let validation = (0..<512).map { _ in sample() }
            var weights = [Double](repeating: 0, count: features)
            var bias = 0.0
            func evaluate(_ batch: [([Double], Double)]) -> (loss: Double, accuracy: Double) {
                var loss = 0.0
                var correct = 0.0
                for (x, y) in batch {
                    let p = sigmoid(zip(x, weights).reduce(bias) { $0 + $1.0 * $1.1 })
                    loss -= y * log(max(p, 1e-12)) + (1 - y) * log(max(1 - p, 1e-12))
                    correct += (p > 0.5 ? 1 : 0) == y ? 1 : 0
                }
                return (loss / Double(batch.count), correct / Double(batch.count))
            }

            let train = try EventFileWriter(directory: logdir + "/train")
            let validationWriter = try EventFileWriter(directory: logdir + "/validation")
            var step: Int64 = 0
            print("training: \(epochs) epochs × \(steps) batches of \(batchSize)")
            for epoch in 0..<epochs {
                var epochLoss = 0.0
                var epochAccuracy = 0.0
                for _ in 0..<steps {
                    let batch = (0..<batchSize).map { _ in sample() }
                    let (loss, accuracy) = evaluate(batch)
                    var gradient = [Double](repeating: 0, count: features)
                    var gradientBias = 0.0
                    for (x, y) in batch {
                        let error = sigmoid(zip(x, weights).reduce(bias) { $0 + $1.0 * $1.1 }) - y
                        for k in 0..<features { gradient[k] += error * x[k] }
                        gradientBias += error
                    }
                    for k in 0..<features { weights[k] -= 0.1 * gradient[k] / Double(batchSize) }
                    bias -= 0.1 * gradientBias / Double(batchSize)
                    let now = EventFileWriter.currentWallTime()
                    try train.appendScalar(tag: "batch_loss", value: Float(loss), step: step, wallTime: now)
                    try train.appendScalar(tag: "batch_accuracy", value: Float(accuracy), step: step, wallTime: now)
                    epochLoss += loss
                    epochAccuracy += accuracy
                    step += 1
                }
                let (validationLoss, validationAccuracy) = evaluate(validation)
                let now = EventFileWriter.currentWallTime()
                // TF 2.0 with update_freq="batch": epoch summaries are stepped by samples seen.
                let samples = step * Int64(batchSize)
                try train.appendScalar(tag: "epoch_loss", value: Float(epochLoss / Double(steps)), step: samples, wallTime: now)
                try train.appendScalar(tag: "epoch_accuracy", value: Float(epochAccuracy / Double(steps)), step: samples, wallTime: now)
                try validationWriter.appendScalar(tag: "epoch_loss", value: Float(validationLoss), step: samples, wallTime: now)
                try validationWriter.appendScalar(tag: "epoch_accuracy", value: Float(validationAccuracy), step: samples, wallTime: now)
                print("epoch \(epoch + 1)/\(epochs): val_loss \(rounded(validationLoss)), val_accuracy \(rounded(validationAccuracy))")
            }
            try train.close()
            try validationWriter.close()
        }

        private func rounded(_ value: Double) -> String {
            String(Double(Int((value * 10_000).rounded())) / 10_000)
        }
    }
}

private func sigmoid(_ z: Double) -> Double { 1 / (1 + exp(-z)) }

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
