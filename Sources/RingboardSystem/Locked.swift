import Synchronization
#if RINGBOARD_TSAN
internal import CRingboard
#endif

extension Mutex where Value: ~Copyable {
    /// `withLock`, which a ThreadSanitizer build sees as a lock.
    ///
    /// ThreadSanitizer does not see into `Mutex` on Linux (it locks inside the uninstrumented Swift
    /// runtime), so it reports every access the lock orders as a race. Built with
    /// `-Xswiftc -DRINGBOARD_TSAN` (as `Scripts/test.sh` builds its ThreadSanitizer runs), the
    /// critical section acquires and releases the mutex's address for ThreadSanitizer
    /// (`__tsan_acquire`, `__tsan_release`). In any other build it is `withLock`.
    @inlinable @inline(__always)
    package borrowing func locked<Result: ~Copyable, E: Error>(
        _ body: (inout sending Value) throws(E) -> sending Result
    ) throws(E) -> sending Result {
        #if RINGBOARD_TSAN
        // A Mutex is never moved while borrowed (`@_staticExclusiveOnly`): its address names it.
        let address = withUnsafePointer(to: self) { UnsafeRawPointer($0) }
        return try withLock { (value: inout sending Value) throws(E) -> sending Result in
            threadSanitizerAcquire(address)
            defer { threadSanitizerRelease(address) }
            return try body(&value)
        }
        #else
        return try withLock(body)
        #endif
    }
}

#if RINGBOARD_TSAN
@usableFromInline
package func threadSanitizerAcquire(_ address: UnsafeRawPointer) {
    CRingboard_tsan_acquire(address)
}

@usableFromInline
package func threadSanitizerRelease(_ address: UnsafeRawPointer) {
    CRingboard_tsan_release(address)
}
#endif
