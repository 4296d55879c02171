// membarrier(2) for the ring's owned appends: a producer thread that owns its ring updates tail
// with plain stores and no fence; the rare other side (a thread taking the ring over, a consumer
// going to sleep) pays for the fence instead, on every thread at once.
#include "CRingboard_membarrier.h"

#include <errno.h>

#if defined(__linux__)
#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <unistd.h>

static int membarrier(int command) {
    return syscall(SYS_membarrier, command, 0, 0) == 0 ? 0 : -errno;
}

int CRingboard_membarrier_register(void) {
    long supported = syscall(SYS_membarrier, MEMBARRIER_CMD_QUERY, 0, 0);
    if (supported < 0) return 0;
    int available = 0;
    if ((supported & MEMBARRIER_CMD_PRIVATE_EXPEDITED) && (supported & MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED)
        && membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) == 0) {
        available |= CRingboard_membarrier_private_available;
    }
    if ((supported & MEMBARRIER_CMD_GLOBAL_EXPEDITED) && (supported & MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED)
        && membarrier(MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED) == 0) {
        available |= CRingboard_membarrier_global_registered;
    }
    return available;
}

int CRingboard_membarrier_private(void) {
    return membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED);
}

int CRingboard_membarrier_global(void) {
    return membarrier(MEMBARRIER_CMD_GLOBAL_EXPEDITED);
}

#else

int CRingboard_membarrier_register(void) { return 0; }
int CRingboard_membarrier_private(void) { return -ENOSYS; }
int CRingboard_membarrier_global(void) { return -ENOSYS; }

#endif
