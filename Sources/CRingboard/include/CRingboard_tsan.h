#ifndef CRINGBOARD_TSAN_H
#define CRINGBOARD_TSAN_H

#ifdef __cplusplus
extern "C" {
#endif

/// Tells ThreadSanitizer that the calling thread acquires, or releases, the synchronization
/// object at `address` (`__tsan_acquire`, `__tsan_release`): what a lock it cannot see into does.
/// Empty in a build without ThreadSanitizer.
void CRingboard_tsan_acquire(const void *address);
void CRingboard_tsan_release(const void *address);

#ifdef __cplusplus
}
#endif

#endif
