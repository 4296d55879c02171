// Histograms with TensorFlow's default buckets (tensorflow/core/lib/histogram/histogram.cc).
//
// histogram.cc puts a value in the first bucket whose limit is greater than it: std::upper_bound
// over 1551 sorted limits (-DBL_MAX, the negated powers 1e-12 * 1.1^i, 0, the powers, DBL_MAX).
// Here the bucket comes from a table instead of a binary search. A value's sign, exponent and top
// 4 mantissa bits name a cell of 1/16 octave; cells are narrower than the 1.1 ratio between limits,
// so a cell holds at most one limit. The cell's entry gives the bucket of the cell's lower end and
// the position of that limit inside the cell, so one integer comparison of the remaining mantissa
// bits settles the bucket. Negative values have entries of their own, because a value equal to a
// limit belongs above it: for -x that means below the limit x. (The table format is described with
// CRingboardSIMD_histogram_table.)
//
// TensorFlow runs its kernels with denormals flushed to zero (FTZ and DAZ), so HistogramSummaryOp
// sees a subnormal input as a zero: it lands in the bucket above 0 and adds nothing. The float
// table sends subnormals to that bucket; the sums and extremes flush them to +0 in software (a
// float32 square is never subnormal; a double square below DBL_MIN is flushed like the input).
// Which zero ends up as min or max is left to the caller, which knows the input order.
//
// The vector paths work in blocks: they find the bucket of each value of a block and store its
// count slot, then add the block's slots to the counts with scalar increments. Adding straight
// from vector registers needs an extract per value, and reading slots back right after storing
// them stalls on store-to-load forwarding from wide stores. Consecutive values go to different
// count copies, so runs of one bucket don't serialize on one counter.
//
// A float's square can't overflow a double, so a float input's sum of squares is finite unless a
// value is NaN or infinite: that is how the float paths notice them, at no cost. Double paths
// track the largest magnitude instead.
//
// Each vector path sums in vector lanes, so its sums round differently from histogram.cc's
// sequential `sum_ += value`. The portable path sums sequentially and matches it exactly, except
// that a running double sum passing through the subnormal range is not flushed on the way.

#include "CRingboardSIMD.h"

#include <float.h>
#include <math.h>
#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

// histogram.cc rounds `value * value` before adding it to `sum_squares_`; for doubles a fused
// multiply-add would round once and give other sums. (The square of a float-valued double is
// exact, so the float paths may fuse, and do.)
#pragma STDC FP_CONTRACT OFF

_Static_assert(sizeof(CRingboardSIMD_histogram_totals) == 40, "totals layout is shared with Swift");
_Static_assert(offsetof(CRingboardSIMD_histogram_totals, non_finite) == 32, "totals layout is shared with Swift");
_Static_assert(offsetof(CRingboardSIMD_histogram_table, cell_count) == 16, "table layout is shared with Swift");
_Static_assert(sizeof(CRingboardSIMD_histogram_table) == 32, "table layout is shared with Swift");

enum {
    COPIES = CRingboardSIMD_HISTOGRAM_COUNT_COPIES,
    // log2(COPIES): a double slot is bucket << COPY_SHIFT.
    COPY_SHIFT = 2,
    // Values binned before their slots are added to the counts: big enough that the slots were
    // stored long before they are read back, small enough to stay in L1.
    BLOCK = 512,
};
_Static_assert(COPIES == 1 << COPY_SHIFT, "COPY_SHIFT follows COPIES");
_Static_assert(BLOCK % 16 == 0, "a block holds whole vectors");

// float: 1 sign, 8 exponent and 23 mantissa bits; a cell keeps the sign, exponent and top 4
// mantissa bits.
#define FLOAT_EXPONENT_MASK 0x7f800000u
#define FLOAT_CELL_SHIFT 19
#define FLOAT_REMAINDER_MASK 0x7ffffu
#define FLOAT_SLOT_SHIFT 19

// double: 1 sign, 11 exponent and 52 mantissa bits.
#define DOUBLE_ABS_MASK 0x7fffffffffffffffull
#define DOUBLE_SMALLEST_NORMAL 0x0010000000000000ull
#define DOUBLE_LARGEST_FINITE 0x7fefffffffffffffull
#define DOUBLE_CELL_SHIFT 48
#define DOUBLE_REMAINDER_MASK 0xffffffffffffull
#define DOUBLE_BUCKET_SHIFT 49
#define DOUBLE_THRESHOLD_MASK 0x1ffffffffffffull

// What a pass has gathered so far; each path adds to it, and the tail goes through the portable code.
typedef struct accumulator {
    double sum;
    double sum_squares;
    double min;
    double max;
    // Largest magnitude seen, as bits (doubles only); above the largest finite one means NaN or infinity.
    uint64_t largest_magnitude;
} accumulator;

static void accumulator_init(accumulator *acc) {
    acc->sum = 0.0;
    acc->sum_squares = 0.0;
    acc->min = INFINITY;
    acc->max = -INFINITY;
    acc->largest_magnitude = 0;
}

// Adds a block's slots to the counts: slot k goes to copy k % COPIES. `length` is a multiple of COPIES.
static inline void add_slots(uint32_t *counts, const uint32_t *slots, size_t length) {
    for (size_t k = 0; k < length; k += COPIES) {
        counts[slots[k]] += 1;
        counts[slots[k + 1] + 1] += 1;
        counts[slots[k + 2] + 2] += 1;
        counts[slots[k + 3] + 3] += 1;
    }
}

// MARK: - Portable path

static inline uint32_t float_bits(const float *value) {
    uint32_t bits;
    memcpy(&bits, value, sizeof bits);
    return bits;
}

static inline uint64_t double_bits(const double *value) {
    uint64_t bits;
    memcpy(&bits, value, sizeof bits);
    return bits;
}

// The count slot (bucket * COPIES) of a float, from its bits.
static inline uint32_t float_slot(uint32_t bits, const uint32_t *entries) {
    uint32_t entry = entries[bits >> FLOAT_CELL_SHIFT];
    uint32_t negative = (uint32_t)((int32_t)bits >> 31);  // all ones for a negative value
    uint32_t remainder = (bits ^ negative) & FLOAT_REMAINDER_MASK;
    return (entry >> FLOAT_SLOT_SHIFT) + (remainder >= (entry & FLOAT_REMAINDER_MASK) ? COPIES : 0);
}

// The bucket of a double, from its bits with subnormals already flushed to +0.
static inline uint32_t double_bucket(uint64_t flushed, const CRingboardSIMD_histogram_table *table) {
    uint64_t magnitude = flushed & DOUBLE_ABS_MASK;
    uint64_t negative = flushed >> 63;  // a flushed -0 is +0, so this is `value < 0`
    int64_t key = (int64_t)(magnitude >> DOUBLE_CELL_SHIFT) - (int64_t)table->double_key_base;
    key = key < 0 ? 0 : key > (int64_t)table->cell_count - 1 ? (int64_t)table->cell_count - 1 : key;
    uint64_t entry = table->double_entries[(uint64_t)key + (negative ? table->cell_count : 0)];
    uint64_t remainder = (magnitude ^ (negative ? DOUBLE_REMAINDER_MASK : 0)) & DOUBLE_REMAINDER_MASK;
    return (uint32_t)(entry >> DOUBLE_BUCKET_SHIFT) + (remainder >= (entry & DOUBLE_THRESHOLD_MASK));
}

// One pass in input order, with histogram.cc's sequential sums. `counts` may be NULL (totals only).
static void float_portable(const float *values, size_t count, const CRingboardSIMD_histogram_table *table,
                           uint32_t *counts, accumulator *acc) {
    const uint32_t *entries = counts ? table->float_entries : NULL;
    double sum = acc->sum, sum_squares = acc->sum_squares;
    // Extremes of float values stay float: comparing floats is exact and cheaper.
    float min = (float)acc->min, max = (float)acc->max;
    for (size_t i = 0; i < count; i++) {
        uint32_t bits = float_bits(values + i);
        if (entries) counts[float_slot(bits, entries) + (i & (COPIES - 1))] += 1;
        uint32_t flushed = bits & FLOAT_EXPONENT_MASK ? bits : 0;
        float narrow;
        memcpy(&narrow, &flushed, sizeof narrow);
        min = narrow < min ? narrow : min;
        max = narrow > max ? narrow : max;
        double value = (double)narrow;
        sum += value;
        double square = value * value;
        sum_squares += square;
    }
    acc->sum = sum;
    acc->sum_squares = sum_squares;
    acc->min = min;
    acc->max = max;
}

static void double_portable(const double *values, size_t count, const CRingboardSIMD_histogram_table *table,
                            uint32_t *counts, accumulator *acc) {
    double sum = acc->sum, sum_squares = acc->sum_squares, min = acc->min, max = acc->max;
    uint64_t largest = acc->largest_magnitude;
    for (size_t i = 0; i < count; i++) {
        uint64_t bits = double_bits(values + i);
        uint64_t magnitude = bits & DOUBLE_ABS_MASK;
        largest = magnitude > largest ? magnitude : largest;
        uint64_t flushed = magnitude >= DOUBLE_SMALLEST_NORMAL ? bits : 0;
        counts[double_bucket(flushed, table) << COPY_SHIFT | (i & (COPIES - 1))] += 1;
        double value;
        memcpy(&value, &flushed, sizeof value);
        sum += value;
        double square = value * value;
        sum_squares += square >= DBL_MIN ? square : 0.0;
        min = value < min ? value : min;
        max = value > max ? value : max;
    }
    acc->sum = sum;
    acc->sum_squares = sum_squares;
    acc->min = min;
    acc->max = max;
    acc->largest_magnitude = largest;
}

// MARK: - AVX2 and AVX-512 paths

#if defined(__x86_64__)

#define AVX2_TARGET __attribute__((target("avx2,fma")))
#define AVX512_TARGET __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl")))
#define INLINE static inline __attribute__((always_inline))

// Each float body takes `with_buckets` as a constant, so one body serves the histogram and the
// totals-only pass.

AVX512_TARGET INLINE void float_avx512_body(const float *values, size_t count,
                                            const CRingboardSIMD_histogram_table *table, uint32_t *counts,
                                            accumulator *acc, const int with_buckets) {
    const __m512i exponent_mask = _mm512_set1_epi32((int)FLOAT_EXPONENT_MASK);
    const __m512i remainder_mask = _mm512_set1_epi32((int)FLOAT_REMAINDER_MASK);
    const __m512i next_slot = _mm512_set1_epi32(COPIES);
    const uint32_t *entries = with_buckets ? table->float_entries : NULL;
    __m512 low = _mm512_set1_ps(INFINITY), high = _mm512_set1_ps(-INFINITY);
    __m512d sum_low = _mm512_setzero_pd(), sum_high = _mm512_setzero_pd();
    __m512d squares_low = _mm512_setzero_pd(), squares_high = _mm512_setzero_pd();
    _Alignas(64) uint32_t slots[BLOCK];

    size_t i = 0;
    while (count - i >= 16) {
        size_t length = count - i < BLOCK ? (count - i) & ~(size_t)15 : BLOCK;
        for (size_t j = 0; j < length; j += 16) {
            __m512i bits = _mm512_loadu_si512((const void *)(values + i + j));
            if (with_buckets) {
                __m512i entry = _mm512_i32gather_epi32(_mm512_srli_epi32(bits, FLOAT_CELL_SHIFT), (const void *)entries, 4);
                // (bits ^ sign) & remainder_mask: the remainder, complemented for a negative value.
                __m512i remainder = _mm512_ternarylogic_epi32(bits, _mm512_srai_epi32(bits, 31), remainder_mask, 0x28);
                __mmask16 step = _mm512_cmpge_epu32_mask(remainder, _mm512_and_si512(entry, remainder_mask));
                __m512i slot = _mm512_srli_epi32(entry, FLOAT_SLOT_SHIFT);
                _mm512_store_si512((void *)(slots + j), _mm512_mask_add_epi32(slot, step, slot, next_slot));
            }
            // Zeros and subnormals (exponent bits 0) become +0.
            __m512 x = _mm512_castsi512_ps(_mm512_maskz_mov_epi32(_mm512_test_epi32_mask(bits, exponent_mask), bits));
            low = _mm512_min_ps(low, x);
            high = _mm512_max_ps(high, x);
            __m512d x_low = _mm512_cvtps_pd(_mm512_castps512_ps256(x));
            __m512d x_high = _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(x), 1)));
            sum_low = _mm512_add_pd(sum_low, x_low);
            sum_high = _mm512_add_pd(sum_high, x_high);
            squares_low = _mm512_fmadd_pd(x_low, x_low, squares_low);
            squares_high = _mm512_fmadd_pd(x_high, x_high, squares_high);
        }
        if (with_buckets) add_slots(counts, slots, length);
        i += length;
    }

    acc->sum += _mm512_reduce_add_pd(_mm512_add_pd(sum_low, sum_high));
    acc->sum_squares += _mm512_reduce_add_pd(_mm512_add_pd(squares_low, squares_high));
    double vector_min = (double)_mm512_reduce_min_ps(low), vector_max = (double)_mm512_reduce_max_ps(high);
    acc->min = vector_min < acc->min ? vector_min : acc->min;
    acc->max = vector_max > acc->max ? vector_max : acc->max;
    float_portable(values + i, count - i, table, with_buckets ? counts : NULL, acc);
}

AVX512_TARGET static void float_avx512(const float *values, size_t count, const CRingboardSIMD_histogram_table *table,
                                       uint32_t *counts, accumulator *acc) {
    float_avx512_body(values, count, table, counts, acc, 1);
}

AVX512_TARGET static void float_totals_avx512(const float *values, size_t count, accumulator *acc) {
    float_avx512_body(values, count, NULL, NULL, acc, 0);
}

AVX512_TARGET static void double_avx512(const double *values, size_t count, const CRingboardSIMD_histogram_table *table,
                                        uint32_t *counts, accumulator *acc) {
    const __m512i abs_mask = _mm512_set1_epi64((long long)DOUBLE_ABS_MASK);
    const __m512i smallest_normal = _mm512_set1_epi64((long long)DOUBLE_SMALLEST_NORMAL);
    const __m512i remainder_mask = _mm512_set1_epi64((long long)DOUBLE_REMAINDER_MASK);
    const __m512i threshold_mask = _mm512_set1_epi64((long long)DOUBLE_THRESHOLD_MASK);
    const __m512i zero = _mm512_setzero_si512();
    const __m512i one = _mm512_set1_epi64(1);
    const __m512i key_base = _mm512_set1_epi64(table->double_key_base);
    const __m512i last_cell = _mm512_set1_epi64((long long)table->cell_count - 1);
    const __m512i negative_cells = _mm512_set1_epi64(table->cell_count);
    const __m512d smallest_normal_value = _mm512_set1_pd(DBL_MIN);
    __m512i largest = zero;
    __m512d low = _mm512_set1_pd(INFINITY), high = _mm512_set1_pd(-INFINITY);
    __m512d sum = _mm512_setzero_pd(), squares = _mm512_setzero_pd();
    _Alignas(64) uint32_t slots[BLOCK];

    size_t i = 0;
    while (count - i >= 8) {
        size_t length = count - i < BLOCK ? (count - i) & ~(size_t)7 : BLOCK;
        for (size_t j = 0; j < length; j += 8) {
            __m512i bits = _mm512_loadu_si512((const void *)(values + i + j));
            __m512i magnitude = _mm512_and_si512(bits, abs_mask);
            largest = _mm512_max_epu64(largest, magnitude);
            __mmask8 normal = _mm512_cmpge_epu64_mask(magnitude, smallest_normal);
            __m512i flushed = _mm512_maskz_mov_epi64(normal, bits);
            magnitude = _mm512_maskz_mov_epi64(normal, magnitude);
            __mmask8 negative = _mm512_cmplt_epi64_mask(flushed, zero);
            __m512i key = _mm512_sub_epi64(_mm512_srli_epi64(magnitude, DOUBLE_CELL_SHIFT), key_base);
            key = _mm512_min_epi64(_mm512_max_epi64(key, zero), last_cell);
            key = _mm512_mask_add_epi64(key, negative, key, negative_cells);
            __m512i entry = _mm512_i64gather_epi64(key, (const void *)table->double_entries, 8);
            __m512i remainder = _mm512_mask_xor_epi64(magnitude, negative, magnitude, remainder_mask);
            remainder = _mm512_and_si512(remainder, remainder_mask);
            __mmask8 step = _mm512_cmpge_epu64_mask(remainder, _mm512_and_si512(entry, threshold_mask));
            __m512i bucket = _mm512_srli_epi64(entry, DOUBLE_BUCKET_SHIFT);
            bucket = _mm512_mask_add_epi64(bucket, step, bucket, one);
            _mm256_store_si256((__m256i *)(slots + j), _mm512_cvtepi64_epi32(_mm512_slli_epi64(bucket, COPY_SHIFT)));

            __m512d x = _mm512_castsi512_pd(flushed);
            low = _mm512_min_pd(low, x);
            high = _mm512_max_pd(high, x);
            sum = _mm512_add_pd(sum, x);
            __m512d square = _mm512_mul_pd(x, x);
            square = _mm512_maskz_mov_pd(_mm512_cmp_pd_mask(square, smallest_normal_value, _CMP_GE_OQ), square);
            squares = _mm512_add_pd(squares, square);
        }
        add_slots(counts, slots, length);
        i += length;
    }

    acc->sum += _mm512_reduce_add_pd(sum);
    acc->sum_squares += _mm512_reduce_add_pd(squares);
    double vector_min = _mm512_reduce_min_pd(low), vector_max = _mm512_reduce_max_pd(high);
    acc->min = vector_min < acc->min ? vector_min : acc->min;
    acc->max = vector_max > acc->max ? vector_max : acc->max;
    uint64_t vector_largest = _mm512_reduce_max_epu64(largest);
    acc->largest_magnitude = vector_largest > acc->largest_magnitude ? vector_largest : acc->largest_magnitude;
    double_portable(values + i, count - i, table, counts, acc);
}

AVX2_TARGET INLINE double horizontal_min256(__m256 v) {
    __m128 m = _mm_min_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    m = _mm_min_ps(m, _mm_movehl_ps(m, m));
    m = _mm_min_ss(m, _mm_shuffle_ps(m, m, 1));
    return (double)_mm_cvtss_f32(m);
}

AVX2_TARGET INLINE double horizontal_max256(__m256 v) {
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    m = _mm_max_ss(m, _mm_shuffle_ps(m, m, 1));
    return (double)_mm_cvtss_f32(m);
}

AVX2_TARGET INLINE double horizontal_sum256d(__m256d v) {
    __m128d s = _mm_add_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
    return _mm_cvtsd_f64(_mm_add_sd(s, _mm_unpackhi_pd(s, s)));
}

AVX2_TARGET INLINE double horizontal_min256d(__m256d v) {
    __m128d m = _mm_min_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
    return _mm_cvtsd_f64(_mm_min_sd(m, _mm_unpackhi_pd(m, m)));
}

AVX2_TARGET INLINE double horizontal_max256d(__m256d v) {
    __m128d m = _mm_max_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
    return _mm_cvtsd_f64(_mm_max_sd(m, _mm_unpackhi_pd(m, m)));
}

AVX2_TARGET INLINE void float_avx2_body(const float *values, size_t count,
                                        const CRingboardSIMD_histogram_table *table, uint32_t *counts,
                                        accumulator *acc, const int with_buckets) {
    const __m256i exponent_mask = _mm256_set1_epi32((int)FLOAT_EXPONENT_MASK);
    const __m256i remainder_mask = _mm256_set1_epi32((int)FLOAT_REMAINDER_MASK);
    const __m256i next_slot = _mm256_set1_epi32(COPIES);
    const __m256i zero = _mm256_setzero_si256();
    const int *entries = with_buckets ? (const int *)table->float_entries : NULL;
    __m256 low = _mm256_set1_ps(INFINITY), high = _mm256_set1_ps(-INFINITY);
    __m256d sum_low = _mm256_setzero_pd(), sum_high = _mm256_setzero_pd();
    __m256d squares_low = _mm256_setzero_pd(), squares_high = _mm256_setzero_pd();
    _Alignas(32) uint32_t slots[BLOCK];

    size_t i = 0;
    while (count - i >= 8) {
        size_t length = count - i < BLOCK ? (count - i) & ~(size_t)7 : BLOCK;
        for (size_t j = 0; j < length; j += 8) {
            __m256i bits = _mm256_loadu_si256((const __m256i *)(values + i + j));
            if (with_buckets) {
                __m256i entry = _mm256_i32gather_epi32(entries, _mm256_srli_epi32(bits, FLOAT_CELL_SHIFT), 4);
                __m256i remainder = _mm256_and_si256(_mm256_xor_si256(bits, _mm256_srai_epi32(bits, 31)), remainder_mask);
                // remainder >= threshold, as max(remainder, threshold) == remainder.
                __m256i threshold = _mm256_and_si256(entry, remainder_mask);
                __m256i step = _mm256_cmpeq_epi32(_mm256_max_epu32(remainder, threshold), remainder);
                __m256i slot = _mm256_add_epi32(_mm256_srli_epi32(entry, FLOAT_SLOT_SHIFT), _mm256_and_si256(step, next_slot));
                _mm256_store_si256((__m256i *)(slots + j), slot);
            }
            // Zeros and subnormals (exponent bits 0) become +0.
            __m256i subnormal = _mm256_cmpeq_epi32(_mm256_and_si256(bits, exponent_mask), zero);
            __m256 x = _mm256_castsi256_ps(_mm256_andnot_si256(subnormal, bits));
            low = _mm256_min_ps(low, x);
            high = _mm256_max_ps(high, x);
            __m256d x_low = _mm256_cvtps_pd(_mm256_castps256_ps128(x));
            __m256d x_high = _mm256_cvtps_pd(_mm256_extractf128_ps(x, 1));
            sum_low = _mm256_add_pd(sum_low, x_low);
            sum_high = _mm256_add_pd(sum_high, x_high);
            squares_low = _mm256_fmadd_pd(x_low, x_low, squares_low);
            squares_high = _mm256_fmadd_pd(x_high, x_high, squares_high);
        }
        if (with_buckets) add_slots(counts, slots, length);
        i += length;
    }

    acc->sum += horizontal_sum256d(_mm256_add_pd(sum_low, sum_high));
    acc->sum_squares += horizontal_sum256d(_mm256_add_pd(squares_low, squares_high));
    double vector_min = horizontal_min256(low), vector_max = horizontal_max256(high);
    acc->min = vector_min < acc->min ? vector_min : acc->min;
    acc->max = vector_max > acc->max ? vector_max : acc->max;
    float_portable(values + i, count - i, table, with_buckets ? counts : NULL, acc);
}

AVX2_TARGET static void float_avx2(const float *values, size_t count, const CRingboardSIMD_histogram_table *table,
                                   uint32_t *counts, accumulator *acc) {
    float_avx2_body(values, count, table, counts, acc, 1);
}

AVX2_TARGET static void float_totals_avx2(const float *values, size_t count, accumulator *acc) {
    float_avx2_body(values, count, NULL, NULL, acc, 0);
}

AVX2_TARGET static void double_avx2(const double *values, size_t count, const CRingboardSIMD_histogram_table *table,
                                    uint32_t *counts, accumulator *acc) {
    const __m256i abs_mask = _mm256_set1_epi64x((long long)DOUBLE_ABS_MASK);
    const __m256i largest_subnormal = _mm256_set1_epi64x((long long)DOUBLE_SMALLEST_NORMAL - 1);
    const __m256i largest_finite = _mm256_set1_epi64x((long long)DOUBLE_LARGEST_FINITE);
    const __m256i remainder_mask = _mm256_set1_epi64x((long long)DOUBLE_REMAINDER_MASK);
    const __m256i threshold_mask = _mm256_set1_epi64x((long long)DOUBLE_THRESHOLD_MASK);
    const __m256i zero = _mm256_setzero_si256();
    const __m256i one = _mm256_set1_epi64x(1);
    const __m256i key_base = _mm256_set1_epi64x(table->double_key_base);
    const __m256i last_cell = _mm256_set1_epi64x((long long)table->cell_count - 1);
    const __m256i negative_cells = _mm256_set1_epi64x(table->cell_count);
    // Gathers the low halves of four 64-bit lanes into one 128-bit vector of slots.
    const __m256i low_halves = _mm256_set_epi32(7, 7, 7, 7, 6, 4, 2, 0);
    const __m256d smallest_normal_value = _mm256_set1_pd(DBL_MIN);
    // AVX2 has no 64-bit unsigned max: collect "above the largest finite magnitude" instead.
    __m256i non_finite = zero;
    __m256d low = _mm256_set1_pd(INFINITY), high = _mm256_set1_pd(-INFINITY);
    __m256d sum = _mm256_setzero_pd(), squares = _mm256_setzero_pd();
    _Alignas(32) uint32_t slots[BLOCK];

    size_t i = 0;
    while (count - i >= 4) {
        size_t length = count - i < BLOCK ? (count - i) & ~(size_t)3 : BLOCK;
        for (size_t j = 0; j < length; j += 4) {
            __m256i bits = _mm256_loadu_si256((const __m256i *)(values + i + j));
            __m256i magnitude = _mm256_and_si256(bits, abs_mask);
            non_finite = _mm256_or_si256(non_finite, _mm256_cmpgt_epi64(magnitude, largest_finite));
            __m256i normal = _mm256_cmpgt_epi64(magnitude, largest_subnormal);
            __m256i flushed = _mm256_and_si256(bits, normal);
            magnitude = _mm256_and_si256(magnitude, normal);
            __m256i negative = _mm256_cmpgt_epi64(zero, flushed);
            __m256i key = _mm256_sub_epi64(_mm256_srli_epi64(magnitude, DOUBLE_CELL_SHIFT), key_base);
            key = _mm256_andnot_si256(_mm256_cmpgt_epi64(zero, key), key);
            key = _mm256_blendv_epi8(key, last_cell, _mm256_cmpgt_epi64(key, last_cell));
            key = _mm256_add_epi64(key, _mm256_and_si256(negative, negative_cells));
            __m256i entry = _mm256_i64gather_epi64((const long long *)table->double_entries, key, 8);
            __m256i remainder = _mm256_and_si256(_mm256_xor_si256(magnitude, negative), remainder_mask);
            __m256i threshold = _mm256_sub_epi64(_mm256_and_si256(entry, threshold_mask), one);
            __m256i step = _mm256_cmpgt_epi64(remainder, threshold);
            __m256i bucket = _mm256_sub_epi64(_mm256_srli_epi64(entry, DOUBLE_BUCKET_SHIFT), step);
            __m256i slot = _mm256_permutevar8x32_epi32(_mm256_slli_epi64(bucket, COPY_SHIFT), low_halves);
            _mm_store_si128((__m128i *)(slots + j), _mm256_castsi256_si128(slot));

            __m256d x = _mm256_castsi256_pd(flushed);
            low = _mm256_min_pd(low, x);
            high = _mm256_max_pd(high, x);
            sum = _mm256_add_pd(sum, x);
            __m256d square = _mm256_mul_pd(x, x);
            square = _mm256_and_pd(square, _mm256_cmp_pd(square, smallest_normal_value, _CMP_GE_OQ));
            squares = _mm256_add_pd(squares, square);
        }
        add_slots(counts, slots, length);
        i += length;
    }

    acc->sum += horizontal_sum256d(sum);
    acc->sum_squares += horizontal_sum256d(squares);
    double vector_min = horizontal_min256d(low), vector_max = horizontal_max256d(high);
    acc->min = vector_min < acc->min ? vector_min : acc->min;
    acc->max = vector_max > acc->max ? vector_max : acc->max;
    if (!_mm256_testz_si256(non_finite, non_finite)) acc->largest_magnitude = DOUBLE_ABS_MASK;
    double_portable(values + i, count - i, table, counts, acc);
}

#endif  // __x86_64__

// MARK: - Dispatch

// The widest path not above `requested` that this CPU runs.
static int usable_width(int requested) {
    int available = CRingboardSIMD_vector_width();
    int width = requested >= 512 ? 512 : requested >= 256 ? 256 : 0;
    return width < available ? width : available;
}

static void finish(const accumulator *acc, int non_finite, CRingboardSIMD_histogram_totals *totals) {
    // Under FTZ the last addition of histogram.cc's running sum flushes a subnormal result.
    totals->sum = fabs(acc->sum) >= DBL_MIN ? acc->sum : copysign(0.0, acc->sum);
    totals->sum_squares = acc->sum_squares >= DBL_MIN ? acc->sum_squares : 0.0;
    totals->min = acc->min;
    totals->max = acc->max;
    totals->non_finite = (uint32_t)non_finite;
    totals->reserved = 0;
}

void CRingboardSIMD_histogram_float(const float *values, size_t count, const CRingboardSIMD_histogram_table *table,
                                    uint32_t *counts, int vector_width, CRingboardSIMD_histogram_totals *totals) {
    accumulator acc;
    accumulator_init(&acc);
    switch (usable_width(vector_width)) {
#if defined(__x86_64__)
    case 512: float_avx512(values, count, table, counts, &acc); break;
    case 256: float_avx2(values, count, table, counts, &acc); break;
#endif
    default: float_portable(values, count, table, counts, &acc); break;
    }
    finish(&acc, !isfinite(acc.sum_squares), totals);
}

void CRingboardSIMD_histogram_double(const double *values, size_t count, const CRingboardSIMD_histogram_table *table,
                                     uint32_t *counts, int vector_width, CRingboardSIMD_histogram_totals *totals) {
    accumulator acc;
    accumulator_init(&acc);
    switch (usable_width(vector_width)) {
#if defined(__x86_64__)
    case 512: double_avx512(values, count, table, counts, &acc); break;
    case 256: double_avx2(values, count, table, counts, &acc); break;
#endif
    default: double_portable(values, count, table, counts, &acc); break;
    }
    finish(&acc, acc.largest_magnitude > DOUBLE_LARGEST_FINITE, totals);
}

void CRingboardSIMD_histogram_float_totals(const float *values, size_t count, int vector_width,
                                           CRingboardSIMD_histogram_totals *totals) {
    accumulator acc;
    accumulator_init(&acc);
    switch (usable_width(vector_width)) {
#if defined(__x86_64__)
    case 512: float_totals_avx512(values, count, &acc); break;
    case 256: float_totals_avx2(values, count, &acc); break;
#endif
    default: float_portable(values, count, NULL, NULL, &acc); break;
    }
    finish(&acc, !isfinite(acc.sum_squares), totals);
}
