import RingboardFormat
import Testing
@testable import RingboardSummaries

/// `Histogram.tensorBoard`, the `tf.summary.histogram` form, on hand-computed cases. The
/// conformance tests compare it with TensorBoard's own Python on many more.
@Suite struct HistogramTensorBoardTests {
    /// The tensor of a TensorBoard histogram value, as rows of (left, right, count).
    static func rows(_ value: Summary.Value) throws -> [[Double]] {
        guard case .tensor(let tensor) = value.kind else {
            Issue.record("not a tensor: \(value.kind)")
            return []
        }
        #expect(tensor.dtype == .double)
        #expect(tensor.shape.count == 2 && tensor.shape[1] == 3)
        #expect(tensor.tensorContent.count == Int(tensor.elementCount) * 8)
        let doubles = stride(from: 0, to: tensor.tensorContent.count, by: 8).map { offset in
            Double(bitPattern: tensor.tensorContent[offset..<offset + 8].reversed().reduce(0) { $0 << 8 | UInt64($1) })
        }
        return stride(from: 0, to: doubles.count, by: 3).map { Array(doubles[$0..<$0 + 3]) }
    }

    @Test func metadataIsTheHistogramsPlugins() throws {
        let value = try Histogram.tensorBoard([Float](arrayLiteral: 1, 2), tag: "dense/kernel_0", description: "a **kernel**")
        #expect(value.tag == "dense/kernel_0")
        // create_summary_metadata: plugin "histograms", HistogramPluginData(version=0) is no bytes,
        // no display name, no data class.
        #expect(value.metadata == SummaryMetadata(
            pluginName: "histograms", pluginContent: [], displayName: "", summaryDescription: "a **kernel**", dataClass: 0))
        #expect(try Self.rows(value).count == 30)
    }

    @Test func bucketsAreEqualWidthFromMinToMax() throws {
        let value = try Histogram.tensorBoard([Double](arrayLiteral: 3, 0, 1, 2), tag: "t", bucketCount: 2)
        // width 1.5: 0 and 1 go to bucket 0, 2 to bucket 1, and max (index 2) is clamped into bucket 1.
        #expect(try Self.rows(value) == [[0, 1.5, 2], [1.5, 3, 2]])
    }

    @Test func edgesAreNumPyLinspace() throws {
        let values: [Float] = [0.1, 0.7, 0.3]
        let rows = try Self.rows(try Histogram.tensorBoard(values, tag: "t", bucketCount: 3))
        let low = Double(Float(0.1)), high = Double(Float(0.7)), step = (high - low) / 3
        #expect(rows.map { $0[0] } == [low, 1 * step + low, 2 * step + low])
        #expect(rows.map { $0[1] } == [1 * step + low, 2 * step + low, high])
        #expect(rows.map { $0[2] } == [1, 1, 1])
    }

    @Test func emptyInputIsZeroRows() throws {
        #expect(try Self.rows(try Histogram.tensorBoard([Float](), tag: "t")) == [[Double]](repeating: [0, 0, 0], count: 30))
        #expect(try Self.rows(try Histogram.tensorBoard([Double](), tag: "t", bucketCount: 4)) == [[Double]](repeating: [0, 0, 0], count: 4))
    }

    @Test func noBucketsIsAnEmptyTensor() throws {
        for count in [0, -3] {
            let value = try Histogram.tensorBoard([Float](arrayLiteral: 1, 2, 3), tag: "t", bucketCount: count)
            guard case .tensor(let tensor) = value.kind else { return #expect(Bool(false)) }
            #expect(tensor.shape == [0, 3] && tensor.tensorContent.isEmpty)
        }
    }

    @Test func equalValuesGoToTheLastBucket() throws {
        let rows = try Self.rows(try Histogram.tensorBoard([Float](repeating: -2.5, count: 7), tag: "t", bucketCount: 5))
        #expect(rows == [[-2.5, -2.5, 0], [-2.5, -2.5, 0], [-2.5, -2.5, 0], [-2.5, -2.5, 0], [-2.5, -2.5, 7]])
    }

    @Test func floatsAndDoublesAgree() throws {
        let floats = HistogramInputs.gaussian(count: 1001, scale: 2, seed: 5).map { Float($0) }
        let fromFloats = try Histogram.tensorBoard(floats, tag: "t", bucketCount: 17)
        #expect(try Histogram.tensorBoard(floats.map { Double($0) }, tag: "t", bucketCount: 17) == fromFloats)
        #expect(try Histogram.tensorBoard(floats.span, tag: "t", bucketCount: 17) == fromFloats)
        #expect(try Self.rows(fromFloats).map { $0[2] }.reduce(0, +) == 1001)
    }

    @Test func nonFiniteValuesAreRefused() {
        #expect(throws: SummaryError.nonFiniteValues(tag: "w")) { try Histogram.tensorBoard([Float](arrayLiteral: 1, .nan), tag: "w") }
        #expect(throws: SummaryError.nonFiniteValues(tag: "w")) { try Histogram.tensorBoard([Double](arrayLiteral: .infinity), tag: "w") }
    }
}
