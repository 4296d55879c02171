import Glibc
internal import RingboardSystem

/// Ring files appearing in a directory, as the kernel reports them (inotify): the consumer finds
/// a new producer's ring at once instead of at its next scan, and sleeps on this when it has no
/// ring to wait on. Only a hint: the consumer still scans the directory now and then, which
/// finds whatever a lost notification would have told.
///
/// - Warning: Not thread-safe; the consumer's thread.
final class DirectoryWatch {
    private let descriptor: Int32

    /// Watches `directory`; `nil` when the kernel will not (no inotify, or out of watches).
    init?(directory: String) {
        let descriptor = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        guard descriptor >= 0 else { return nil }
        // A ring is made under a hidden name and renamed into place (`RingWriter`).
        guard inotify_add_watch(descriptor, directory, UInt32(IN_MOVED_TO | IN_CREATE)) >= 0 else {
            close(descriptor)
            return nil
        }
        self.descriptor = descriptor
    }

    deinit {
        close(descriptor)
    }

    /// Whether a ring file (a name ending in `RingDirectory.ringSuffix`, not hidden) appeared
    /// since the last call. Reads every notification queued, without waiting.
    func ringAppeared() -> Bool {
        var appeared = false
        withUnsafeTemporaryAllocation(byteCount: 4096, alignment: MemoryLayout<inotify_event>.alignment) { buffer in
            while true {
                let count = read(descriptor, buffer.baseAddress, buffer.count)
                guard count > 0 else { return }  // EAGAIN: nothing more queued
                var offset = 0
                let header = MemoryLayout<inotify_event>.size
                while offset + header <= count {
                    let event = buffer.loadUnaligned(fromByteOffset: offset, as: inotify_event.self)
                    let nameLength = Int(event.len)
                    guard offset + header + nameLength <= count else { break }
                    if nameLength > 0 {
                        // The name is NUL-padded to its length.
                        let bytes = UnsafeRawBufferPointer(rebasing: buffer[(offset + header)..<(offset + header + nameLength)])
                        let name = String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
                        if name.hasSuffix(RingDirectory.ringSuffix) && !name.hasPrefix(".") { appeared = true }
                    }
                    offset += header + nameLength
                }
            }
        }
        return appeared
    }

    /// Sleeps until something appears in the directory or `timeout` passes.
    func wait(timeout: Duration) {
        var request = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        _ = poll(&request, 1, Int32(clamping: max(1, timeout.inMilliseconds)))
    }
}
