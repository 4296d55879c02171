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

/// Where a magnitude's bucket is looked up. Magnitudes are cut into cells of 1/16 octave (an
/// exponent and the top 4 mantissa bits), each holding at most one bucket limit; a cell's entry
/// gives the bucket of the cell's lower end and where, inside the cell, the next limit lies.
///
/// `float_entries` and `double_entries` hold `2 * cell_count` entries: cells of positive values,
/// then cells of negative values. A `float` entry is `bucket << 20 | threshold` with a threshold
/// below `1 << 20`; a `double` entry is `bucket << 49 | threshold` with a threshold below
/// `1 << 49`. A value whose low mantissa bits (19 for `float`, 48 for `double`; complemented for
/// negative values) are at least the threshold goes to the next bucket. Built once by Swift
/// (`TensorFlowBuckets`), only read here.
typedef struct CRingboardSIMD_histogram_table {
    const uint32_t *float_entries;
    const uint64_t *double_entries;
    /// Cells per sign.
    uint32_t cell_count;
    /// `float` bits `>> 19` of the first cell's lower end.
    uint32_t float_key_base;
    /// `double` bits `>> 48` of the first cell's lower end.
    uint32_t double_key_base;
    /// Buckets of the histogram, the length of each count array.
    uint32_t bucket_count;
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
