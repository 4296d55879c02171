import Foundation
import RingboardFormat
@_spi(Benchmarks) @testable import RingboardSummaries
import Testing

/// `Histogram.summaryWriter`: torch's `add_histogram` with `bins='tensorflow'`, numpy's counts.
@Suite struct SummaryWriterHistogramTests {
    /// numpy's bin among the edges, the plain way: the last edge at or below x (the last edge
    /// itself in the last bin), nothing beyond the outer edges.
    static func referenceBin(_ x: Double) -> Int {
        let edges = Histogram.summaryWriterEdges
        guard x >= edges[0], x <= edges[edges.count - 1] else { return -1 }
        if x == edges[edges.count - 1] { return edges.count - 2 }
        return edges.lastIndex { $0 <= x }!
    }

    @Test func theEdgesAreTorchsDefaultBins() {
        let edges = Histogram.summaryWriterEdges
        // v = 1e-12, v *= 1.1 while v < 1e20: 774 of each sign, and 0.
        #expect(edges.count == 1549 && edges[774] == 0 && edges[775] == 1e-12 && edges[773] == -1e-12)
        #expect(edges[1548] < 1e20 && edges[1548] * 1.1 >= 1e20 && edges[0] == -edges[1548])
    }

    @Test func everyBinIsNumpysOnEdgesAndBetweenThem() {
        let edges = Histogram.summaryWriterEdges
        var values: [Double] = [0, -0.0, .leastNonzeroMagnitude, -.leastNonzeroMagnitude, 1e-300, -1e-300, 1e30, -1e30,
                                .greatestFiniteMagnitude, -.greatestFiniteMagnitude]
        for edge in edges {
            values += [edge, edge.nextUp, edge.nextDown, -edge, edge * 1.05]
        }
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<20_000 {
            let magnitude = Double.random(in: -40...70, using: &generator)
            values.append((Bool.random(using: &generator) ? 1 : -1) * pow(10, magnitude))
        }
        let bins = SummaryWriterBins.shared
        for x in values {
            let reference = Self.referenceBin(x)
            #expect(bins.bin(of: x) == (reference < 0 ? bins.binCount : reference), "\(x)")
        }
    }

    @Test func theHistogramIsCutToTheBinsThatHoldValues() throws {
        let values: [Float] = [0.5, 0.5, -2, 3, 0]
        let histogram = try Histogram.summaryWriter(values.span, tag: "t")
        let edges = Histogram.summaryWriterEdges
        let first = Self.referenceBin(-2), last = Self.referenceBin(3)
        #expect(histogram.bucketLimit == Array(edges[first...(last + 1)]))
        #expect(histogram.bucket.count == histogram.bucketLimit.count && histogram.bucket[0] == 0)
        #expect(histogram.bucket.reduce(0, +) == 5)
        #expect(histogram.min == -2 && histogram.max == 3 && histogram.num == 5 && histogram.sum == 2 && histogram.sumSquares == 13.5)
        // The first bin holds a value: an empty bin goes before it, whose right edge is the first edge.
        let low = try Histogram.summaryWriter([edges[0]].span, tag: "t")
        #expect(low.bucketLimit == [edges[0], edges[1]] && low.bucket == [0, 1])
    }

    /// The kernel's counts, settled, are the plain count's on every vector path: zeros of both
    /// signs, subnormals of both signs, values on edges, and values beyond them.
    @Test(arguments: Histogram.VectorPath.available)
    func theKernelsCountsAreThePlainCounts(path: Histogram.VectorPath) throws {
        var generator = SystemRandomNumberGenerator()
        let edges = Histogram.summaryWriterEdges.map { Float($0) }
        var values: [Float] = [0, -0.0, .leastNonzeroMagnitude, -.leastNonzeroMagnitude, -1e-40, 1e-40, -.leastNormalMagnitude]
        values += (0..<5000).map { _ in Float.random(in: -3...3, using: &generator) }
        values += edges.filter { $0.isFinite && $0.magnitude < 1e19 }
        for sample in [values, values.filter { $0 > 0 }, [-1e-40, -2e-41], [Float](repeating: 0, count: 7)] {
            let fast = try Histogram.summaryWriter(sample.span, tag: "t", path: path)
            let plain = try Histogram.countedAsNumpy(sample.span, tag: "t")
            #expect(fast.bucketLimit == plain.bucketLimit && fast.bucket == plain.bucket)
            #expect(fast.min == plain.min && fast.max == plain.max && fast.num == plain.num)
            // The kernel's sums are exact; the plain ones compensated: within rounding of the magnitudes summed.
            let magnitude = sample.reduce(0) { $0 + Double($1.magnitude) }
            #expect(abs(fast.sum - plain.sum) <= 1e-15 * magnitude)
        }
        // Beyond the edges: the plain count.
        let beyond = try Histogram.summaryWriter(([1e30, -1e30, 2] as [Float]).span, tag: "t", path: path)
        #expect(beyond.num == 3 && beyond.bucket.reduce(0, +) == 1)
    }

    @Test func valuesBeyondTheEdgesAreCountedInNumOnly() throws {
        let histogram = try Histogram.summaryWriter(([1e25, 1.0] as [Double]).span, tag: "t")
        #expect(histogram.num == 2 && histogram.bucket.reduce(0, +) == 1 && histogram.max == 1e25)
        #expect(throws: SummaryError.emptyHistogram(tag: "t")) { try Histogram.summaryWriter(([1e25] as [Double]).span, tag: "t") }
        #expect(throws: SummaryError.nonFiniteValues(tag: "t")) { try Histogram.summaryWriter(([1, .nan] as [Double]).span, tag: "t") }
        #expect(throws: SummaryError.emptyHistogram(tag: "t")) { try Histogram.summaryWriter([Float]().span, tag: "t") }
    }
}
