// The fork count of CRingboard_fork.h, and the thread id.
#include "CRingboard_fork.h"

#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

static unsigned long fork_count = 0;

static void child_after_fork(void) {
    __atomic_add_fetch(&fork_count, 1, __ATOMIC_RELAXED);
}

static void register_handler(void) {
    pthread_atfork(NULL, NULL, child_after_fork);
}

void CRingboard_watch_forks(void) {
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, register_handler);
}

unsigned long CRingboard_forks(void) {
    return __atomic_load_n(&fork_count, __ATOMIC_RELAXED);
}

const unsigned long *CRingboard_fork_count_address(void) {
    return &fork_count;
}

long CRingboard_thread_id(void) {
    return syscall(SYS_gettid);
}
