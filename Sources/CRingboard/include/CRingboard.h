#ifndef CRINGBOARD_H
#define CRINGBOARD_H

#include <stddef.h>
#include <stdint.h>

#include "CRingboard_futex.h"

#ifdef __cplusplus
extern "C" {
#endif

/// CRC32C (Castagnoli, reflected polynomial 0x82F63B78) of `length` bytes at `data`, continuing
/// from `crc` (pass 0 to start). Chooses the hardware path at run time (SSE4.2 `crc32` on x86_64,
/// the ARMv8 CRC extension on aarch64) and falls back to the portable slicing-by-8 path.
uint32_t CRingboard_crc32c_extend(uint32_t crc, const void *data, size_t length);

/// The portable slicing-by-8 path, always built; the reference the hardware path is tested against.
uint32_t CRingboard_crc32c_extend_portable(uint32_t crc, const void *data, size_t length);

/// The hardware path; only valid when `CRingboard_crc32c_hardware_available()` returns 1.
uint32_t CRingboard_crc32c_extend_hardware(uint32_t crc, const void *data, size_t length);

/// 1 when this CPU has the CRC32C instructions the hardware path uses, 0 otherwise.
int CRingboard_crc32c_hardware_available(void);

#ifdef __cplusplus
}
#endif

#endif
