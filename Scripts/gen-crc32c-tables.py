#!/usr/bin/env python3
"""Generate Sources/CRingboard/crc32c_tables.h, the constant tables behind crc32c.c.

CRC32C is the Castagnoli CRC (RFC 3720 §12.1, iSCSI), which TFRecord uses for its record
checksums. It is computed bit-reflected with the polynomial 0x82F63B78 (0x1EDC6F41 unreflected).

The header holds these tables, both `static const`, so the C code never builds anything at run time:

* `crc32c_slicing_table[8][256]`: the slicing-by-8 tables of the portable path. Row 0 is the
  classic byte-at-a-time table; row k advances a byte's contribution past k more zero bytes.
* `crc32c_stream_shift[n][2]`: for a stream length of b = 8 * (n + 1) bytes, the PCLMULQDQ
  multipliers that move a CRC past 2 * b and past b zero bytes. The hardware path runs three
  `crc32` streams over consecutive b-byte blocks and joins them with these (see crc32c.c).
* `crc32c_fold_<n>_bytes[2]` and `crc32c_fold_lanes[8]`: the multipliers of the AVX-512 path,
  which folds 128-bit pieces of the message n bytes forward with VPCLMULQDQ (see fold_multipliers).

Usage: Scripts/gen-crc32c-tables.py [output path]   (default: Sources/CRingboard/crc32c_tables.h)
"""

import pathlib
import sys

POLYNOMIAL_REFLECTED = 0x82F63B78
POLYNOMIAL = 0x1EDC6F41  # x^32 is implicit

# Longest block one hardware stream covers before the three streams are joined. It bounds the
# shift table to STREAM_MAX_BYTES / 8 entries (8 bytes each), 4 KiB for the value below.
STREAM_MAX_BYTES = 4096


def byte_table():
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ (POLYNOMIAL_REFLECTED if crc & 1 else 0)
        table.append(crc)
    return table


def slicing_tables():
    rows = [byte_table()]
    for _ in range(7):
        previous = rows[-1]
        rows.append([(value >> 8) ^ rows[0][value & 0xFF] for value in previous])
    return rows


def reflect32(value):
    return int(f"{value:032b}"[::-1], 2)


def x_power_table(max_exponent):
    """x^n mod P for n = 0 ... max_exponent, unreflected (bit i is the coefficient of x^i)."""
    powers = [1]
    value = 1
    for _ in range(max_exponent):
        value <<= 1
        if value & (1 << 32):
            value ^= (1 << 32) | POLYNOMIAL
        powers.append(value)
    return powers


def shift_multiplier(length, powers):
    """The reflected 32-bit constant k with crc32_u64(0, clmul(crc, k)) == crc advanced by `length` zero bytes.

    Reflected operands make the 63-bit carry-less product stand for crc(x) * k(x) * x, and the crc32
    instruction multiplies its 64-bit operand by x^32 modulo P, so k(x) = x^(8 * length - 33) mod P.
    """
    return reflect32(powers[8 * length - 33])


def fold_multipliers(distance, powers):
    """The pair { K_low, K_high } that folds a 128-bit piece of the message `distance` bytes forward.

    Read 16 message bytes as one little-endian 128-bit register. Bit-reflected, its low 64 bits are
    the first 8 bytes, the high-order coefficients: the piece is R(x) = L(x) * x^64 + H(x), with
    L and H of degree < 64. Moving R past D = 8 * distance bits of message multiplies it by x^D, and
    anything congruent modulo P will do, so

        R(x) * x^D = L(x) * x^(D + 64) + H(x) * x^D  ==  L(x) * K_low'(x) + H(x) * K_high'(x)  (mod P)

    with K' = x^(D + 64) mod P and x^D mod P, each of degree < 32. PCLMULQDQ on two bit-reflected
    64-bit operands gives a 127-bit product that, read bit-reflected in 128 bits, stands for the
    product times x. A 32-bit reflected constant k in the low half of its 64-bit operand stands for
    K(x) * x^32. So clmul(L, k) stands for L(x) * K(x) * x^33, of degree < 128, and we store

        K_low  = x^(D + 64 - 33) = x^(D + 31) mod P,    K_high = x^(D - 33) mod P,

    bit-reflected. The two products XORed together are a 128-bit piece congruent to R(x) * x^D,
    which is then XORed into the message piece D bits on: the same CRC, 16 bytes shorter.
    """
    return reflect32(powers[8 * distance + 31]), reflect32(powers[8 * distance - 33])


def raw_crc(data):
    """The CRC register, from 0 and without the final inversion, after `data`: bit by bit."""
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (POLYNOMIAL_REFLECTED if crc & 1 else 0)
    return crc


def carryless_multiply(a, b):
    product = 0
    while b:
        if b & 1:
            product ^= a
        a <<= 1
        b >>= 1
    return product


def check_fold_multipliers(distance, pair):
    """Folding a piece by `distance` bytes keeps the CRC of the piece followed by `distance` zero bytes."""
    state = 0x9E3779B97F4A7C15
    for _ in range(8):
        piece = 0
        for _ in range(2):
            state = (state * 6364136223846793005 + 1442695040888963407) % (1 << 64)
            piece = (piece << 64) | state
        low, high = piece & ((1 << 64) - 1), piece >> 64
        folded = carryless_multiply(low, pair[0]) ^ carryless_multiply(high, pair[1])
        before = raw_crc(piece.to_bytes(16, "little") + bytes(distance))
        after = raw_crc(folded.to_bytes(16, "little"))
        assert before == after, f"fold by {distance} bytes is wrong"


# Distances, in bytes, the AVX-512 path folds by. It keeps four 512-bit registers, each four 128-bit
# lanes, over consecutive 64-byte blocks of the message: 256 bytes per round, so every lane moves
# 256 bytes forward. At the end, the first three registers move 192, 128 and 64 bytes onto the
# fourth; a single register then walks on 64 bytes at a time; and the lanes of that register move
# 48, 32 and 16 bytes onto its last lane, leaving 128 bits for the `crc32` instruction.
FOLD_DISTANCES = (256, 192, 128, 64)
FOLD_LANE_DISTANCES = (48, 32, 16)


def render():
    rows = slicing_tables()
    powers = x_power_table(8 * 2 * STREAM_MAX_BYTES)
    out = []
    out.append("// Generated by Scripts/gen-crc32c-tables.py; do not edit by hand.")
    out.append("// CRC32C (Castagnoli, RFC 3720 §12.1), bit-reflected polynomial 0x82F63B78.")
    out.append("")
    out.append("#ifndef CRINGBOARD_CRC32C_TABLES_H")
    out.append("#define CRINGBOARD_CRC32C_TABLES_H")
    out.append("")
    out.append("#include <stdint.h>")
    out.append("")
    out.append("/// Longest block, in bytes, that one hardware stream covers before the three streams are joined.")
    out.append(f"#define CRC32C_STREAM_MAX_BYTES {STREAM_MAX_BYTES}")
    out.append("")
    out.append("/// Slicing-by-8 tables: row 0 is the byte-at-a-time table, row k also skips k zero bytes.")
    out.append("static const uint32_t crc32c_slicing_table[8][256] = {")
    for row in rows:
        out.append("    {")
        for start in range(0, 256, 8):
            out.append("        " + ", ".join(f"0x{value:08x}" for value in row[start:start + 8]) + ",")
        out.append("    },")
    out.append("};")
    out.append("")
    out.append("/// Entry n is for streams of b = 8 * (n + 1) bytes: { x^(16b - 33) mod P, x^(8b - 33) mod P },")
    out.append("/// bit-reflected; carry-less multiplying a CRC by one and reducing with `crc32` moves it past")
    out.append("/// 2 * b or b zero bytes.")
    out.append(f"static const uint32_t crc32c_stream_shift[{STREAM_MAX_BYTES // 8}][2] = {{")
    for block in range(8, STREAM_MAX_BYTES + 1, 8):
        two_blocks = shift_multiplier(2 * block, powers)
        one_block = shift_multiplier(block, powers)
        out.append(f"    {{ 0x{two_blocks:08x}, 0x{one_block:08x} }}, /* b = {block} */")
    out.append("};")
    out.append("")
    out.append("// Folding multipliers of the AVX-512 path. For a distance of n bytes (D = 8n bits) the pair is")
    out.append("// { x^(D + 31) mod P, x^(D - 33) mod P }, bit-reflected: VPCLMULQDQ of a 128-bit piece's low")
    out.append("// half by the first and high half by the second, XORed, is congruent to the piece moved n bytes")
    out.append("// on (see fold_multipliers in Scripts/gen-crc32c-tables.py for the derivation).")
    for distance in FOLD_DISTANCES:
        pair = fold_multipliers(distance, powers)
        check_fold_multipliers(distance, pair)
        out.append("")
        out.append(f"/// Moves each 128-bit lane {distance} bytes on: x^{8 * distance + 31} and x^{8 * distance - 33} mod P.")
        out.append(f"static const uint64_t crc32c_fold_{distance}_bytes[2] = {{ 0x{pair[0]:016x}, 0x{pair[1]:016x} }};")
    out.append("")
    out.append("/// Moves lanes 0, 1 and 2 of a 512-bit register {} bytes on, onto lane 3; lane 3's".format(
        ", ".join(str(distance) for distance in FOLD_LANE_DISTANCES)))
    out.append("/// own multipliers are 0 and it is XORed in as it is.")
    out.append("static const uint64_t crc32c_fold_lanes[8] = {")
    for distance in FOLD_LANE_DISTANCES:
        pair = fold_multipliers(distance, powers)
        check_fold_multipliers(distance, pair)
        out.append(f"    0x{pair[0]:016x}, 0x{pair[1]:016x}, /* {distance} bytes: x^{8 * distance + 31}, x^{8 * distance - 33} */")
    out.append("    0, 0,")
    out.append("};")
    out.append("")
    out.append("#endif")
    return "\n".join(out) + "\n"


def main():
    root = pathlib.Path(__file__).resolve().parent.parent
    path = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else root / "Sources/CRingboard/crc32c_tables.h"
    path.write_text(render())


if __name__ == "__main__":
    main()
