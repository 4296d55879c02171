#ifndef CRINGBOARD_FUTEX_H
#define CRINGBOARD_FUTEX_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Sleeps while `*word == expected`, at most `timeout_ns` nanoseconds (a shared futex, so the word
/// may live in memory mapped by several processes). Returns 0 when woken, 1 when the value already
/// differed, the time ran out or a signal came, and -errno for any other failure.
int CRingboard_futex_wait(uint32_t *word, uint32_t expected, int64_t timeout_ns);

/// Sleeps until any of `count` words differs from its expected value or a waker calls
/// `CRingboard_futex_wake` on it, at most `timeout_ns` nanoseconds (FUTEX_WAITV, Linux 5.16+).
/// Returns 0 when woken, 1 when a value already differed, the time ran out or a signal came,
/// -ENOSYS when the kernel lacks futex_waitv, and -errno for any other failure.
/// `count` is at most 128.
int CRingboard_futex_waitv(uint32_t *const *words, const uint32_t *expected, uint32_t count, int64_t timeout_ns);

/// Wakes at most `count` waiters sleeping on `word`. Returns how many were woken, or -errno.
int CRingboard_futex_wake(uint32_t *word, int32_t count);

#ifdef __cplusplus
}
#endif

#endif
