/// Ring record types of hook records (the ring reserves the types below 16).
///
/// The layouts are little-endian and versioned by `RecordType.version`, which the run
/// announcement carries. Any change to a layout bumps it.
public enum RecordType {
    /// The layout version of every record type below (4: `summary`, and `Semantics.summaryWriter`
    /// in a run announcement; announcements of version 3 are read too).
    public static let version: UInt16 = 4

    /// A trainer process announces a run: its log directory, TensorBoard arguments, rank.
    public static let runAnnouncement: UInt16 = 16
    /// A metric name gets a number, so hooks carry numbers, not strings.
    public static let metricName: UInt16 = 17
    /// A batch hook (train, test or predict; begin or end) with its logs: the hot path.
    public static let batch: UInt16 = 18
    /// Any other hook: train, epoch, test or predict begin and end.
    public static let hook: UInt16 = 19
    /// `set_params`, as JSON text.
    public static let parameters: UInt16 = 20
    /// `set_model`: layers, weights, model JSON and GraphDef, as JSON text and bytes.
    public static let model: UInt16 = 21
    /// A piece of a weight's values.
    public static let weightValues: UInt16 = 22
    /// A span the trainer recorded for the profiler.
    public static let span: UInt16 = 23
    /// A weight's values in a weight segment beside the ring (`RingboardRing.WeightSegment`).
    public static let weightSegment: UInt16 = 24
    /// A `SummaryWriter` summary: a scalar, text, histogram or image under a tag.
    public static let summary: UInt16 = 25

    static let all: ClosedRange<UInt16> = runAnnouncement...summary
}
