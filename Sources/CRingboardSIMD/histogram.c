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
// Sums are exact. Each path adds the values in lanes with Knuth's TwoSum: `sum + x = sum' + error`
// exactly, and the errors go to a compensation term per lane. That term is itself rounded, so
// at the end of each block it is moved into a second pair (TwoSum again), and the only rounding
// left is in the additions to the compensation terms, which see values 2^-53 times smaller than
// the sums. At the end of a call every lane's four doubles, and the values after the last whole
// vector, are added to an exact fixed-point sum (CRingboardSIMD_exact_sum), and a bound on what
// the compensation terms can have rounded away is added to the accumulator's error. At the end,
// the exact sum is rounded once; when the sum moved by the bound either way rounds to the same
// double, that double is the correctly rounded exact sum. Otherwise the caller sums again with
// the exact scalar code. Rounding once makes the result the same on every path and every order.
//
// The bound, for one lane that took L values of magnitude at most M, in blocks of B (u = 2^-53,
// uL <= 1/4): each partial sum is at most 2LM, so each TwoSum error is at most e = 2uLM. In a
// block the compensation term stays below 2Be and its roundings add to at most 2uB^2 e; over the
// at most L/B + 1 blocks that is 2uB(L + B)e. The second pair's own rounding is a u^2 smaller
// term: 16u^3 N^2 (L + B) L M with N = L/B + 1 blocks. `lanes_error_bound` doubles the sum of both.
//
// A float's square can't overflow a double, and no sum of floats can, so a float lane that is not
// finite at the end has seen a NaN or an infinity: that is how the float paths notice them, at no
// cost. Double paths track the largest magnitude instead, and a double lane that overflowed makes
// the bound infinite (the exact sum may well be finite).

#include "CRingboardSIMD.h"

#include <float.h>
#include <math.h>
#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

// histogram.cc rounds `value * value` before adding it to `sum_squares_`; for doubles a fused
// multiply-add would round once and give other sums. TwoSum also needs every addition rounded
// on its own, as written: no contraction, and no -ffast-math reassociation (Package.swift sets
// no such flag).
#pragma STDC FP_CONTRACT OFF

_Static_assert(sizeof(CRingboardSIMD_histogram_totals) == 40, "totals layout is shared with Swift");
_Static_assert(offsetof(CRingboardSIMD_histogram_totals, non_finite) == 32, "totals layout is shared with Swift");
_Static_assert(sizeof(CRingboardSIMD_exact_sum) == 8 * CRingboardSIMD_EXACT_SUM_DIGITS + 8, "layout is shared with Swift");
_Static_assert(offsetof(CRingboardSIMD_histogram_accumulator, sum_error) == 2 * sizeof(CRingboardSIMD_exact_sum),
               "accumulator layout is shared with Swift");
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

typedef CRingboardSIMD_histogram_accumulator accumulator;

// MARK: - Exact sums

enum {
    DIGITS = CRingboardSIMD_EXACT_SUM_DIGITS,
    // Additions between carry passes: each adds less than 2^32 to a digit, which holds 2^63.
    PENDING_LIMIT = 1 << 30,
};

static inline uint64_t double_bits(const double *value) {
    uint64_t bits;
    memcpy(&bits, value, sizeof bits);
    return bits;
}

static inline double double_from_bits(uint64_t bits) {
    double value;
    memcpy(&value, &bits, sizeof value);
    return value;
}

// Passes every digit's carry on, so that digits 0 to DIGITS - 2 lie in [0, 2^32) and the last one
// holds the rest, with the sign.
static void exact_propagate(CRingboardSIMD_exact_sum *sum) {
    for (int k = 0; k < DIGITS - 1; k++) {
        int64_t carry = sum->digits[k] >> 32;  // arithmetic shift: rounds toward -inf
        sum->digits[k] -= carry * ((int64_t)1 << 32);
        sum->digits[k + 1] += carry;
    }
    sum->pending = 0;
}

// Adds `value` exactly: its 53-bit significand, shifted to its place, spans three digits.
static inline void exact_add(CRingboardSIMD_exact_sum *sum, double value) {
    uint64_t bits = double_bits(&value);
    uint64_t significand = bits & 0xfffffffffffffull;
    uint32_t biased = (uint32_t)(bits >> 52) & 0x7ff;
    if (biased == 0x7ff) {
        sum->special |= significand ? 4u : (bits >> 63) ? 2u : 1u;
        return;
    }
    if (biased != 0) {
        significand |= 1ull << 52;
    } else {
        if (significand == 0) return;
        biased = 1;  // a subnormal: the same scale as the smallest normal, no leading 1
    }
    uint32_t place = biased - 1;  // value = significand * 2^(place - 1074)
    uint32_t k = place >> 5, shift = place & 31;
    int64_t low = (int64_t)(uint32_t)(significand << shift);
    int64_t middle = (int64_t)(uint32_t)((significand << shift) >> 32);
    int64_t high = (int64_t)((significand >> 32) >> (32 - shift));
    if (bits >> 63) {
        low = -low;
        middle = -middle;
        high = -high;
    }
    sum->digits[k] += low;
    sum->digits[k + 1] += middle;
    sum->digits[k + 2] += high;
    if (++sum->pending >= PENDING_LIMIT) exact_propagate(sum);
}

static inline int exact_bit(const CRingboardSIMD_exact_sum *sum, int index) {
    return (int)((sum->digits[index >> 5] >> (index & 31)) & 1);
}

// Whether any of the bits below `index` is set.
static int exact_any_below(const CRingboardSIMD_exact_sum *sum, int index) {
    for (int k = 0; k < index >> 5; k++) {
        if (sum->digits[k] != 0) return 1;
    }
    return (sum->digits[index >> 5] & (((int64_t)1 << (index & 31)) - 1)) != 0;
}

// `sum + offset` rounded to the nearest double (ties to even), then, below DBL_MIN, flushed to a
// zero of its sign, as a sum under FTZ is. An exact zero is +0, as in histogram.cc's running sum.
static double exact_round(const CRingboardSIMD_exact_sum *sum, double offset) {
    if (sum->special) {
        if ((sum->special & 4) || (sum->special & 3) == 3) return NAN;
        return (sum->special & 1) ? INFINITY : -INFINITY;
    }
    CRingboardSIMD_exact_sum value = *sum;
    exact_add(&value, offset);
    exact_propagate(&value);
    int negative = value.digits[DIGITS - 1] < 0;
    if (negative) {
        for (int k = 0; k < DIGITS; k++) value.digits[k] = -value.digits[k];
        exact_propagate(&value);
    }
    int top = DIGITS - 1;
    while (top >= 0 && value.digits[top] == 0) top--;
    if (top < 0) return 0.0;
    uint64_t sign = (uint64_t)negative << 63;
    // The last digit starts at 2^(32 * 66 - 1074), far beyond DBL_MAX.
    if (top == DIGITS - 1) return double_from_bits(sign | 0x7ff0000000000000ull);
    int highest = 32 * top + 63 - __builtin_clzll((uint64_t)value.digits[top]);
    int lowest = highest - 52 > 0 ? highest - 52 : 0;  // below 2^-1022 the last bit is 2^-1074
    uint64_t significand = 0;
    for (int index = highest; index >= lowest; index--) significand = significand << 1 | (uint64_t)exact_bit(&value, index);
    if (lowest > 0 && exact_bit(&value, lowest - 1) &&
        ((significand & 1) || (lowest > 1 && exact_any_below(&value, lowest - 1)))) {
        significand += 1;
        if (significand == 1ull << 53) {
            significand >>= 1;
            lowest += 1;
        }
    }
    // value = significand * 2^(lowest - 1074); a normal one has the biased exponent lowest + 1.
    if (significand < 1ull << 52) return negative ? -0.0 : 0.0;  // subnormal: flushed
    uint64_t biased = (uint64_t)lowest + 1;
    if (biased >= 0x7ff) return double_from_bits(sign | 0x7ff0000000000000ull);
    return double_from_bits(sign | biased << 52 | (significand & 0xfffffffffffffull));
}

// The rounded sum; `*uncertain` is set when the true sum, within `error` of `sum`, may round to
// another double. Rounding is monotonic, so when `sum - error` and `sum + error` round alike, so
// does everything between.
static double exact_round_within(const CRingboardSIMD_exact_sum *sum, double error, uint32_t *uncertain) {
    double rounded = exact_round(sum, 0.0);
    if (error == 0.0) return rounded;
    if (!(error <= DBL_MAX) || sum->special) {
        *uncertain = 1;
        return rounded;
    }
    double below = exact_round(sum, -error), above = exact_round(sum, error);
    if (double_bits(&below) != double_bits(&above)) *uncertain = 1;
    return rounded;
}

// A bound on what the compensation terms of `lanes` lanes, each of which took at most `steps`
// values of magnitude at most `largest` in blocks of `block_steps`, can have rounded away (see
// the top of this file).
static double lanes_error_bound(double lanes, double steps, double block_steps, double largest) {
    if (steps == 0 || largest == 0) return 0.0;
    const double u = 0x1p-53;
    double blocks = steps / block_steps + 1;
    double compensation = 4 * u * u * block_steps * (steps + block_steps) * steps * largest;
    double second = 16 * u * u * u * blocks * blocks * (steps + block_steps) * steps * largest;
    return 2 * lanes * (compensation + second);
}

// Adds `count` lane doubles to `sum`; a lane that is not finite makes `*error` infinite.
static void exact_add_lanes(CRingboardSIMD_exact_sum *sum, const double *lanes, size_t count, double *error) {
    for (size_t k = 0; k < count; k++) {
        if (isfinite(lanes[k])) {
            exact_add(sum, lanes[k]);
        } else {
            *error = INFINITY;
        }
    }
}

// TwoSum (Knuth): `*sum + x` is `*sum' + e` exactly; e goes to `*error`.
static inline void two_sum(double *sum, double *error, double x) {
    double s = *sum, t = s + x, v = t - s;
    double e = (s - (t - v)) + (x - v);
    *sum = t;
    *error += e;
}

// Scalar compensated lanes, four doubles each, lane k at `terms[k + PORTABLE_LANES * n]`: n = 0 the
// running sum, 1 its compensation term (this block's), 2 and 3 the second pair the compensation
// terms are moved into at the end of each block.
enum { PORTABLE_LANES = 4 };
typedef struct scalar_lanes {
    double terms[4 * PORTABLE_LANES];
} scalar_lanes;

static inline void scalar_lanes_add(scalar_lanes *lanes, int k, double x) {
    two_sum(&lanes->terms[k], &lanes->terms[PORTABLE_LANES + k], x);
}

static void scalar_lanes_end_block(scalar_lanes *lanes) {
    for (int k = 0; k < PORTABLE_LANES; k++) {
        two_sum(&lanes->terms[2 * PORTABLE_LANES + k], &lanes->terms[3 * PORTABLE_LANES + k],
                lanes->terms[PORTABLE_LANES + k]);
        lanes->terms[PORTABLE_LANES + k] = 0.0;
    }
}

// Adds a block's slots to the counts: slot k goes to copy k % COPIES. `length` is a multiple of COPIES.
static inline void add_slots(uint32_t *counts, const uint32_t *slots, size_t length) {
    for (size_t k = 0; k < length; k += COPIES) {
        // (counts + c)[slot], not counts[slot + c]: the copy's offset then goes in the address
        // instead of an addition per value (a 32-bit `slot + c` could wrap, so the compiler
        // can't move it there itself).
        counts[slots[k]] += 1;
        (counts + 1)[slots[k + 1]] += 1;
        (counts + 2)[slots[k + 2]] += 1;
        (counts + 3)[slots[k + 3]] += 1;
    }
}

// MARK: - Portable path

static inline uint32_t float_bits(const float *value) {
    uint32_t bits;
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

// Adds the lanes (`doubles` of them per sum: each lane's running sum, compensation term and second
// pair) to the exact sums, and their error bound to the accumulator. `largest` bounds the
// magnitude of the values the lanes took. Returns nonzero when a lane is not finite: the bounds
// are then infinite.
static int lanes_finish(accumulator *acc, const double *sums, const double *squares, size_t doubles,
                        double lanes, double steps, double block_steps, double largest) {
    double error = 0.0;
    exact_add_lanes(&acc->sum, sums, doubles, &error);
    exact_add_lanes(&acc->sum_squares, squares, doubles, &error);
    if (error != 0.0) {
        acc->sum_error = INFINITY;
        acc->sum_squares_error = INFINITY;
        return 1;
    }
    acc->sum_error += lanes_error_bound(lanes, steps, block_steps, largest);
    // A rounded square of a double is at most largest^2 (1 + 2^-53).
    acc->sum_squares_error += lanes_error_bound(lanes, steps, block_steps, largest * largest * (1 + 0x1p-50));
    return 0;
}

// The values after the last whole vector, one at a time, straight into the exact sums.
// `entries` may be NULL (totals only).
static void float_tail(const float *values, size_t count, const uint32_t *entries, uint32_t *counts,
                       accumulator *acc) {
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
        if (!isfinite(value)) acc->non_finite = 1;
        exact_add(&acc->sum, value);
        exact_add(&acc->sum_squares, value * value);
    }
    acc->min = min;
    acc->max = max;
}

static void double_tail(const double *values, size_t count, const CRingboardSIMD_histogram_table *table,
                        uint32_t *counts, accumulator *acc) {
    double min = acc->min, max = acc->max;
    uint64_t largest = acc->largest_magnitude;
    for (size_t i = 0; i < count; i++) {
        uint64_t bits = double_bits(values + i);
        uint64_t magnitude = bits & DOUBLE_ABS_MASK;
        largest = magnitude > largest ? magnitude : largest;
        uint64_t flushed = magnitude >= DOUBLE_SMALLEST_NORMAL ? bits : 0;
        counts[double_bucket(flushed, table) << COPY_SHIFT | (i & (COPIES - 1))] += 1;
        double value = double_from_bits(flushed);
        exact_add(&acc->sum, value);
        double square = value * value;
        exact_add(&acc->sum_squares, square >= DBL_MIN ? square : 0.0);
        min = value < min ? value : min;
        max = value > max ? value : max;
    }
    acc->min = min;
    acc->max = max;
    acc->largest_magnitude = largest;
}

_Static_assert(PORTABLE_LANES == COPIES, "lane k counts in copy k");

// Scalar, in PORTABLE_LANES compensated lanes. `counts` may be NULL (totals only).
static void float_portable(const float *values, size_t count, const CRingboardSIMD_histogram_table *table,
                           uint32_t *counts, accumulator *acc) {
    const uint32_t *entries = counts ? table->float_entries : NULL;
    // Extremes of float values stay float: comparing floats is exact and cheaper.
    float min = INFINITY, max = -INFINITY;
    scalar_lanes sums = {{0}}, squares = {{0}};
    size_t i = 0;
    while (count - i >= PORTABLE_LANES) {
        size_t length = count - i < BLOCK ? (count - i) & ~(size_t)(PORTABLE_LANES - 1) : BLOCK;
        for (size_t j = i; j < i + length; j += PORTABLE_LANES) {
            for (int k = 0; k < PORTABLE_LANES; k++) {
                uint32_t bits = float_bits(values + j + k);
                if (entries) counts[float_slot(bits, entries) + (uint32_t)k] += 1;
                uint32_t flushed = bits & FLOAT_EXPONENT_MASK ? bits : 0;
                float narrow;
                memcpy(&narrow, &flushed, sizeof narrow);
                min = narrow < min ? narrow : min;
                max = narrow > max ? narrow : max;
                double value = (double)narrow;
                scalar_lanes_add(&sums, k, value);
                scalar_lanes_add(&squares, k, value * value);
            }
        }
        scalar_lanes_end_block(&sums);
        scalar_lanes_end_block(&squares);
        i += length;
    }
    acc->min = min < acc->min ? min : acc->min;
    acc->max = max > acc->max ? max : acc->max;
    double largest = -min > max ? -(double)min : (double)max;
    if (lanes_finish(acc, sums.terms, squares.terms, 4 * PORTABLE_LANES, PORTABLE_LANES, (double)(i / PORTABLE_LANES),
                     BLOCK / PORTABLE_LANES, largest)) {
        acc->non_finite = 1;
    }
    float_tail(values + i, count - i, entries, counts, acc);
}

static void double_portable(const double *values, size_t count, const CRingboardSIMD_histogram_table *table,
                            uint32_t *counts, accumulator *acc) {
    double min = INFINITY, max = -INFINITY;
    uint64_t largest = acc->largest_magnitude;
    scalar_lanes sums = {{0}}, squares = {{0}};
    size_t i = 0;
    while (count - i >= PORTABLE_LANES) {
        size_t length = count - i < BLOCK ? (count - i) & ~(size_t)(PORTABLE_LANES - 1) : BLOCK;
        for (size_t j = i; j < i + length; j += PORTABLE_LANES) {
            for (int k = 0; k < PORTABLE_LANES; k++) {
                uint64_t bits = double_bits(values + j + k);
                uint64_t magnitude = bits & DOUBLE_ABS_MASK;
                largest = magnitude > largest ? magnitude : largest;
                uint64_t flushed = magnitude >= DOUBLE_SMALLEST_NORMAL ? bits : 0;
                counts[double_bucket(flushed, table) << COPY_SHIFT | (uint32_t)k] += 1;
                double value = double_from_bits(flushed);
                scalar_lanes_add(&sums, k, value);
                double square = value * value;
                scalar_lanes_add(&squares, k, square >= DBL_MIN ? square : 0.0);
                min = value < min ? value : min;
                max = value > max ? value : max;
            }
        }
        scalar_lanes_end_block(&sums);
        scalar_lanes_end_block(&squares);
        i += length;
    }
    acc->min = min < acc->min ? min : acc->min;
    acc->max = max > acc->max ? max : acc->max;
    acc->largest_magnitude = largest;
    lanes_finish(acc, sums.terms, squares.terms, 4 * PORTABLE_LANES, PORTABLE_LANES, (double)(i / PORTABLE_LANES),
                 BLOCK / PORTABLE_LANES, -min > max ? -min : max);
    double_tail(values + i, count - i, table, counts, acc);
}

// MARK: - AVX2 and AVX-512 paths

#if defined(__x86_64__)

#define AVX2_TARGET __attribute__((target("avx2,fma")))
#define AVX512_TARGET __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl")))
#define INLINE static inline __attribute__((always_inline))

// Compensated lanes in vectors: the running sums, their compensation terms (this block's), and the
// second pair the compensation terms are moved into at the end of each block.
// 1.0 in every lane, as a value the optimizer can't see through.
AVX512_TARGET INLINE __m512d opaque_one512(void) {
    __m512d one = _mm512_set1_pd(1.0);
    __asm__("" : "+v"(one));
    return one;
}

AVX2_TARGET INLINE __m256d opaque_one256(void) {
    __m256d one = _mm256_set1_pd(1.0);
    __asm__("" : "+x"(one));
    return one;
}

typedef struct lanes512 {
    __m512d sum, error, carried, carried_error;
} lanes512;

typedef struct lanes256 {
    __m256d sum, error, carried, carried_error;
} lanes256;

// TwoSum (Knuth) in each lane: sum + x = sum' + e exactly; e goes to the compensation term. Three
// of the seven additions are written as a * 1 ± b, which rounds the same (once): they then run on
// the multiply-add units, beside the adders, instead of queueing for the adders. `one` is 1.0,
// hidden from the compiler (`opaque_one512`), which would otherwise turn these back into additions.
AVX512_TARGET INLINE void lanes512_add(lanes512 *lanes, __m512d x, __m512d one) {
    __m512d s = lanes->sum, t = _mm512_add_pd(s, x), v = _mm512_fmsub_pd(t, one, s);
    __m512d e = _mm512_fmadd_pd(_mm512_sub_pd(s, _mm512_sub_pd(t, v)), one, _mm512_sub_pd(x, v));
    lanes->sum = t;
    lanes->error = _mm512_fmadd_pd(e, one, lanes->error);
}

AVX512_TARGET INLINE void lanes512_end_block(lanes512 *lanes) {
    __m512d s = lanes->carried, x = lanes->error, t = _mm512_add_pd(s, x), v = _mm512_sub_pd(t, s);
    __m512d e = _mm512_add_pd(_mm512_sub_pd(s, _mm512_sub_pd(t, v)), _mm512_sub_pd(x, v));
    lanes->carried = t;
    lanes->carried_error = _mm512_add_pd(lanes->carried_error, e);
    lanes->error = _mm512_setzero_pd();
}

// The four vectors of `lanes` to `terms` (32 doubles).
AVX512_TARGET INLINE void lanes512_store(const lanes512 *lanes, double *terms) {
    _mm512_storeu_pd(terms, lanes->sum);
    _mm512_storeu_pd(terms + 8, lanes->error);
    _mm512_storeu_pd(terms + 16, lanes->carried);
    _mm512_storeu_pd(terms + 24, lanes->carried_error);
}

AVX2_TARGET INLINE void lanes256_add(lanes256 *lanes, __m256d x, __m256d one) {
    __m256d s = lanes->sum, t = _mm256_add_pd(s, x), v = _mm256_fmsub_pd(t, one, s);
    __m256d e = _mm256_fmadd_pd(_mm256_sub_pd(s, _mm256_sub_pd(t, v)), one, _mm256_sub_pd(x, v));
    lanes->sum = t;
    lanes->error = _mm256_fmadd_pd(e, one, lanes->error);
}

AVX2_TARGET INLINE void lanes256_end_block(lanes256 *lanes) {
    __m256d s = lanes->carried, x = lanes->error, t = _mm256_add_pd(s, x), v = _mm256_sub_pd(t, s);
    __m256d e = _mm256_add_pd(_mm256_sub_pd(s, _mm256_sub_pd(t, v)), _mm256_sub_pd(x, v));
    lanes->carried = t;
    lanes->carried_error = _mm256_add_pd(lanes->carried_error, e);
    lanes->error = _mm256_setzero_pd();
}

// The four vectors of `lanes` to `terms` (16 doubles).
AVX2_TARGET INLINE void lanes256_store(const lanes256 *lanes, double *terms) {
    _mm256_storeu_pd(terms, lanes->sum);
    _mm256_storeu_pd(terms + 4, lanes->error);
    _mm256_storeu_pd(terms + 8, lanes->carried);
    _mm256_storeu_pd(terms + 12, lanes->carried_error);
}

// Each float body takes `with_buckets` as a constant, so one body serves the histogram and the
// totals-only pass.

// Adds 16 floats (flushed) and their squares, which are exact in double, to the lanes.
AVX512_TARGET INLINE void float512_sums(__m512 x, lanes512 *sum_low, lanes512 *sum_high, lanes512 *squares_low,
                                        lanes512 *squares_high, __m512d unit) {
    __m512d x_low = _mm512_cvtps_pd(_mm512_castps512_ps256(x));
    __m512d x_high = _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(x), 1)));
    lanes512_add(sum_low, x_low, unit);
    lanes512_add(sum_high, x_high, unit);
    lanes512_add(squares_low, _mm512_mul_pd(x_low, x_low), unit);
    lanes512_add(squares_high, _mm512_mul_pd(x_high, x_high), unit);
}

AVX512_TARGET INLINE void float_avx512_body(const float *values, size_t count,
                                            const CRingboardSIMD_histogram_table *table, uint32_t *counts,
                                            accumulator *acc, const int with_buckets) {
    const __m512i exponent_mask = _mm512_set1_epi32((int)FLOAT_EXPONENT_MASK);
    const __m512i remainder_mask = _mm512_set1_epi32((int)FLOAT_REMAINDER_MASK);
    const __m512i next_slot = _mm512_set1_epi32(COPIES);
    const uint32_t *entries = with_buckets ? table->float_entries : NULL;
    __m512 low = _mm512_set1_ps(INFINITY), high = _mm512_set1_ps(-INFINITY);
    const __m512d zero = _mm512_setzero_pd(), unit = opaque_one512();
    lanes512 sum_low = {zero, zero, zero, zero}, sum_high = sum_low, squares_low = sum_low, squares_high = sum_low;
    // Two blocks of slots: one being filled, and the one before, whose counts are incremented
    // meanwhile (see the top of this file).
    _Alignas(64) uint32_t slots[2][BLOCK];
    size_t pending = 0;  // slots of the block before, still to be added to the counts
    int current = 0;

    size_t i = 0;
    while (count - i >= 16) {
        size_t length = count - i < BLOCK ? (count - i) & ~(size_t)15 : BLOCK;
        uint32_t *filling = slots[current];
        const uint32_t *previous = slots[current ^ 1];
        __m512i next_bits = _mm512_loadu_si512((const void *)(values + i));
        __m512i next_entry = _mm512_setzero_si512();
        if (with_buckets) {
            next_entry = _mm512_i32gather_epi32(_mm512_srli_epi32(next_bits, FLOAT_CELL_SHIFT), (const void *)entries, 4);
        }
        for (size_t j = 0; j < length; j += 16) {
            __m512i bits = next_bits, entry = next_entry;
            if (j + 16 < length) {
                next_bits = _mm512_loadu_si512((const void *)(values + i + j + 16));
                if (with_buckets) {
                    next_entry = _mm512_i32gather_epi32(_mm512_srli_epi32(next_bits, FLOAT_CELL_SHIFT),
                                                        (const void *)entries, 4);
                }
            }
            if (with_buckets) {
                // (bits ^ sign) & remainder_mask: the remainder, complemented for a negative value.
                __m512i remainder = _mm512_ternarylogic_epi32(bits, _mm512_srai_epi32(bits, 31), remainder_mask, 0x28);
                __mmask16 step = _mm512_cmpge_epu32_mask(remainder, _mm512_and_si512(entry, remainder_mask));
                __m512i slot = _mm512_srli_epi32(entry, FLOAT_SLOT_SHIFT);
                _mm512_store_si512((void *)(filling + j), _mm512_mask_add_epi32(slot, step, slot, next_slot));
            }
            // Zeros and subnormals (exponent bits 0) become +0.
            __m512 x = _mm512_castsi512_ps(_mm512_maskz_mov_epi32(_mm512_test_epi32_mask(bits, exponent_mask), bits));
            low = _mm512_min_ps(low, x);
            high = _mm512_max_ps(high, x);
            float512_sums(x, &sum_low, &sum_high, &squares_low, &squares_high, unit);
            if (with_buckets && j < pending) add_slots(counts, previous + j, 16);
        }
        if (with_buckets) {
            if (length < pending) add_slots(counts, previous + length, pending - length);
            pending = length;
            current ^= 1;
        }
        lanes512_end_block(&sum_low);
        lanes512_end_block(&sum_high);
        lanes512_end_block(&squares_low);
        lanes512_end_block(&squares_high);
        i += length;
    }
    if (with_buckets) add_slots(counts, slots[current ^ 1], pending);

    double vector_min = (double)_mm512_reduce_min_ps(low), vector_max = (double)_mm512_reduce_max_ps(high);
    acc->min = vector_min < acc->min ? vector_min : acc->min;
    acc->max = vector_max > acc->max ? vector_max : acc->max;
    _Alignas(64) double sums[64], squares[64];
    lanes512_store(&sum_low, sums);
    lanes512_store(&sum_high, sums + 32);
    lanes512_store(&squares_low, squares);
    lanes512_store(&squares_high, squares + 32);
    if (lanes_finish(acc, sums, squares, 64, 16, (double)(i / 16), BLOCK / 16,
                     -vector_min > vector_max ? -vector_min : vector_max)) {
        acc->non_finite = 1;
    }
    float_tail(values + i, count - i, with_buckets ? table->float_entries : NULL, counts, acc);
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
    const __m512d zero_value = _mm512_setzero_pd(), unit = opaque_one512();
    lanes512 sums = {zero_value, zero_value, zero_value, zero_value}, squares = sums;
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
            lanes512_add(&sums, x, unit);
            __m512d square = _mm512_mul_pd(x, x);
            square = _mm512_maskz_mov_pd(_mm512_cmp_pd_mask(square, smallest_normal_value, _CMP_GE_OQ), square);
            lanes512_add(&squares, square, unit);
        }
        add_slots(counts, slots, length);
        lanes512_end_block(&sums);
        lanes512_end_block(&squares);
        i += length;
    }

    double vector_min = _mm512_reduce_min_pd(low), vector_max = _mm512_reduce_max_pd(high);
    acc->min = vector_min < acc->min ? vector_min : acc->min;
    acc->max = vector_max > acc->max ? vector_max : acc->max;
    uint64_t vector_largest = _mm512_reduce_max_epu64(largest);
    acc->largest_magnitude = vector_largest > acc->largest_magnitude ? vector_largest : acc->largest_magnitude;
    _Alignas(64) double sum_terms[32], square_terms[32];
    lanes512_store(&sums, sum_terms);
    lanes512_store(&squares, square_terms);
    lanes_finish(acc, sum_terms, square_terms, 32, 8, (double)(i / 8), BLOCK / 8,
                 -vector_min > vector_max ? -vector_min : vector_max);
    double_tail(values + i, count - i, table, counts, acc);
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

AVX2_TARGET INLINE double horizontal_min256d(__m256d v) {
    __m128d m = _mm_min_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
    return _mm_cvtsd_f64(_mm_min_sd(m, _mm_unpackhi_pd(m, m)));
}

AVX2_TARGET INLINE double horizontal_max256d(__m256d v) {
    __m128d m = _mm_max_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
    return _mm_cvtsd_f64(_mm_max_sd(m, _mm_unpackhi_pd(m, m)));
}

// Adds 8 floats (flushed) and their squares, which are exact in double, to the lanes.
AVX2_TARGET INLINE void float256_sums(__m256 x, lanes256 *sum_low, lanes256 *sum_high, lanes256 *squares_low,
                                      lanes256 *squares_high, __m256d unit) {
    __m256d x_low = _mm256_cvtps_pd(_mm256_castps256_ps128(x));
    __m256d x_high = _mm256_cvtps_pd(_mm256_extractf128_ps(x, 1));
    lanes256_add(sum_low, x_low, unit);
    lanes256_add(sum_high, x_high, unit);
    lanes256_add(squares_low, _mm256_mul_pd(x_low, x_low), unit);
    lanes256_add(squares_high, _mm256_mul_pd(x_high, x_high), unit);
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
    const __m256d zero_value = _mm256_setzero_pd(), unit = opaque_one256();
    lanes256 sum_low = {zero_value, zero_value, zero_value, zero_value};
    lanes256 sum_high = sum_low, squares_low = sum_low, squares_high = sum_low;
    // As in float_avx512_body: slots of this block, and of the block before being counted.
    _Alignas(32) uint32_t slots[2][BLOCK];
    size_t pending = 0;
    int current = 0;

    size_t i = 0;
    while (count - i >= 8) {
        size_t length = count - i < BLOCK ? (count - i) & ~(size_t)7 : BLOCK;
        uint32_t *filling = slots[current];
        const uint32_t *previous = slots[current ^ 1];
        __m256i next_bits = _mm256_loadu_si256((const __m256i *)(values + i));
        __m256i next_entry = zero;
        if (with_buckets) next_entry = _mm256_i32gather_epi32(entries, _mm256_srli_epi32(next_bits, FLOAT_CELL_SHIFT), 4);
        for (size_t j = 0; j < length; j += 8) {
            __m256i bits = next_bits, entry = next_entry;
            if (j + 8 < length) {
                next_bits = _mm256_loadu_si256((const __m256i *)(values + i + j + 8));
                if (with_buckets) {
                    next_entry = _mm256_i32gather_epi32(entries, _mm256_srli_epi32(next_bits, FLOAT_CELL_SHIFT), 4);
                }
            }
            if (with_buckets) {
                __m256i remainder = _mm256_and_si256(_mm256_xor_si256(bits, _mm256_srai_epi32(bits, 31)), remainder_mask);
                // remainder >= threshold, as max(remainder, threshold) == remainder.
                __m256i threshold = _mm256_and_si256(entry, remainder_mask);
                __m256i step = _mm256_cmpeq_epi32(_mm256_max_epu32(remainder, threshold), remainder);
                __m256i slot = _mm256_add_epi32(_mm256_srli_epi32(entry, FLOAT_SLOT_SHIFT), _mm256_and_si256(step, next_slot));
                _mm256_store_si256((__m256i *)(filling + j), slot);
            }
            // Zeros and subnormals (exponent bits 0) become +0.
            __m256i subnormal = _mm256_cmpeq_epi32(_mm256_and_si256(bits, exponent_mask), zero);
            __m256 x = _mm256_castsi256_ps(_mm256_andnot_si256(subnormal, bits));
            low = _mm256_min_ps(low, x);
            high = _mm256_max_ps(high, x);
            float256_sums(x, &sum_low, &sum_high, &squares_low, &squares_high, unit);
            if (with_buckets && j < pending) add_slots(counts, previous + j, 8);
        }
        if (with_buckets) {
            if (length < pending) add_slots(counts, previous + length, pending - length);
            pending = length;
            current ^= 1;
        }
        lanes256_end_block(&sum_low);
        lanes256_end_block(&sum_high);
        lanes256_end_block(&squares_low);
        lanes256_end_block(&squares_high);
        i += length;
    }
    if (with_buckets) add_slots(counts, slots[current ^ 1], pending);

    double vector_min = horizontal_min256(low), vector_max = horizontal_max256(high);
    acc->min = vector_min < acc->min ? vector_min : acc->min;
    acc->max = vector_max > acc->max ? vector_max : acc->max;
    _Alignas(32) double sums[32], squares[32];
    lanes256_store(&sum_low, sums);
    lanes256_store(&sum_high, sums + 16);
    lanes256_store(&squares_low, squares);
    lanes256_store(&squares_high, squares + 16);
    if (lanes_finish(acc, sums, squares, 32, 8, (double)(i / 8), BLOCK / 8,
                     -vector_min > vector_max ? -vector_min : vector_max)) {
        acc->non_finite = 1;
    }
    float_tail(values + i, count - i, with_buckets ? (const uint32_t *)entries : NULL, counts, acc);
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
    const __m256d zero_value = _mm256_setzero_pd(), unit = opaque_one256();
    lanes256 sums = {zero_value, zero_value, zero_value, zero_value}, squares = sums;
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
            lanes256_add(&sums, x, unit);
            __m256d square = _mm256_mul_pd(x, x);
            square = _mm256_and_pd(square, _mm256_cmp_pd(square, smallest_normal_value, _CMP_GE_OQ));
            lanes256_add(&squares, square, unit);
        }
        add_slots(counts, slots, length);
        lanes256_end_block(&sums);
        lanes256_end_block(&squares);
        i += length;
    }

    double vector_min = horizontal_min256d(low), vector_max = horizontal_max256d(high);
    acc->min = vector_min < acc->min ? vector_min : acc->min;
    acc->max = vector_max > acc->max ? vector_max : acc->max;
    if (!_mm256_testz_si256(non_finite, non_finite)) acc->largest_magnitude = DOUBLE_ABS_MASK;
    _Alignas(32) double sum_terms[16], square_terms[16];
    lanes256_store(&sums, sum_terms);
    lanes256_store(&squares, square_terms);
    lanes_finish(acc, sum_terms, square_terms, 16, 4, (double)(i / 4), BLOCK / 4,
                 -vector_min > vector_max ? -vector_min : vector_max);
    double_tail(values + i, count - i, table, counts, acc);
}

#endif  // __x86_64__

// MARK: - Dispatch

// The widest path not above `requested` that this CPU runs.
static int usable_width(int requested) {
    int available = CRingboardSIMD_vector_width();
    int width = requested >= 512 ? 512 : requested >= 256 ? 256 : 0;
    return width < available ? width : available;
}

void CRingboardSIMD_histogram_begin(CRingboardSIMD_histogram_accumulator *acc) {
    memset(acc, 0, sizeof *acc);
    acc->min = INFINITY;
    acc->max = -INFINITY;
}

void CRingboardSIMD_histogram_end(const CRingboardSIMD_histogram_accumulator *acc,
                                  CRingboardSIMD_histogram_totals *totals) {
    uint32_t uncertain = 0;
    totals->sum = exact_round_within(&acc->sum, acc->sum_error, &uncertain);
    totals->sum_squares = exact_round_within(&acc->sum_squares, acc->sum_squares_error, &uncertain);
    totals->min = acc->min;
    totals->max = acc->max;
    totals->non_finite = acc->non_finite || acc->largest_magnitude > DOUBLE_LARGEST_FINITE;
    totals->uncertain_sums = uncertain;
}

void CRingboardSIMD_histogram_float(const float *values, size_t count, const CRingboardSIMD_histogram_table *table,
                                    uint32_t *counts, int vector_width, CRingboardSIMD_histogram_accumulator *acc) {
    switch (usable_width(vector_width)) {
#if defined(__x86_64__)
    case 512: float_avx512(values, count, table, counts, acc); break;
    case 256: float_avx2(values, count, table, counts, acc); break;
#endif
    default: float_portable(values, count, table, counts, acc); break;
    }
}

void CRingboardSIMD_histogram_double(const double *values, size_t count, const CRingboardSIMD_histogram_table *table,
                                     uint32_t *counts, int vector_width, CRingboardSIMD_histogram_accumulator *acc) {
    switch (usable_width(vector_width)) {
#if defined(__x86_64__)
    case 512: double_avx512(values, count, table, counts, acc); break;
    case 256: double_avx2(values, count, table, counts, acc); break;
#endif
    default: double_portable(values, count, table, counts, acc); break;
    }
}

void CRingboardSIMD_histogram_float_totals(const float *values, size_t count, int vector_width,
                                           CRingboardSIMD_histogram_accumulator *acc) {
    switch (usable_width(vector_width)) {
#if defined(__x86_64__)
    case 512: float_totals_avx512(values, count, acc); break;
    case 256: float_totals_avx2(values, count, acc); break;
#endif
    default: float_portable(values, count, NULL, NULL, acc); break;
    }
}

// A float is m * 2^(e - 150) with m its 24-bit significand and e its biased exponent, and its
// square m^2 * 2^(2e - 300): so the exact sums of floats are sums of integers, one per exponent.
// Each exponent's significands go into a 64-bit integer (2^39 additions of at most 2^24 fit) and
// its squares into another, emptied into a 128-bit total every `SQUARE_CHUNK` values (each copy
// then took at most 2^14 squares below 2^48), in four interleaved copies so that runs of one
// exponent do not wait on each other's stores. The bins then go into the exact sums in 32-bit
// pieces, which doubles hold exactly. About 1.5 ns a value, where `exact_add` per value took 6.
enum { FLOAT_EXPONENTS = 256, BIN_COPIES = 4, SQUARE_CHUNK = 1 << 16 };

static void exact_add_scaled(CRingboardSIMD_exact_sum *sum, unsigned __int128 magnitude, int negative, int scale) {
    for (int piece = 0; magnitude != 0; piece++, magnitude >>= 32) {
        double part = ldexp((double)(uint32_t)magnitude, scale + 32 * piece);
        exact_add(sum, negative ? -part : part);
    }
}

void CRingboardSIMD_histogram_float_exact_sums(const float *values, size_t count,
                                               CRingboardSIMD_histogram_accumulator *acc) {
    int64_t sums[FLOAT_EXPONENTS][BIN_COPIES];
    uint64_t squares[FLOAT_EXPONENTS][BIN_COPIES];
    unsigned __int128 square_totals[FLOAT_EXPONENTS];
    memset(sums, 0, sizeof sums);
    memset(square_totals, 0, sizeof square_totals);
    size_t added = 0;
    for (size_t start = 0; start < count; start += SQUARE_CHUNK) {
        size_t end = count - start > SQUARE_CHUNK ? start + SQUARE_CHUNK : count;
        memset(squares, 0, sizeof squares);
        for (size_t i = start; i < end; i++) {
            uint32_t bits = float_bits(values + i);
            uint32_t exponent = (bits >> 23) & 0xff;
            if (exponent == 0) continue;  // zero, or a subnormal flushed to zero
            if (exponent == 0xff) {       // not reached from the histogram (non-finite values stop it)
                float value;
                memcpy(&value, &bits, sizeof value);
                exact_add(&acc->sum, value);
                exact_add(&acc->sum_squares, (double)value * value);
                continue;
            }
            uint64_t significand = (bits & 0x7fffff) | 0x800000;
            sums[exponent][i & (BIN_COPIES - 1)] += (bits >> 31) ? -(int64_t)significand : (int64_t)significand;
            squares[exponent][i & (BIN_COPIES - 1)] += significand * significand;
        }
        for (int exponent = 1; exponent < 0xff; exponent++) {
            for (int copy = 0; copy < BIN_COPIES; copy++) square_totals[exponent] += squares[exponent][copy];
        }
        // 2^39 significands fit a bin: pass them on well before that.
        added += end - start;
        if (added >= ((size_t)1 << 36) || end == count) {
            for (int exponent = 1; exponent < 0xff; exponent++) {
                int64_t sum = 0;
                for (int copy = 0; copy < BIN_COPIES; copy++) sum += sums[exponent][copy];
                uint64_t magnitude = sum < 0 ? 0 - (uint64_t)sum : (uint64_t)sum;
                exact_add_scaled(&acc->sum, magnitude, sum < 0, exponent - 150);
            }
            memset(sums, 0, sizeof sums);
            added = 0;
        }
    }
    for (int exponent = 1; exponent < 0xff; exponent++) {
        exact_add_scaled(&acc->sum_squares, square_totals[exponent], 0, 2 * exponent - 300);
    }
}

void CRingboardSIMD_histogram_double_exact_sums(const double *values, size_t count,
                                                CRingboardSIMD_histogram_accumulator *acc) {
    for (size_t i = 0; i < count; i++) {
        uint64_t bits = double_bits(values + i);
        double value = double_from_bits((bits & DOUBLE_ABS_MASK) >= DOUBLE_SMALLEST_NORMAL ? bits : 0);
        exact_add(&acc->sum, value);
        double square = value * value;
        exact_add(&acc->sum_squares, square >= DBL_MIN ? square : 0.0);
    }
}
