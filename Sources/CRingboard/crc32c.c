/* Placeholder: bitwise CRC32C, replaced by the dispatched implementation. */
#include "CRingboard.h"
uint32_t CRingboard_crc32c_extend_portable(uint32_t crc, const void *data, size_t length) {
    const unsigned char *p = data; crc = ~crc;
    while (length--) { crc ^= *p++; for (int k = 0; k < 8; k++) crc = (crc >> 1) ^ (0x82F63B78u & (0u - (crc & 1u))); }
    return ~crc;
}
uint32_t CRingboard_crc32c_extend_hardware(uint32_t crc, const void *data, size_t length) { return CRingboard_crc32c_extend_portable(crc, data, length); }
uint32_t CRingboard_crc32c_extend(uint32_t crc, const void *data, size_t length) { return CRingboard_crc32c_extend_portable(crc, data, length); }
int CRingboard_crc32c_hardware_available(void) { return 0; }
