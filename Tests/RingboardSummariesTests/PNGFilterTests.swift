import RingboardTestSupport
import Testing
@testable import RingboardSummaries

/// The row filters against the PNG specification's formulas (§9.2–9.4) and against decoding,
/// and libpng's choice among them.
@Suite struct PNGFilterTests {
    /// The specification's filter, written from §9.2 with `Int` arithmetic and explicit a, b, c.
    static func specificationFilter(_ filter: PNGFilter, row: [UInt8], previous: [UInt8], bpp: Int) -> [UInt8] {
        row.indices.map { i in
            let x = Int(row[i])
            let a = i >= bpp ? Int(row[i - bpp]) : 0
            let b = Int(previous[i])
            let c = i >= bpp ? Int(previous[i - bpp]) : 0
            let prediction: Int
            switch filter {
            case .none: prediction = 0
            case .sub: prediction = a
            case .up: prediction = b
            case .average: prediction = (a + b) / 2
            case .paeth:
                let p = a + b - c
                let (pa, pb, pc) = (abs(p - a), abs(p - b), abs(p - c))
                prediction = pa <= pb && pa <= pc ? a : pb <= pc ? b : c
            }
            return UInt8((x - prediction) & 0xFF)
        }
    }

    /// Decoding (§9.2, the reconstruction functions): the inverse every PNG reader applies.
    static func reconstruct(_ filter: PNGFilter, filtered: [UInt8], previous: [UInt8], bpp: Int) -> [UInt8] {
        var row = [UInt8](repeating: 0, count: filtered.count)
        for i in filtered.indices {
            let a = i >= bpp ? Int(row[i - bpp]) : 0
            let b = Int(previous[i])
            let c = i >= bpp ? Int(previous[i - bpp]) : 0
            let prediction: Int
            switch filter {
            case .none: prediction = 0
            case .sub: prediction = a
            case .up: prediction = b
            case .average: prediction = (a + b) / 2
            case .paeth:
                let p = a + b - c
                let (pa, pb, pc) = (abs(p - a), abs(p - b), abs(p - c))
                prediction = pa <= pb && pa <= pc ? a : pb <= pc ? b : c
            }
            row[i] = UInt8((Int(filtered[i]) + prediction) & 0xFF)
        }
        return row
    }

    static func randomRow(_ count: Int, using generator: inout SeededGenerator) -> [UInt8] {
        (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
    }

    static func apply(_ filter: PNGFilter, row: [UInt8], previous: [UInt8], bpp: Int, limit: Int = .max) -> (output: [UInt8], sum: Int) {
        var output = [UInt8](repeating: 0xEE, count: row.count + 1)
        var span = output.mutableSpan
        let sum = filter.apply(row: row.span, previous: previous.span, bytesPerPixel: bpp, into: &span, limit: limit)
        return (output, sum)
    }

    static func heuristicSum(_ bytes: some Collection<UInt8>) -> Int {
        bytes.reduce(0) { $0 + ($1 < 128 ? Int($1) : 256 - Int($1)) }
    }

    @Test(arguments: PNGFilter.allCases)
    func filterMatchesTheSpecificationAndDecodes(filter: PNGFilter) {
        var generator = SeededGenerator(seed: UInt64(filter.rawValue) + 11)
        for bpp in [1, 3, 4] {
            for count in [bpp, bpp * 2, bpp * 7, bpp * 64 + bpp] {
                let row = Self.randomRow(count, using: &generator)
                for previous in [[UInt8](repeating: 0, count: count), Self.randomRow(count, using: &generator)] {
                    let (output, sum) = Self.apply(filter, row: row, previous: previous, bpp: bpp)
                    let expected = Self.specificationFilter(filter, row: row, previous: previous, bpp: bpp)
                    #expect(output[0] == filter.rawValue)
                    #expect(Array(output.dropFirst()) == expected, "\(filter) bpp \(bpp) width \(count / bpp)")
                    #expect(sum == Self.heuristicSum(expected))
                    #expect(Self.reconstruct(filter, filtered: Array(output.dropFirst()), previous: previous, bpp: bpp) == row)
                }
            }
        }
    }

    /// Rows shorter than one pixel's worth of `a` (a 1-pixel-wide image) have no left neighbour at all.
    @Test(arguments: PNGFilter.allCases)
    func singlePixelRows(filter: PNGFilter) {
        for bpp in [1, 3, 4] {
            let row: [UInt8] = Array([200, 3, 129, 77].prefix(bpp))
            let previous: [UInt8] = Array([17, 250, 128, 0].prefix(bpp))
            let (output, _) = Self.apply(filter, row: row, previous: previous, bpp: bpp)
            #expect(Array(output.dropFirst()) == Self.specificationFilter(filter, row: row, previous: previous, bpp: bpp))
        }
    }

    @Test func magnitudeIsTheSignedByteMagnitude() {
        for v in 0...255 {
            #expect(PNGFilter.magnitude(UInt8(v)) == (v < 128 ? v : 256 - v))
        }
    }

    @Test func paethPredictorMatchesTheSpecification() {
        for a in stride(from: 0, through: 255, by: 5) {
            for b in stride(from: 0, through: 255, by: 5) {
                for c in stride(from: 0, through: 255, by: 5) {
                    let p = a + b - c
                    let (pa, pb, pc) = (abs(p - a), abs(p - b), abs(p - c))
                    let expected = pa <= pb && pa <= pc ? a : pb <= pc ? b : c
                    #expect(Int(PNGFilter.paethPredictor(left: UInt8(a), above: UInt8(b), upperLeft: UInt8(c))) == expected)
                }
            }
        }
    }

    /// libpng stops scoring a filter once it is worse than the best so far; the partial sum it
    /// returns is then above the limit, so the choice is the same as with full sums.
    @Test(arguments: PNGFilter.allCases)
    func scoringStopsEarlyOnlyAboveTheLimit(filter: PNGFilter) {
        var generator = SeededGenerator(seed: 99)
        for _ in 0..<200 {
            let row = Self.randomRow(48, using: &generator)
            let previous = Self.randomRow(48, using: &generator)
            let full = Self.apply(filter, row: row, previous: previous, bpp: 3).sum
            let limit = Int.random(in: 0...(full + 10), using: &generator)
            let partial = Self.apply(filter, row: row, previous: previous, bpp: 3, limit: limit).sum
            if full > limit { #expect(partial > limit && partial <= full) } else { #expect(partial == full) }
        }
    }

    /// Which filter `FilterSet` picks: the smallest full sum, ties to the earliest of None, Sub,
    /// Up, Average, Paeth — on random rows, compared with an exhaustive choice.
    @Test func adaptiveChoiceIsTheSmallestSumWithTiesToTheEarliest() {
        var generator = SeededGenerator(seed: 5)
        let filters = PNGEncoder.FilterSet(strategy: .adaptive, width: 16, height: 16)
        for trial in 0..<500 {
            let bpp = [1, 3, 4][trial % 3]
            let count = bpp * 16
            // Low-entropy rows make ties common.
            let row = (0..<count).map { _ in UInt8.random(in: 0...3, using: &generator) }
            let previous = (0..<count).map { _ in UInt8.random(in: 0...3, using: &generator) }
            let sums = PNGFilter.allCases.map { Self.apply($0, row: row, previous: previous, bpp: bpp).sum }
            let expected = PNGFilter.allCases[sums.firstIndex(of: sums.min()!)!]
            var best = [UInt8](repeating: 0, count: count + 1)
            var scratch = best
            filters.filter(row: row.span, previous: previous.span, bytesPerPixel: bpp, best: &best, trial: &scratch)
            #expect(best[0] == expected.rawValue, "sums \(sums)")
            #expect(Array(best.dropFirst()) == Self.specificationFilter(expected, row: row, previous: previous, bpp: bpp))
        }
    }

    /// Rows built so that each filter in turn predicts them best.
    @Test func eachFilterWinsOnTheRowItPredicts() {
        var generator = SeededGenerator(seed: 3)
        let count = 16
        let random = Self.randomRow(count, using: &generator)
        var average = [UInt8](repeating: 0, count: count)
        average[0] = random[0] / 2 &+ 1
        for i in 1..<count { average[i] = UInt8((Int(average[i - 1]) + Int(random[i])) / 2) }
        // A parabola shifted one pixel to the right: the upper-left neighbour is exact from the
        // fourth byte on, where Average is off by one and Sub and Up by a growing amount.
        let parabola = (0..<count).map { UInt8($0 * $0) }
        let shifted = [0] + parabola.dropLast()
        let cases: [(filter: PNGFilter, row: [UInt8], previous: [UInt8])] = [
            (.none, [UInt8](repeating: 0, count: count), random),  // None and Sub both sum to 0: the tie goes to None
            (.sub, (0..<count).map { UInt8($0 * 2) }, random),
            (.up, random, random),
            (.average, average, random),
            (.paeth, shifted, parabola),
        ]
        let filters = PNGEncoder.FilterSet(strategy: .adaptive, width: count, height: 2)
        for (filter, row, previous) in cases {
            var best = [UInt8](repeating: 0, count: count + 1)
            var scratch = best
            filters.filter(row: row.span, previous: previous.span, bytesPerPixel: 1, best: &best, trial: &scratch)
            let sums = PNGFilter.allCases.map { Self.apply($0, row: row, previous: previous, bpp: 1).sum }
            #expect(best[0] == filter.rawValue, "\(filter): sums \(sums)")
        }
    }

    /// libpng's `png_write_start_row` drops the filters that would look beyond a one-row or
    /// one-column image.
    @Test func filtersTriedDependOnTheImageSize() {
        #expect(PNGEncoder.FilterSet(strategy: .adaptive, width: 5, height: 5).filters == PNGFilter.allCases)
        #expect(PNGEncoder.FilterSet(strategy: .adaptive, width: 5, height: 1).filters == [.none, .sub])
        #expect(PNGEncoder.FilterSet(strategy: .adaptive, width: 1, height: 5).filters == [.none, .up])
        #expect(PNGEncoder.FilterSet(strategy: .adaptive, width: 1, height: 1).filters == [.none])
        #expect(PNGEncoder.FilterSet(strategy: .adaptive, width: 1, height: 1).onlyNone)
        #expect(PNGEncoder.FilterSet(strategy: .only(.paeth), width: 1, height: 1).filters == [.paeth])
        #expect(!PNGEncoder.FilterSet(strategy: .adaptive, width: 5, height: 1).onlyNone)
    }
}
