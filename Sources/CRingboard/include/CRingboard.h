#ifndef CRINGBOARD_H
#define CRINGBOARD_H

#include <stddef.h>
#include <stdint.h>

#include "CRingboard_futex.h"
#include "CRingboard_membarrier.h"
#include "CRingboard_writeback.h"
#include "CRingboard_tsan.h"
#include "CRingboard_fork.h"

#ifdef __cplusplus
extern "C" {
#endif

/// CRC32C (Castagnoli, reflected polynomial 0x82F63B78) of `length` bytes at `data`, continuing
/// from `crc` (pass 0 to start). Chooses the path at run time: AVX-512 VPCLMULQDQ folding for long
/// buffers where the CPU has it, else the hardware path (SSE4.2 `crc32` on x86_64, the ARMv8 CRC
/// extension on aarch64), else the portable slicing-by-8 path.
uint32_t CRingboard_crc32c_extend(uint32_t crc, const void *data, size_t length);

/// The portable slicing-by-8 path, always built; the reference the hardware path is tested against.
uint32_t CRingboard_crc32c_extend_portable(uint32_t crc, const void *data, size_t length);

/// The hardware path (`crc32` in three streams, never the folding path); only valid when
/// `CRingboard_crc32c_hardware_available()` returns 1.
uint32_t CRingboard_crc32c_extend_hardware(uint32_t crc, const void *data, size_t length);

/// 1 when this CPU has the CRC32C instructions the hardware path uses, 0 otherwise.
int CRingboard_crc32c_hardware_available(void);

/// The AVX-512 VPCLMULQDQ folding path at every length it can take (256 bytes up; shorter buffers
/// go to the hardware path), whatever the length threshold `CRingboard_crc32c_extend` applies.
/// Only valid when `CRingboard_crc32c_folding_available()` returns 1.
uint32_t CRingboard_crc32c_extend_folding(uint32_t crc, const void *data, size_t length);

/// 1 on x86_64 CPUs with SSE4.2, PCLMULQDQ, AVX-512 F, VL and BW and VPCLMULQDQ (and an OS that
/// saves the AVX-512 registers), which the folding path needs; 0 otherwise.
int CRingboard_crc32c_folding_available(void);

/// Fills in the two masked CRC32Cs of every TFRecord in `length` bytes at `records`: records back
/// to back, each `uint64 length · uint32 masked_crc32c(length) · data · uint32 masked_crc32c(data)`
/// with its length written and its checksums left to this (tensorflow/core/lib/io/record_writer.cc).
/// Checksumming a batch of records after they are all written reads bytes the CPU has stored
/// long since, where checksumming each record as soon as it is written reads bytes its store
/// buffer still holds in pieces, which stalls every load. Returns 0, or -1 when a length runs
/// past the end (the records before it are filled in).
int CRingboard_tfrecord_fill_checksums(void *records, size_t length);

/// Has glibc's malloc serve blocks below `bytes` from its heap and keep up to `2 * bytes` free at
/// the heap's top (`M_MMAP_THRESHOLD`, `M_TRIM_THRESHOLD`), instead of mapping each large block
/// afresh (its pages faulted in and zeroed) and unmapping it when freed. Returns 1 when set, 0
/// with another C library or a size it does not take.
int CRingboard_malloc_keep_blocks_in_heap(size_t bytes);

#ifdef __cplusplus
}
#endif

#endif
