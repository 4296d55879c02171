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

/// Digits of `CRingboardSIMD_exact_sum`: enough for every finite double, from 2^-1074 up, plus
/// the carries of 2^64 additions.
enum { CRingboardSIMD_EXACT_SUM_DIGITS = 67 };

/// An exact sum of doubles: a fixed-point number whose digit `k` weighs 2^(32k - 1074). Each
/// addition adds less than 2^32 in magnitude to three digits (64-bit words), and carries are passed
/// on only every 2^30 additions, so adding is a few integer operations and nothing is ever rounded.
/// Infinities and NaN are recorded apart. Only histogram.c reads or writes the fields.
typedef struct CRingboardSIMD_exact_sum {
    int64_t digits[CRingboardSIMD_EXACT_SUM_DIGITS];
    /// Additions since the carries were last passed on.
    uint32_t pending;
    /// Bit 0: `+inf` was added; bit 1: `-inf`; bit 2: a NaN.
    uint32_t special;
} CRingboardSIMD_exact_sum;

/// What the histogram calls over one set of values gather besides the bucket counts, carried from
/// call to call. Set it up with `CRingboardSIMD_histogram_begin`, pass it to every call for the
/// values (in any order, cut into calls anywhere), and read it with `CRingboardSIMD_histogram_end`.
///
/// The sums are kept exactly, but for what the vector lanes' compensated sums may have rounded
/// away: `sum_error` and `sum_squares_error` bound that. `CRingboardSIMD_histogram_end` rounds the
/// exact part and reports when the bound leaves the correctly rounded result in doubt.
typedef struct CRingboardSIMD_histogram_accumulator {
    CRingboardSIMD_exact_sum sum;
    CRingboardSIMD_exact_sum sum_squares;
    /// Bound on |exact sum - `sum`| left by the vector lanes (`+inf` when a lane overflowed).
    double sum_error;
    /// The same for `sum_squares`.
    double sum_squares_error;
    /// The smallest value (`+inf` when there are none).
    double min;
    /// The largest value (`-inf` when there are none).
    double max;
    /// Largest magnitude seen, as bits (doubles only); above the largest finite one means NaN or infinity.
    uint64_t largest_magnitude;
    /// Nonzero when a float NaN or infinity was seen.
    uint32_t non_finite;
    uint32_t reserved;
} CRingboardSIMD_histogram_accumulator;

/// The totals of one set of values. Subnormal inputs count as zero, as under TensorFlow's
/// flush-to-zero mode.
typedef struct CRingboardSIMD_histogram_totals {
    /// The exact sum of the values as doubles, rounded to nearest (ties to even); `±inf` when that
    /// is beyond the double range, and a zero of its sign when it is below `DBL_MIN`. The same
    /// whatever the order of the values, the vector path or how they were cut into calls.
    double sum;
    /// The exact sum of their squares, rounded the same way; a square below `DBL_MIN` counts as
    /// zero. A square of a float is exact in double; a square of a double is rounded first (as
    /// `value * value` in histogram.cc), and is `+inf` above `DBL_MAX`, which makes this `+inf`.
    double sum_squares;
    /// The smallest value (`+inf` when there are none). Which zero is returned when the smallest
    /// value is a zero or a subnormal is unspecified; the caller looks that up.
    double min;
    /// The largest value (`-inf` when there are none), with the same caveat as `min`.
    double max;
    /// Nonzero when a NaN or an infinity was seen; the other fields then mean nothing.
    uint32_t non_finite;
    /// Nonzero when the vector lanes' rounding could have changed `sum` or `sum_squares` (rare:
    /// heavy cancellation, or magnitudes far apart): they are then not to be used, and
    /// `CRingboardSIMD_histogram_float_exact_sums` (or `_double_`) gives them.
    uint32_t uncertain_sums;
} CRingboardSIMD_histogram_totals;

/// Sets up `accumulator` for a new set of values: no values, nothing summed.
void CRingboardSIMD_histogram_begin(CRingboardSIMD_histogram_accumulator *accumulator);

/// Adds the TensorFlow bucket of each of `count` floats to `counts`, and the floats to `accumulator`.
///
/// `counts` holds `table->bucket_count * CRingboardSIMD_HISTOGRAM_COUNT_COPIES` 32-bit counters,
/// zeroed by the caller or left from an earlier call; a call adds at most `count` to them, so the
/// caller keeps `count` small enough that no counter wraps. `vector_width` asks for a path: 512
/// (AVX-512), 256 (AVX2) or 0 (portable); a path this CPU lacks falls back to the next narrower.
///
/// Each path sums in lanes (4 on the portable path, 4 to 16 in vectors) with error-free
/// transformations (Knuth's TwoSum), adds the lanes' terms and the values after the last whole
/// vector to the exact sums at the end of the call, and adds a bound on what the compensation terms
/// may have rounded away to the accumulator's `sum_error` and `sum_squares_error`.
void CRingboardSIMD_histogram_float(const float *values, size_t count,
                                    const CRingboardSIMD_histogram_table *table,
                                    uint32_t *counts, int vector_width,
                                    CRingboardSIMD_histogram_accumulator *accumulator);

/// `CRingboardSIMD_histogram_float` for doubles. A lane whose partial sum overflows makes the
/// error bound `+inf`, so the caller sums again exactly.
void CRingboardSIMD_histogram_double(const double *values, size_t count,
                                     const CRingboardSIMD_histogram_table *table,
                                     uint32_t *counts, int vector_width,
                                     CRingboardSIMD_histogram_accumulator *accumulator);

/// What `CRingboardSIMD_histogram_float` adds to `accumulator`, without the buckets: the cost of
/// the reductions alone.
void CRingboardSIMD_histogram_float_totals(const float *values, size_t count, int vector_width,
                                           CRingboardSIMD_histogram_accumulator *accumulator);

/// Adds each of `count` floats and its square to the exact sums of `accumulator` (subnormals
/// flushed), summing significands per exponent in integers (scalar, about 1.5 ns a value for both
/// sums), leaving `sum_error` and `sum_squares_error` alone: for when
/// `CRingboardSIMD_histogram_end` reports uncertain sums, into an accumulator of its own.
void CRingboardSIMD_histogram_float_exact_sums(const float *values, size_t count,
                                               CRingboardSIMD_histogram_accumulator *accumulator);

/// `CRingboardSIMD_histogram_float_exact_sums` for doubles.
void CRingboardSIMD_histogram_double_exact_sums(const double *values, size_t count,
                                                CRingboardSIMD_histogram_accumulator *accumulator);

/// The totals of the values added to `accumulator`. `sum` and `sum_squares` are the exact sums
/// rounded once, unless `uncertain_sums` is set.
void CRingboardSIMD_histogram_end(const CRingboardSIMD_histogram_accumulator *accumulator,
                                  CRingboardSIMD_histogram_totals *totals);

#ifdef __cplusplus
}
#endif

#endif
