// Allocator settings for a process that handles large records (the aggregator).
#include "CRingboard.h"

#if defined(__GLIBC__)
#include <limits.h>
#include <malloc.h>
#endif

int CRingboard_malloc_keep_blocks_in_heap(size_t bytes) {
#if defined(__GLIBC__)
    if (bytes == 0 || bytes > INT_MAX / 2) return 0;
    // Blocks below `bytes` come from the heap, not a mapping of their own; up to twice that stays
    // at the heap's top when freed instead of going back to the kernel.
    return mallopt(M_MMAP_THRESHOLD, (int)bytes) == 1 && mallopt(M_TRIM_THRESHOLD, (int)(2 * bytes)) == 1;
#else
    (void)bytes;
    return 0;
#endif
}
