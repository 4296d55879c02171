// `ringboard status` over a ring directory holding arbitrary files: the first 8 KiB of the input
// are `a.ring` (a 4 KiB data area; a shorter input is the whole file), the rest, if any, is
// `b.ring`; beside them lie a FIFO and a directory with ring names, and a file that is not a
// ring. `RingStatus.all(in:)` reads every header without changing it; what it calls damaged the
// consumer refuses too, and what it calls sound has a lag within the ring. A crash, a trap or a
// hang is a bug.
import FuzzSupport
import Glibc
import RingboardRing

let rings = scratchDirectory + "/status-rings"
let ringFileSize = 8192
mkdir(rings, 0o700)
mkfifo(rings + "/fifo.ring", 0o600)
mkdir(rings + "/directory.ring", 0o700)
writeFile(rings + "/notes.txt", Array("not a ring".utf8))

func check() {
    guard let statuses = try? RingStatus.all(in: rings) else { preconditionFailure("the ring directory cannot be listed") }
    for status in statuses {
        if let damage = status.damage {
            precondition(!damage.isEmpty, "damage without a reason")
            precondition((try? RingReader(path: rings + "/" + status.name)) == nil, "status calls \(status.name) damaged (\(damage)) but it opens")
        } else {
            precondition(status.lag >= 0 && status.lag <= Int64(status.capacity), "\(status.name): lag \(status.lag) outside the ring")
        }
    }
}

/// Seeds: rings made by `RingWriter` (4 KiB data areas), empty and holding records, one pair of
/// them as `a.ring` and `b.ring`; and, as a regression seed, the header that made `ringboard
/// status` trap: valid magic and version, capacity 2⁶⁴ − 1, tail `Int64.min`, head `Int64.max`.
func writeSeeds(_ directory: String) throws {
    var options = RingWriter.Options()
    options.capacity = 4096
    options.policy = .dropNewest
    func ring(_ records: Int) throws -> [UInt8] {
        let seedRings = scratchDirectory + "/seed-rings"
        let writer = try RingWriter(directory: seedRings, options: options)
        for index in 0..<records { _ = writer.tryAppend(type: RingRecordType.firstUser, Array(repeating: UInt8(index), count: 40)) }
        let bytes = try readFile(writer.path)
        writer.close()
        unlink(writer.path)
        rmdir(seedRings)
        return bytes
    }
    let empty = try ring(0), records = try ring(20)
    writeFile(directory + "/empty", empty)
    writeFile(directory + "/records", records)
    writeFile(directory + "/two-rings", records + empty)
    writeFile(directory + "/header-only", Array(records.prefix(4096)))
    var crafted = empty
    func store<T: FixedWidthInteger>(_ value: T, at offset: Int) {
        withUnsafeBytes(of: value.littleEndian) { crafted.replaceSubrange(offset..<(offset + MemoryLayout<T>.size), with: $0) }
    }
    store(UInt64.max, at: 16)  // capacity
    store(Int64.min, at: 128)  // tail
    store(Int64.max, at: 384)  // head
    writeFile(directory + "/regression-capacity-max-head-past-tail", crafted)
}

runFuzzer(writeSeeds: writeSeeds) { input in
    writeFile(rings + "/a.ring", UnsafeRawBufferPointer(rebasing: input.prefix(ringFileSize)))
    if input.count > ringFileSize {
        writeFile(rings + "/b.ring", UnsafeRawBufferPointer(rebasing: input.dropFirst(ringFileSize)))
    } else {
        unlink(rings + "/b.ring")
    }
    check()
}
