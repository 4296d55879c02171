import RingboardSummaries
import Testing

@Suite struct SummaryErrorTests {
    @Test func descriptionsNameTheTag() {
        #expect(SummaryError.nonFiniteValues(tag: "dense/kernel_0").description == "NaN or infinity in summary histogram for: dense/kernel_0")
        #expect(SummaryError.unsupportedShape(tag: "w", shape: [2, 3, 4, 5, 6], reason: "has more than 4 dimensions").description
            == "w: shape [2, 3, 4, 5, 6] has more than 4 dimensions")
    }
}
