// Annotations for ThreadSanitizer, which does not see into Synchronization.Mutex on Linux (it
// locks with atomics and futex calls inside the uninstrumented Swift runtime), and so reports
// every access a Mutex orders as a race. Swift code reaches these through `Mutex.locked`.
#include "CRingboard_tsan.h"

#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define CRINGBOARD_TSAN 1
#endif
#endif

#if CRINGBOARD_TSAN
void __tsan_acquire(void *address);
void __tsan_release(void *address);

void CRingboard_tsan_acquire(const void *address) { __tsan_acquire((void *)address); }
void CRingboard_tsan_release(const void *address) { __tsan_release((void *)address); }
#else
void CRingboard_tsan_acquire(const void *address) { (void)address; }
void CRingboard_tsan_release(const void *address) { (void)address; }
#endif
