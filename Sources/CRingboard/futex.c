// Futex calls for the ring's doorbell: the consumer sleeps on a word in each ring's header and a
// producer wakes it only when that word says it sleeps (Linux futex(2), futex_waitv(2)).
#include "CRingboard_futex.h"

#include <errno.h>
#include <stddef.h>
#include <time.h>

#if defined(__linux__)
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SYS_futex_waitv
#define SYS_futex_waitv 449  // the same number on x86_64 and aarch64
#endif
#ifndef FUTEX_32
#define FUTEX_32 2
#endif

struct CRingboard_futex_waitv_entry {  // struct futex_waitv (linux/futex.h, 5.16)
    uint64_t val;
    uint64_t uaddr;
    uint32_t flags;
    uint32_t __reserved;
};
_Static_assert(sizeof(struct CRingboard_futex_waitv_entry) == 24, "struct futex_waitv is 24 bytes");

static int result_of(long status) {
    if (status >= 0) return 0;
    int error = errno;
    if (error == EAGAIN || error == ETIMEDOUT || error == EINTR) return 1;
    return -error;
}

int CRingboard_futex_wait(uint32_t *word, uint32_t expected, int64_t timeout_ns) {
    struct timespec timeout = {.tv_sec = timeout_ns / 1000000000, .tv_nsec = timeout_ns % 1000000000};
    return result_of(syscall(SYS_futex, word, FUTEX_WAIT, expected, &timeout, NULL, 0));
}

int CRingboard_futex_waitv(uint32_t *const *words, const uint32_t *expected, uint32_t count, int64_t timeout_ns) {
    if (count == 0 || count > 128) return -EINVAL;
    struct CRingboard_futex_waitv_entry entries[128];
    for (uint32_t i = 0; i < count; i++) {
        entries[i].val = expected[i];
        entries[i].uaddr = (uint64_t)(uintptr_t)words[i];
        entries[i].flags = FUTEX_32;
        entries[i].__reserved = 0;
    }
    // futex_waitv takes an absolute timeout on the given clock.
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += timeout_ns / 1000000000;
    deadline.tv_nsec += timeout_ns % 1000000000;
    if (deadline.tv_nsec >= 1000000000) {
        deadline.tv_sec += 1;
        deadline.tv_nsec -= 1000000000;
    }
    long status = syscall(SYS_futex_waitv, entries, count, 0, &deadline, CLOCK_MONOTONIC);
    return status >= 0 ? 0 : result_of(status);
}

int CRingboard_futex_wake(uint32_t *word, int32_t count) {
    long woken = syscall(SYS_futex, word, FUTEX_WAKE, count, NULL, NULL, 0);
    return woken >= 0 ? (int)woken : -errno;
}

#else

int CRingboard_futex_wait(uint32_t *word, uint32_t expected, int64_t timeout_ns) {
    (void)word; (void)expected;
    struct timespec pause = {.tv_sec = 0, .tv_nsec = timeout_ns < 1000000 ? timeout_ns : 1000000};
    nanosleep(&pause, NULL);
    return 1;
}

int CRingboard_futex_waitv(uint32_t *const *words, const uint32_t *expected, uint32_t count, int64_t timeout_ns) {
    (void)words; (void)expected; (void)count; (void)timeout_ns;
    return -ENOSYS;
}

int CRingboard_futex_wake(uint32_t *word, int32_t count) {
    (void)word; (void)count;
    return 0;
}

#endif
