#ifndef CRINGBOARD_MEMBARRIER_H
#define CRINGBOARD_MEMBARRIER_H

#ifdef __cplusplus
extern "C" {
#endif

/// What `CRingboard_membarrier_register` made available: bits of the result.
enum {
    /// `CRingboard_membarrier_private` works in this process.
    CRingboard_membarrier_private_available = 1,
    /// This process takes part in other processes' `CRingboard_membarrier_global`.
    CRingboard_membarrier_global_registered = 2,
};

/// Registers this process for the expedited private and global commands of membarrier(2)
/// (Linux 4.14 and 4.16). Returns the bits of what is now available: 0 where the kernel lacks the
/// call or a seccomp filter refuses it. Registration is per process and may be repeated.
int CRingboard_membarrier_register(void);

/// Has every running thread of this process pass a full memory barrier before it returns
/// (MEMBARRIER_CMD_PRIVATE_EXPEDITED): the slow side of an asymmetric fence whose fast side is a
/// compiler-only barrier. Returns 0, or -errno (-EPERM when not registered).
int CRingboard_membarrier_private(void);

/// Has every running thread of every process registered with
/// `CRingboard_membarrier_global_registered` pass a full memory barrier before it returns
/// (MEMBARRIER_CMD_GLOBAL_EXPEDITED). Returns 0, or -errno.
int CRingboard_membarrier_global(void);

#ifdef __cplusplus
}
#endif

#endif
