// CRC32C (Castagnoli): the checksum TFRecord puts after each record's length and data
// (tensorflow/core/lib/hash/crc32c.h, masked as in tensorflow/core/lib/io/record_writer.cc).
//
// The CRC is the bit-reflected one of RFC 3720 §12.1 (iSCSI), polynomial 0x82F63B78, with the
// register preset to all ones and inverted at the end. `extend(crc, …)` takes and returns the
// finished value, so `extend(extend(0, a), b) == extend(0, a ‖ b)`.
//
// Three paths, all built where the architecture has them:
//   * AVX-512 folding (x86_64 with AVX-512 and VPCLMULQDQ, long buffers only): carry-less multiply
//     folding of four 512-bit registers, 256 bytes per round, finished with the `crc32` instruction;
//   * hardware: the CRC32C instructions of SSE4.2 (x86_64) or the ARMv8 CRC extension (aarch64),
//     eight bytes per instruction in three interleaved streams, joined with a carry-less multiply;
//   * portable: slicing-by-8 over the tables in crc32c_tables.h.
// The choice is made on every call from the CPU's feature bits; nothing is cached. All tables are
// `static const` and generated ahead of time by Scripts/gen-crc32c-tables.py, so this file keeps no
// mutable global state, never allocates and never touches errno.

#include "CRingboard.h"

#include <string.h>

#include "crc32c_tables.h"

#if defined(__x86_64__)
#include <immintrin.h>
#elif defined(__aarch64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#include <arm_acle.h>
#if defined(__linux__)
#include <sys/auxv.h>
#ifndef HWCAP_CRC32
#define HWCAP_CRC32 (1 << 7)  // arch/arm64/include/uapi/asm/hwcap.h
#endif
#endif
#endif

// MARK: - Loads

// Unaligned little-endian load. `memcpy` compiles to a single move on the targets we care about.
static inline uint64_t crc32c_load64(const unsigned char *p) {
    uint64_t value;
    memcpy(&value, p, sizeof value);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    value = __builtin_bswap64(value);
#endif
    return value;
}

// MARK: - Portable path

// Slicing-by-8 (Kounavis and Berry, "A Systematic Approach to Building High Performance
// Software-Based CRC Generators", 2005): eight table look-ups per eight bytes, independent of
// each other, instead of eight dependent byte steps.
uint32_t CRingboard_crc32c_extend_portable(uint32_t crc, const void *data, size_t length) {
    const unsigned char *p = data;
    uint32_t c = ~crc;
    while (length >= 8) {
        uint64_t word = crc32c_load64(p) ^ c;
        c = crc32c_slicing_table[7][word & 0xff] ^
            crc32c_slicing_table[6][(word >> 8) & 0xff] ^
            crc32c_slicing_table[5][(word >> 16) & 0xff] ^
            crc32c_slicing_table[4][(word >> 24) & 0xff] ^
            crc32c_slicing_table[3][(word >> 32) & 0xff] ^
            crc32c_slicing_table[2][(word >> 40) & 0xff] ^
            crc32c_slicing_table[1][(word >> 48) & 0xff] ^
            crc32c_slicing_table[0][word >> 56];
        p += 8;
        length -= 8;
    }
    while (length > 0) {
        c = (c >> 8) ^ crc32c_slicing_table[0][(c ^ *p) & 0xff];
        p += 1;
        length -= 1;
    }
    return ~c;
}

// MARK: - Hardware primitives

// Each architecture supplies, under CRC32C_HARDWARE_TARGET:
//   crc32c_hardware_u64/u32/u16/u8(crc, value): the CRC instruction on the raw (uninverted) register;
//   crc32c_hardware_join(c0, c1, c2, shift): the CRC of three consecutive b-byte blocks, given the
//     raw CRC of each (the first started from the running CRC, the other two from 0) and the
//     crc32c_stream_shift entry for b.
//
// Joining works in GF(2)[x] modulo P. Moving a raw CRC c past n zero bytes multiplies it by
// x^(8n) mod P. A carry-less multiply of two bit-reflected 32-bit values gives a 64-bit value that
// stands for their product times x, and the 64-bit `crc32` step multiplies its operand by x^32
// mod P, so crc32_u64(0, clmul(c, k)) with k = x^(8n - 33) mod P is c moved past n bytes. This is
// the combine Intel describes in "Fast CRC Computation for iSCSI Polynomial Using CRC32
// Instruction" (2011); the k values are the crc32c_stream_shift table.

#if defined(__x86_64__)

#define CRC32C_HARDWARE_TARGET __attribute__((target("sse4.2,pclmul")))

CRC32C_HARDWARE_TARGET
static inline uint32_t crc32c_hardware_u64(uint32_t crc, uint64_t value) {
    return (uint32_t)_mm_crc32_u64(crc, value);
}

CRC32C_HARDWARE_TARGET
static inline uint32_t crc32c_hardware_u32(uint32_t crc, uint32_t value) {
    return _mm_crc32_u32(crc, value);
}

CRC32C_HARDWARE_TARGET
static inline uint32_t crc32c_hardware_u16(uint32_t crc, uint16_t value) {
    return _mm_crc32_u16(crc, value);
}

CRC32C_HARDWARE_TARGET
static inline uint32_t crc32c_hardware_u8(uint32_t crc, uint8_t value) {
    return _mm_crc32_u8(crc, value);
}

CRC32C_HARDWARE_TARGET
static inline uint32_t crc32c_hardware_join(uint32_t c0, uint32_t c1, uint32_t c2, const uint32_t shift[2]) {
    __m128i moved0 = _mm_clmulepi64_si128(_mm_cvtsi32_si128((int)c0), _mm_cvtsi32_si128((int)shift[0]), 0x00);
    __m128i moved1 = _mm_clmulepi64_si128(_mm_cvtsi32_si128((int)c1), _mm_cvtsi32_si128((int)shift[1]), 0x00);
    uint64_t product = (uint64_t)_mm_cvtsi128_si64(_mm_xor_si128(moved0, moved1));
    return (uint32_t)_mm_crc32_u64(0, product) ^ c2;
}

#elif defined(__aarch64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__

#define CRC32C_HARDWARE_TARGET __attribute__((target("crc")))

CRC32C_HARDWARE_TARGET
static inline uint32_t crc32c_hardware_u64(uint32_t crc, uint64_t value) {
    return __crc32cd(crc, value);
}

CRC32C_HARDWARE_TARGET
static inline uint32_t crc32c_hardware_u32(uint32_t crc, uint32_t value) {
    return __crc32cw(crc, value);
}

CRC32C_HARDWARE_TARGET
static inline uint32_t crc32c_hardware_u16(uint32_t crc, uint16_t value) {
    return __crc32ch(crc, value);
}

CRC32C_HARDWARE_TARGET
static inline uint32_t crc32c_hardware_u8(uint32_t crc, uint8_t value) {
    return __crc32cb(crc, value);
}

// Carry-less 32 × 32 → 63-bit multiply in plain C. PMULL would be quicker, but it belongs to the
// optional crypto extension; this runs once per joined block (up to 12 KiB), where it costs little.
static inline uint64_t crc32c_carryless_multiply(uint32_t a, uint32_t b) {
    uint64_t product = 0;
    for (int bit = 0; bit < 32; bit++) {
        product ^= ((uint64_t)a << bit) & (0 - (uint64_t)((b >> bit) & 1));
    }
    return product;
}

CRC32C_HARDWARE_TARGET
static inline uint32_t crc32c_hardware_join(uint32_t c0, uint32_t c1, uint32_t c2, const uint32_t shift[2]) {
    uint64_t product = crc32c_carryless_multiply(c0, shift[0]) ^ crc32c_carryless_multiply(c1, shift[1]);
    return __crc32cd(0, product) ^ c2;
}

#endif

// MARK: - Hardware path

#if defined(CRC32C_HARDWARE_TARGET)

// The hardware path only exists on little-endian targets, so these need no byte swap.
static inline uint32_t crc32c_load32(const unsigned char *p) {
    uint32_t value;
    memcpy(&value, p, sizeof value);
    return value;
}

static inline uint16_t crc32c_load16(const unsigned char *p) {
    uint16_t value;
    memcpy(&value, p, sizeof value);
    return value;
}

// Below this length one stream is as quick as three plus the join (measured on x86_64: at 64 bytes
// one stream wins, from 96 bytes three do).
#define CRC32C_THREE_STREAM_MIN_BYTES 96

// The CRC instruction has a latency of about three cycles but starts one per cycle, so a single
// dependent chain uses a third of it. Three streams over consecutive blocks of b bytes keep it
// busy (the layout of Intel's crc_pcl, Mark Adler's crc32c.c and google/crc32c); the three CRCs
// are then joined into one. Each round takes b = min(length / 3, 4 KiB) rounded down to 8 bytes,
// so every length from CRC32C_THREE_STREAM_MIN_BYTES up leaves fewer than 24 bytes to one stream.
CRC32C_HARDWARE_TARGET
static uint32_t crc32c_hardware(uint32_t crc, const unsigned char *p, size_t length) {
    uint32_t c0 = ~crc;
    while (length >= CRC32C_THREE_STREAM_MIN_BYTES) {
        size_t block = length >= 3 * CRC32C_STREAM_MAX_BYTES ? CRC32C_STREAM_MAX_BYTES : length / 24 * 8;
        const unsigned char *end = p + block;
        uint32_t c1 = 0;
        uint32_t c2 = 0;
        do {
            c0 = crc32c_hardware_u64(c0, crc32c_load64(p));
            c1 = crc32c_hardware_u64(c1, crc32c_load64(p + block));
            c2 = crc32c_hardware_u64(c2, crc32c_load64(p + 2 * block));
            p += 8;
        } while (p < end);
        c0 = crc32c_hardware_join(c0, c1, c2, crc32c_stream_shift[block / 8 - 1]);
        p += 2 * block;
        length -= 3 * block;
    }
    while (length >= 8) {
        c0 = crc32c_hardware_u64(c0, crc32c_load64(p));
        p += 8;
        length -= 8;
    }
    if (length & 4) {
        c0 = crc32c_hardware_u32(c0, crc32c_load32(p));
        p += 4;
    }
    if (length & 2) {
        c0 = crc32c_hardware_u16(c0, crc32c_load16(p));
        p += 2;
    }
    if (length & 1) {
        c0 = crc32c_hardware_u8(c0, *p);
    }
    return ~c0;
}

#endif

// MARK: - AVX-512 folding path

#if defined(__x86_64__)

#define CRC32C_FOLDING_TARGET __attribute__((target("avx512f,avx512vl,avx512bw,vpclmulqdq,pclmul,sse4.2")))

// The folding path needs at least one 64-byte block.
#define CRC32C_FOLDING_MIN_BYTES 64

// From this length up, `CRingboard_crc32c_extend` takes the folding path when the CPU has it.
// Measured on AMD EPYC (Zen 4), ns per call, hardware path vs folding path: 64 B 3.4 vs 3.3,
// 96 B 5.4 vs 4.5, 128 B 7.0 vs 4.4, 256 B 11.9 vs 6.3, 4 KiB 145 vs 71; from 1 KiB up folding
// runs at about twice the speed (55-58 GB/s against 27-29). Below 128 bytes the gain is a
// nanosecond or less and within the noise, so short records keep the three-stream path.
#define CRC32C_FOLDING_THRESHOLD_BYTES 128

// Moves every 128-bit lane of `x` forward by the distance `multipliers` was made for, and XORs it
// into `y` (the message lanes that distance on): the fold of Intel's "Fast CRC Computation for
// Generic Polynomials Using PCLMULQDQ Instruction" (2009), four lanes at a time, as ISA-L's
// crc32_iscsi_by16_10 does. 0x96 is the three-way XOR.
CRC32C_FOLDING_TARGET
static inline __m512i crc32c_fold(__m512i x, __m512i multipliers, __m512i y) {
    __m512i low = _mm512_clmulepi64_epi128(x, multipliers, 0x00);
    __m512i high = _mm512_clmulepi64_epi128(x, multipliers, 0x11);
    return _mm512_ternarylogic_epi64(low, high, y, 0x96);
}

CRC32C_FOLDING_TARGET
static inline __m512i crc32c_fold_multipliers(const uint64_t pair[2]) {
    return _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)pair));
}

// The CRC of `length` >= CRC32C_FOLDING_MIN_BYTES bytes, continuing from `crc`.
//
// XORing the raw register into the first four bytes turns the CRC into one that starts from zero,
// which is linear in the message: a 128-bit piece can be replaced by the XOR of two carry-less
// products congruent to it times x^D mod P and added to the piece D bits further on (the
// multipliers and their derivation are in Scripts/gen-crc32c-tables.py). From 256 bytes, four
// registers fold over 256-byte rounds and then into one; that one walks on in 64-byte steps; its
// four lanes fold into one; and the `crc32` instruction takes those 16 bytes and the last 0 to 63.
// One VPCLMULQDQ on a 512-bit register does four 64 × 64 multiplies, so a round of 256 bytes
// costs eight of them; that, not the latency of the four independent chains, bounds the speed.
CRC32C_FOLDING_TARGET
static uint32_t crc32c_folding(uint32_t crc, const unsigned char *p, size_t length) {
    __m512i first = _mm512_zextsi128_si512(_mm_cvtsi32_si128((int)~crc));  // upper 480 bits zero
    __m512i x3;
    if (length >= 256) {
        __m512i x0 = _mm512_xor_si512(_mm512_loadu_si512(p), first);
        __m512i x1 = _mm512_loadu_si512(p + 64);
        __m512i x2 = _mm512_loadu_si512(p + 128);
        x3 = _mm512_loadu_si512(p + 192);
        p += 256;
        length -= 256;

        __m512i multipliers = crc32c_fold_multipliers(crc32c_fold_256_bytes);
        while (length >= 256) {
            x0 = crc32c_fold(x0, multipliers, _mm512_loadu_si512(p));
            x1 = crc32c_fold(x1, multipliers, _mm512_loadu_si512(p + 64));
            x2 = crc32c_fold(x2, multipliers, _mm512_loadu_si512(p + 128));
            x3 = crc32c_fold(x3, multipliers, _mm512_loadu_si512(p + 192));
            p += 256;
            length -= 256;
        }

        x3 = crc32c_fold(x0, crc32c_fold_multipliers(crc32c_fold_192_bytes), x3);
        x3 = crc32c_fold(x1, crc32c_fold_multipliers(crc32c_fold_128_bytes), x3);
        x3 = crc32c_fold(x2, crc32c_fold_multipliers(crc32c_fold_64_bytes), x3);
    } else {
        x3 = _mm512_xor_si512(_mm512_loadu_si512(p), first);
        p += 64;
        length -= 64;
    }

    __m512i multipliers = crc32c_fold_multipliers(crc32c_fold_64_bytes);
    while (length >= 64) {
        x3 = crc32c_fold(x3, multipliers, _mm512_loadu_si512(p));
        p += 64;
        length -= 64;
    }

    // Lanes 0, 1 and 2 move onto lane 3, which is kept as it is (its multipliers are zero), and the
    // four lanes are XORed together.
    __m512i lanes = crc32c_fold(x3, _mm512_loadu_si512(crc32c_fold_lanes), _mm512_maskz_mov_epi64(0xC0, x3));
    __m256i halves = _mm256_xor_si256(_mm512_castsi512_si256(lanes), _mm512_extracti64x4_epi64(lanes, 1));
    __m128i last = _mm_xor_si128(_mm256_castsi256_si128(halves), _mm256_extracti128_si256(halves, 1));

    uint32_t c = (uint32_t)_mm_crc32_u64(0, (uint64_t)_mm_cvtsi128_si64(last));
    c = (uint32_t)_mm_crc32_u64(c, (uint64_t)_mm_extract_epi64(last, 1));
    return crc32c_hardware(~c, p, length);
}

#endif

// MARK: - Entry points

int CRingboard_crc32c_hardware_available(void) {
#if defined(__x86_64__)
    // Reads the feature bits libgcc / compiler-rt fill in at load time; no state of our own.
    return __builtin_cpu_supports("sse4.2") && __builtin_cpu_supports("pclmul");
#elif defined(__aarch64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ && defined(__APPLE__)
    return 1;  // every Apple arm64 CPU implements FEAT_CRC32
#elif defined(__aarch64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ && defined(__linux__)
    return (getauxval(AT_HWCAP) & HWCAP_CRC32) != 0;
#else
    return 0;
#endif
}

uint32_t CRingboard_crc32c_extend_hardware(uint32_t crc, const void *data, size_t length) {
#if defined(CRC32C_HARDWARE_TARGET)
    return crc32c_hardware(crc, data, length);
#else
    return CRingboard_crc32c_extend_portable(crc, data, length);
#endif
}

int CRingboard_crc32c_folding_available(void) {
#if defined(__x86_64__)
    // Every feature CRC32C_FOLDING_TARGET lets the compiler use. libgcc / compiler-rt set the
    // AVX-512 bits only when the OS saves the ZMM registers (XCR0).
    return CRingboard_crc32c_hardware_available() && __builtin_cpu_supports("avx512f") &&
           __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("vpclmulqdq");
#else
    return 0;
#endif
}

uint32_t CRingboard_crc32c_extend_folding(uint32_t crc, const void *data, size_t length) {
#if defined(__x86_64__)
    if (length >= CRC32C_FOLDING_MIN_BYTES) {
        return crc32c_folding(crc, data, length);
    }
#endif
    return CRingboard_crc32c_extend_hardware(crc, data, length);
}

uint32_t CRingboard_crc32c_extend(uint32_t crc, const void *data, size_t length) {
#if defined(__x86_64__)
    if (length >= CRC32C_FOLDING_THRESHOLD_BYTES && CRingboard_crc32c_folding_available()) {
        return crc32c_folding(crc, data, length);
    }
#endif
#if defined(CRC32C_HARDWARE_TARGET)
    if (CRingboard_crc32c_hardware_available()) {
        return crc32c_hardware(crc, data, length);
    }
#endif
    return CRingboard_crc32c_extend_portable(crc, data, length);
}

// MARK: - TFRecord checksums

// TFRecord's mask (tensorflow/core/lib/hash/crc32c.h `Mask`): rotate right by 15, add a constant.
static inline uint32_t crc32c_tfrecord_mask(uint32_t crc) {
    return ((crc >> 15) | (crc << 17)) + 0xa282ead8u;
}

static inline void crc32c_store32(unsigned char *p, uint32_t value) {
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    value = __builtin_bswap32(value);
#endif
    memcpy(p, &value, sizeof value);
}

// Fills one record's checksums and moves `p` past it; returns -1 when its length runs past `end`.
// `dataCRC(data, length)` is the unmasked CRC32C of its data.
#define CRC32C_TFRECORD_FILL(p, end, lengthCRC, dataCRC)                                          \
    do {                                                                                          \
        if ((size_t)((end) - (p)) < 16) return -1;                                                \
        uint64_t dataLength = crc32c_load64(p);                                                   \
        if (dataLength > (size_t)((end) - (p)) - 16) return -1;                                   \
        unsigned char *data = (p) + 12;                                                           \
        crc32c_store32((p) + 8, crc32c_tfrecord_mask(lengthCRC));                                 \
        crc32c_store32(data + dataLength, crc32c_tfrecord_mask(dataCRC(data, (size_t)dataLength))); \
        (p) = data + dataLength + 4;                                                              \
    } while (0)

#define CRC32C_PORTABLE_DATA(data, length) CRingboard_crc32c_extend_portable(0, data, length)

#if defined(CRC32C_HARDWARE_TARGET)
// Scalar events are about fifty bytes: one stream inline below the length where
// `crc32c_hardware` would take three (and `CRingboard_crc32c_extend` could fold), no call.
#define CRC32C_TFRECORD_SHORT_BYTES 96

CRC32C_HARDWARE_TARGET
static inline uint32_t crc32c_hardware_short(const unsigned char *p, size_t length) {
    uint32_t c = ~0u;
    for (; length >= 8; length -= 8, p += 8) c = crc32c_hardware_u64(c, crc32c_load64(p));
    if (length & 4) { c = crc32c_hardware_u32(c, crc32c_load32(p)); p += 4; }
    if (length & 2) { c = crc32c_hardware_u16(c, crc32c_load16(p)); p += 2; }
    if (length & 1) c = crc32c_hardware_u8(c, *p);
    return ~c;
}

#define CRC32C_HARDWARE_DATA(data, length) \
    ((length) < CRC32C_TFRECORD_SHORT_BYTES ? crc32c_hardware_short(data, length) : CRingboard_crc32c_extend(0, data, length))

CRC32C_HARDWARE_TARGET
static int crc32c_tfrecord_fill_hardware(unsigned char *p, unsigned char *end) {
    while (p != end) {
        CRC32C_TFRECORD_FILL(p, end, ~crc32c_hardware_u64(~0u, crc32c_load64(p)), CRC32C_HARDWARE_DATA);
    }
    return 0;
}
#endif

int CRingboard_tfrecord_fill_checksums(void *records, size_t length) {
    unsigned char *p = records;
    unsigned char *end = p + length;
#if defined(CRC32C_HARDWARE_TARGET)
    if (CRingboard_crc32c_hardware_available()) {
        return crc32c_tfrecord_fill_hardware(p, end);
    }
#endif
    while (p != end) {
        CRC32C_TFRECORD_FILL(p, end, CRingboard_crc32c_extend_portable(0, p, 8), CRC32C_PORTABLE_DATA);
    }
    return 0;
}
