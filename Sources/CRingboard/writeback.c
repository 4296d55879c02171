// Background writeback and preallocation of a file range, for event files that end in an `fsync`.
#if defined(__linux__) && !defined(_GNU_SOURCE)
#define _GNU_SOURCE
#endif
#include "CRingboard_writeback.h"

#include <errno.h>
#include <fcntl.h>

int CRingboard_start_writeback(int fd, int64_t offset, int64_t length) {
#if defined(__linux__)
    return sync_file_range(fd, (off_t)offset, (off_t)length, SYNC_FILE_RANGE_WRITE) == 0 ? 0 : -errno;
#else
    (void)fd; (void)offset; (void)length;
    return 0;
#endif
}

int CRingboard_preallocate(int fd, int64_t offset, int64_t length) {
#if defined(__linux__)
    return fallocate(fd, FALLOC_FL_KEEP_SIZE, (off_t)offset, (off_t)length) == 0 ? 0 : -errno;
#else
    (void)fd; (void)offset; (void)length;
    return -EOPNOTSUPP;
#endif
}
