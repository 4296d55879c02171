internal import CRingboard

extension Aggregator {
    /// Tunes this process's C allocator for what an aggregator decodes: weight values come in
    /// pieces of up to an eighth of a ring (2 MiB for the default ring), each decoded into a new
    /// array and freed once copied into its run. glibc's malloc maps every block of 128 KiB or
    /// more on its own, so each piece would fault in and zero fresh pages and unmap them again;
    /// with this, blocks under 32 MiB come from the heap, and up to 64 MiB of freed heap is kept.
    ///
    /// - Returns: Whether the allocator took the settings (only glibc's does).
    /// - Warning: Changes the whole process; for a process that runs an aggregator, called before
    ///   it starts.
    @discardableResult
    public static func keepLargeBlocksInHeap() -> Bool {
        CRingboard_malloc_keep_blocks_in_heap(32 << 20) == 1
    }
}
