import RingboardSystem
import Testing

@Suite struct DurationConversionsTests {
    @Test func exactValues() {
        let duration = Duration.seconds(3) + .nanoseconds(123_456_789)
        #expect(duration.inNanoseconds == 3_123_456_789)
        #expect(duration.inMicroseconds == 3_123_456)
        #expect(duration.inMilliseconds == 3_123)
        #expect(duration.inSeconds == 3.123456789)
        #expect(Duration.milliseconds(100).inMicroseconds == 100_000)
        #expect(Duration.microseconds(1).inNanoseconds == 1_000)
    }

    /// Whole units are truncated toward zero, as integer division truncates.
    @Test func partsOfAUnitAreTruncated() {
        let almostOneMillisecond = Duration.nanoseconds(999_999)
        #expect(almostOneMillisecond.inMilliseconds == 0)
        #expect(almostOneMillisecond.inMicroseconds == 999)
        #expect(Duration(secondsComponent: 0, attosecondsComponent: 1_500_000_000).inNanoseconds == 1)
        #expect(Duration(secondsComponent: 0, attosecondsComponent: 999_999_999).inNanoseconds == 0)
    }

    @Test func zeroAndNegative() {
        #expect(Duration.zero.inNanoseconds == 0 && Duration.zero.inMilliseconds == 0 && Duration.zero.inSeconds == 0)
        let negative = Duration.zero - .milliseconds(1500)
        #expect(negative.inNanoseconds == -1_500_000_000)
        #expect(negative.inMicroseconds == -1_500_000)
        #expect(negative.inMilliseconds == -1_500)
        #expect(negative.inSeconds == -1.5)
        // Toward zero, not down: -1.5 ns is -1 ns.
        #expect(Duration(secondsComponent: 0, attosecondsComponent: -1_500_000_000).inNanoseconds == -1)
        #expect((Duration.zero - .nanoseconds(999_999)).inMilliseconds == 0)
    }

    /// Past what `Int64` nanoseconds hold (about 292 years), the counts clamp instead of trapping.
    @Test func largeDurationsClamp() {
        #expect(Duration.seconds(9_223_372_036).inNanoseconds == 9_223_372_036_000_000_000)
        #expect(Duration.seconds(9_223_372_037).inNanoseconds == Int64.max)
        #expect(Duration.seconds(Int64.max).inNanoseconds == Int64.max)
        #expect(Duration.seconds(Int64.max).inMilliseconds == Int64.max)
        #expect(Duration.seconds(Int64.min).inNanoseconds == Int64.min)
        #expect(Duration.seconds(Int64.max).inSeconds == 9.223372036854775807e18)
        #expect(Duration.seconds(Int64.max / 1000).inMilliseconds == Int64.max / 1000 * 1000)
    }
}
