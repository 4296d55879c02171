#ifndef CRINGBOARD_WRITEBACK_H
#define CRINGBOARD_WRITEBACK_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Starts writing the dirty pages of `fd` in `offset..<offset + length` to disk without waiting
/// for them (Linux `sync_file_range(SYNC_FILE_RANGE_WRITE)`; nothing elsewhere). Returns 0 or
/// -errno. It promises nothing about durability: that is `fsync`'s.
int CRingboard_start_writeback(int fd, int64_t offset, int64_t length);

/// Reserves the blocks of `fd` in `offset..<offset + length` without changing its size (Linux
/// `fallocate(FALLOC_FL_KEEP_SIZE)`), so that writes there find them allocated. Returns 0 or
/// -errno (-EOPNOTSUPP where the file system or the system cannot).
int CRingboard_preallocate(int fd, int64_t offset, int64_t length);

#ifdef __cplusplus
}
#endif

#endif
