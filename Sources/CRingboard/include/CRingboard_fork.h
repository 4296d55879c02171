#ifndef CRINGBOARD_FORK_H
#define CRINGBOARD_FORK_H

#ifdef __cplusplus
extern "C" {
#endif

/// How many times this process's line of ancestors forked since the library loaded: 0 in the
/// process that loaded it, one more in each child of a fork() (a pthread_atfork child handler,
/// registered by `CRingboard_watch_forks`). A ring writer remembers the value it was made with;
/// a child, which shares its parent's ring mapping but not its locks or thread ownership, sees a
/// different one and must not append through it. It changes only in a child, before any thread
/// but the forking one runs there, so a plain load reads it.
unsigned long CRingboard_forks(void);

/// Where the count is, for a plain load on a hot path.
const unsigned long *CRingboard_fork_count_address(void);

/// Registers the fork handler, once per process (later calls do nothing).
void CRingboard_watch_forks(void);

/// The calling thread's id as the kernel numbers it (gettid), the id `ps -L` and profilers show.
long CRingboard_thread_id(void);

#ifdef __cplusplus
}
#endif

#endif
