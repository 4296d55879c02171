#ifndef CRINGBOARD_SIMD_H
#define CRINGBOARD_SIMD_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Vector kernels for summaries, each with a run-time choice between AVX-512, AVX2 and a portable
/// path. Declarations are added here by the kernels that need them.

/// The widest vector path this CPU offers to these kernels: 512, 256, or 0 for the portable path.
int CRingboardSIMD_vector_width(void);

// MARK: - TensorFlow histograms (histogram.c)

/// Count arrays each histogram call spreads its increments over, so that runs of values in one
/// bucket don't wait on each other's stores. Counts are interleaved: bucket b, copy k lives at
/// `counts[b * CRingboardSIMD_HISTOGRAM_COUNT_COPIES + k]`.
enum { CRingboardSIMD_HISTOGRAM_COUNT_COPIES = 4 };

/// Entries of `CRingboardSIMD_histogram_table.float_entries`: one per `float` bit pattern `>> 19`.
enum { CRingboardSIMD_HISTOGRAM_FLOAT_ENTRIES = 1 << 13 };

/// Where a value's bucket is looked up. Magnitudes are cut into cells of 1/16 octave (an exponent
/// and the top 4 mantissa bits), each holding at most one bucket limit; a cell's entry gives the
/// bucket of the cell's lower end and where, inside the cell, the next limit lies. A value goes one
/// bucket further when its remaining mantissa bits, complemented for a negative value, are at
/// least the entry's threshold.
///
/// `float_entries` has one entry per sign, exponent and top 4 mantissa bits (the `float` bits
/// `>> 19`, `CRingboardSIMD_HISTOGRAM_FLOAT_ENTRIES` in all): `slot << 19 | threshold`, where
/// `slot` is the bucket times `CRingboardSIMD_HISTOGRAM_COUNT_COPIES` and `threshold` is below
/// `1 << 19`. Cells of zeros and subnormals give the bucket of zero (flush-to-zero), cells of
/// infinities and NaNs some valid bucket.
///
/// `double_entries` covers `cell_count` cells from the one whose lower end has the `double` bits
/// `double_key_base << 48`, positive values then negative ones (`2 * cell_count` entries):
/// `bucket << 49 | threshold`, with `threshold` at most `1 << 48` (never reached). Magnitudes
/// outside the cells are clamped into the first or last cell, which hold no limit.
///
/// Built once by Swift (`Histogram.TensorFlowBuckets`), only read here.
typedef struct CRingboardSIMD_histogram_table {
    const uint32_t *float_entries;
    const uint64_t *double_entries;
    /// Cells per sign in `double_entries`.
    uint32_t cell_count;
    /// `double` bits `>> 48` of the first cell's lower end.
    uint32_t double_key_base;
    /// Buckets of the histogram; each count array has this many counters per copy.
    uint32_t bucket_count;
    uint32_t reserved;
} CRingboardSIMD_histogram_table;

/// What one pass over the values found besides the bucket counts. Subnormal inputs count as
/// zero, as under TensorFlow's flush-to-zero mode.
typedef struct CRingboardSIMD_histogram_totals {
    /// Sum of the values, as `double`.
    double sum;
    /// Sum of their squares, as `double`; a square below `DBL_MIN` counts as zero.
    double sum_squares;
    /// The smallest value (`+inf` when there are none). Which zero is returned when the smallest
    /// value is a zero or a subnormal is unspecified; the caller looks that up.
    double min;
    /// The largest value (`-inf` when there are none), with the same caveat as `min`.
    double max;
    /// Nonzero when a NaN or an infinity was seen; the other fields then mean nothing.
    uint32_t non_finite;
    uint32_t reserved;
} CRingboardSIMD_histogram_totals;

/// Adds the TensorFlow bucket of each of `count` floats to `counts` and returns their totals.
///
/// `counts` holds `table->bucket_count * CRingboardSIMD_HISTOGRAM_COUNT_COPIES` 32-bit counters,
/// zeroed by the caller or left from an earlier call; a call adds at most `count` to them, so the
/// caller keeps `count` small enough that no counter wraps. `vector_width` asks for a path: 512
/// (AVX-512), 256 (AVX2) or 0 (portable); a path this CPU lacks falls back to the next narrower.
void CRingboardSIMD_histogram_float(const float *values, size_t count,
                                    const CRingboardSIMD_histogram_table *table,
                                    uint32_t *counts, int vector_width,
                                    CRingboardSIMD_histogram_totals *totals);

/// `CRingboardSIMD_histogram_float` for doubles.
void CRingboardSIMD_histogram_double(const double *values, size_t count,
                                     const CRingboardSIMD_histogram_table *table,
                                     uint32_t *counts, int vector_width,
                                     CRingboardSIMD_histogram_totals *totals);

/// The totals of `CRingboardSIMD_histogram_float` without the buckets: the cost of the
/// reductions alone.
void CRingboardSIMD_histogram_float_totals(const float *values, size_t count, int vector_width,
                                           CRingboardSIMD_histogram_totals *totals);

#ifdef __cplusplus
}
#endif

#endif
