import RingboardTestSupport
import Testing

@testable import RingboardFormat

@Suite struct CRC32CTests {
    /// A named input with its expected CRC32C.
    struct Vector: Sendable, CustomTestStringConvertible {
        let name: String
        let bytes: [UInt8]
        let crc: UInt32

        var testDescription: String { name }
    }

    /// RFC 3720 Appendix B.4 (iSCSI CRC examples), the "123456789" check value of the CRC
    /// catalogues, and the empty input.
    static let vectors: [Vector] = [
        Vector(name: "32 bytes of zeros", bytes: [UInt8](repeating: 0x00, count: 32), crc: 0x8A91_36AA),
        Vector(name: "32 bytes of ones", bytes: [UInt8](repeating: 0xFF, count: 32), crc: 0x62A8_AB43),
        Vector(name: "32 incrementing bytes", bytes: (0...31).map { UInt8($0) }, crc: 0x46DD_794E),
        Vector(name: "32 decrementing bytes", bytes: (0...31).reversed().map { UInt8($0) }, crc: 0x113F_DB5C),
        Vector(
            name: "iSCSI read command PDU",
            bytes: [
                0x01, 0xC0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  // opcode 0x01 (SCSI Command), flags F|R, lengths
                0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  // LUN
                0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00,  // initiator task tag, expected length
                0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x18,  // CmdSN, ExpStatSN
                0x28, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  // CDB: READ(10)
                0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
            ],
            crc: 0xD996_3A56
        ),
        Vector(name: "\"123456789\"", bytes: Array("123456789".utf8), crc: 0xE306_9283),
        Vector(name: "empty", bytes: [], crc: 0),
    ]

    /// The code paths this machine can run.
    static var implementations: [CRC32C.Implementation] {
        var implementations: [CRC32C.Implementation] = [.automatic, .portable]
        if CRC32C.hardwareAccelerated { implementations.append(.hardware) }
        if CRC32C.foldingAvailable { implementations.append(.folding) }
        return implementations
    }

    /// The CRC32C paths the C code finds are the ones Linux's CPU flags call for (x86_64), and the
    /// folding path runs where `RINGBOARD_EXPECT_VECTOR_PATH=avx512`: the other tests run every
    /// path this machine has, so one without them would drop them silently.
    @Test func availablePathsAreWhatTheCPURuns() {
        #if arch(x86_64)
        let flags = cpuFlags
        let hardware = flags.isSuperset(of: ["sse4_2", "pclmulqdq"])
        let folding = hardware && flags.isSuperset(of: ["avx512f", "avx512vl", "avx512bw", "vpclmulqdq"])
        #expect(CRC32C.hardwareAccelerated == hardware, "/proc/cpuinfo's flags: sse4_2 and pclmulqdq \(hardware ? "present" : "absent")")
        #expect(CRC32C.foldingAvailable == folding, "/proc/cpuinfo's flags: avx512f/vl/bw and vpclmulqdq \(folding ? "present" : "absent")")
        #endif
        if let expectedVectorPath {
            // avx512: the folding path; avx2: the CRC32C instructions but no folding; portable: neither.
            let expected: (hardware: Bool, folding: Bool)? = switch expectedVectorPath {
            case "avx512": (true, true)
            case "avx2": (true, false)
            case "portable": (false, false)
            default: nil
            }
            #expect(expected != nil, "RINGBOARD_EXPECT_VECTOR_PATH=\(expectedVectorPath): expected avx512, avx2 or portable")
            if let expected {
                #expect(CRC32C.hardwareAccelerated == expected.hardware && CRC32C.foldingAvailable == expected.folding,
                        "RINGBOARD_EXPECT_VECTOR_PATH=\(expectedVectorPath), but this machine's CRC32C paths are \(Self.pathNames)")
            }
        }
        print("crc32c kernel paths covered: \(Self.pathNames)")
    }

    /// The paths of ``implementations`` other than `.automatic`, for messages.
    static var pathNames: String {
        implementations.filter { if case .automatic = $0 { false } else { true } }.map { "\($0)" }.joined(separator: ", ")
    }

    @Test(arguments: vectors)
    func knownVector(_ vector: Vector) {
        #expect(CRC32C.checksum(vector.bytes) == vector.crc)
        #expect(CRC32C.checksum(vector.bytes.span.bytes) == vector.crc)
        vector.bytes.withUnsafeBytes { buffer in
            #expect(CRC32C.checksum(buffer) == vector.crc)
            for implementation in Self.implementations {
                #expect(CRC32C.extend(0, buffer, using: implementation) == vector.crc, "\(implementation)")
            }
        }
    }

    @Test func extendingByNothingKeepsTheCRC() {
        let empty: [UInt8] = []
        empty.withUnsafeBytes { buffer in
            for implementation in Self.implementations {
                #expect(CRC32C.extend(0xE306_9283, buffer, using: implementation) == 0xE306_9283)
            }
        }
        #expect(CRC32C.extend(0xE306_9283, empty.span.bytes) == 0xE306_9283)
    }

    @Test func extendOverSpansMatchesOneShot() {
        let bytes = Array("123456789".utf8)
        let span = bytes.span.bytes
        let head = span.extracting(0..<4)
        let tail = span.extracting(4..<9)
        #expect(CRC32C.extend(CRC32C.checksum(head), tail) == 0xE306_9283)
    }

    /// Every length from 0 to 4096 at a random alignment: the three-stream split, the join and the
    /// 4-, 2- and 1-byte tails of the hardware path against the portable path, and chaining
    /// `extend` at a random split point against the one-shot CRC.
    @Test func pathsAgreeOnEveryLengthUpTo4KiB() {
        var generator = SeededGenerator(seed: 0x5EED_C3C3_2C00_0001)
        let storage = (0..<(4096 + 64)).map { _ in UInt8.random(in: 0...255, using: &generator) }
        storage.withUnsafeBytes { all in
            for length in 0...4096 {
                let offset = Int.random(in: 0..<64, using: &generator)
                let buffer = UnsafeRawBufferPointer(rebasing: all[offset..<(offset + length)])
                let expected = CRC32C.extend(0, buffer, using: .portable)
                let split = Int.random(in: 0...length, using: &generator)
                let head = UnsafeRawBufferPointer(rebasing: buffer[..<split])
                let tail = UnsafeRawBufferPointer(rebasing: buffer[split...])
                for implementation in Self.implementations {
                    let oneShot = CRC32C.extend(0, buffer, using: implementation)
                    let chained = CRC32C.extend(CRC32C.extend(0, head, using: implementation), tail, using: implementation)
                    if oneShot != expected || chained != expected {
                        Issue.record("paths disagree: \(implementation), length \(length), offset \(offset), split \(split)")
                        return
                    }
                }
            }
        }
    }

    /// Lengths around and past 12 KiB, where the hardware path switches to full 4 KiB streams and
    /// joins several rounds.
    @Test(arguments: [12_287, 12_288, 12_289, 12_311, 24_576 + 23, 100_003, 1 << 20])
    func pathsAgreeOnLongBuffers(length: Int) {
        var generator = SeededGenerator(seed: UInt64(length))
        let storage = (0..<(length + 64)).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let offset = Int.random(in: 0..<64, using: &generator)
        storage.withUnsafeBytes { all in
            let buffer = UnsafeRawBufferPointer(rebasing: all[offset..<(offset + length)])
            let expected = CRC32C.extend(0, buffer, using: .portable)
            let split = Int.random(in: 0...length, using: &generator)
            for implementation in Self.implementations {
                #expect(CRC32C.extend(0, buffer, using: implementation) == expected, "\(implementation)")
                let head = UnsafeRawBufferPointer(rebasing: buffer[..<split])
                let tail = UnsafeRawBufferPointer(rebasing: buffer[split...])
                let chained = CRC32C.extend(CRC32C.extend(0, head, using: implementation), tail, using: implementation)
                #expect(chained == expected, "\(implementation), split \(split)")
            }
        }
    }

    /// CRCs of byte i = ((i * 2654435761) >> 13) & 0xff, the pattern of Scripts/bench-crc32c.sh,
    /// as the Python google-crc32c package computes them (`google_crc32c.value`): an independent
    /// check of the long-buffer paths, folding included where the CPU has it.
    @Test(arguments: [(200, 0xB175_B0CB), (4096, 0x9DC6_C5B3), (1 << 20, 0x081C_05AF), ((3 << 20) + 77, 0x83FF_8903)])
    func longBuffersMatchGoogleCRC32C(length: Int, crc: UInt32) {
        let bytes = (0..<length).map { UInt8(truncatingIfNeeded: ($0 &* 2_654_435_761) >> 13) }
        bytes.withUnsafeBytes { buffer in
            for implementation in Self.implementations {
                #expect(CRC32C.extend(0, buffer, using: implementation) == crc, "\(implementation)")
            }
        }
        #expect(CRC32C.checksum(bytes) == crc)
    }

    @Test func maskOfZeroIsTheDelta() {
        #expect(CRC32C.mask(0) == 0xA282_EAD8)
        #expect(CRC32C.unmask(0xA282_EAD8) == 0)
    }

    /// The TFRecord framing of the 13-byte payload "brain.Event:2": the length header is the
    /// little-endian UInt64 13, and both CRCs are stored masked (tensorflow/core/lib/io/record_writer.cc).
    /// Expected values come from TensorBoard's own pure-Python `masked_crc32c`.
    @Test func maskedCRCsOfATFRecord() {
        let payload = Array("brain.Event:2".utf8)
        let header: [UInt8] = [0x0D, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00]  // UInt64(13), little-endian
        #expect(CRC32C.checksum(header) == 0xA632_491A)
        #expect(CRC32C.mask(CRC32C.checksum(header)) == 0x34B8_373C)
        #expect(CRC32C.checksum(payload) == 0x8B8B_6CC1)
        #expect(CRC32C.mask(CRC32C.checksum(payload)) == 0x7C06_01EE)
        #expect(CRC32C.unmask(0x7C06_01EE) == 0x8B8B_6CC1)
    }

    @Test func unmaskUndoesMask() {
        var generator = SeededGenerator(seed: 0x00A2_82EA_D800_0000)
        let edges: [UInt32] = [0, 1, 0x7FFF, 0x8000, 0xFFFF_FFFF, 0xA282_EAD8, 0x5D7D_1527]
        let randoms = (0..<1000).map { _ in UInt32.random(in: .min ... .max, using: &generator) }
        for crc in edges + randoms {
            #expect(CRC32C.unmask(CRC32C.mask(crc)) == crc)
            #expect(CRC32C.mask(CRC32C.unmask(crc)) == crc)
        }
    }
}

// MARK: - AVX-512 folding path

/// The folding path against the portable path, on CPUs with AVX-512 and VPCLMULQDQ only.
///
/// `.folding` runs the folding code from 64 bytes up, below the 128-byte threshold where
/// `.automatic` switches to it (crc32c.c, CRC32C_FOLDING_THRESHOLD_BYTES), so that every length
/// reaches each of its parts: the single 64-byte register, the four registers over 256-byte rounds,
/// the fold of four registers into one, the 64-byte steps after it, and the 0 to 63 bytes the
/// `crc32` instruction finishes.
extension CRC32CTests {
    /// 4 MiB + 512 random bytes, room for the longest edge length at any offset below 256; shared
    /// by the tests below (made once; reading it is thread-safe).
    static let randomBytes: [UInt8] = {
        var generator = SeededGenerator(seed: 0x5EED_F01D_0000_0001)
        var bytes: [UInt8] = []
        bytes.reserveCapacity((4 << 20) + 512)
        while bytes.count < (4 << 20) + 512 {
            withUnsafeBytes(of: generator.next().littleEndian) { bytes.append(contentsOf: $0) }
        }
        return bytes
    }()

    /// Lengths on either side of every length where the paths change course: the folding path's
    /// 64-byte minimum, the three-stream minimum of 96, the 128-byte threshold of `.automatic`, the
    /// 256-byte round, the hardware path's 12 KiB of full streams, and multiples of the 256-byte
    /// round up to 4 MiB.
    static let foldingEdgeLengths: [Int] = {
        let edges = [64, 96, 128, 256, 512, 3 * 4096]
        let rounds = [4096, 12 * 4096, 1 << 16, 1 << 20, 3 << 20, 4 << 20]
        let nearEdges = edges.flatMap { edge in [-1, 0, 1, 63, 64, 65].map { edge + $0 } }
        let nearRounds = rounds.flatMap { round in [-256, -255, -65, -64, -63, -16, -1, 0, 1, 15, 16, 17, 63, 64, 65, 255].map { round + $0 } }
        return Array(Set(nearEdges + nearRounds)).sorted()
    }()

    /// Checks `.folding` and `.automatic` against `.portable` on `length` bytes of ``randomBytes``
    /// at `offset`, continuing from `seed`, one-shot and chained at `split`. Returns a description
    /// of the first disagreement, or nil.
    static func foldingDisagreement(length: Int, offset: Int, seed: UInt32, split: Int) -> String? {
        randomBytes.withUnsafeBytes { all in
            let buffer = UnsafeRawBufferPointer(rebasing: all[offset..<(offset + length)])
            let head = UnsafeRawBufferPointer(rebasing: buffer[..<split])
            let tail = UnsafeRawBufferPointer(rebasing: buffer[split...])
            let expected = CRC32C.extend(seed, buffer, using: .portable)
            for implementation in [CRC32C.Implementation.folding, .automatic] {
                let oneShot = CRC32C.extend(seed, buffer, using: implementation)
                let chained = CRC32C.extend(CRC32C.extend(seed, head, using: implementation), tail, using: implementation)
                if oneShot != expected || chained != expected {
                    return "\(implementation), length \(length), offset \(offset), seed \(seed), split \(split)"
                }
            }
            return nil
        }
    }

    /// Every length from 0 to 4096 at a random alignment, from a random CRC, one-shot and chained.
    @Test(.enabled(if: CRC32C.foldingAvailable, "needs AVX-512 F/VL/BW and VPCLMULQDQ"))
    func foldingAgreesOnEveryLengthUpTo4KiB() {
        var generator = SeededGenerator(seed: 0x5EED_F01D_0000_0002)
        for length in 0...4096 {
            let offset = Int.random(in: 0..<64, using: &generator)
            let seed = UInt32.random(in: .min ... .max, using: &generator)
            let split = Int.random(in: 0...length, using: &generator)
            if let disagreement = Self.foldingDisagreement(length: length, offset: offset, seed: seed, split: split) {
                Issue.record("paths disagree: \(disagreement)")
                return
            }
        }
    }

    /// Lengths around every threshold and round multiple up to 4 MiB, each at four random
    /// alignments, from random CRCs, one-shot and chained at random splits.
    @Test(.enabled(if: CRC32C.foldingAvailable, "needs AVX-512 F/VL/BW and VPCLMULQDQ"), arguments: foldingEdgeLengths)
    func foldingAgreesAroundThresholds(length: Int) {
        var generator = SeededGenerator(seed: UInt64(length) ^ 0x5EED_F01D_0000_0003)
        for _ in 0..<4 {
            let offset = Int.random(in: 0..<256, using: &generator)
            let seed = UInt32.random(in: .min ... .max, using: &generator)
            let split = Int.random(in: 0...length, using: &generator)
            let disagreement = Self.foldingDisagreement(length: length, offset: offset, seed: seed, split: split)
            #expect(disagreement == nil, "paths disagree: \(disagreement ?? "")")
        }
    }

    /// 4 MiB checksummed in pieces of random lengths (short ones that stay on the hardware path,
    /// ones around the thresholds, and long ones), each `extend` continuing from the last.
    @Test(.enabled(if: CRC32C.foldingAvailable, "needs AVX-512 F/VL/BW and VPCLMULQDQ"))
    func foldingChainedOverRandomPiecesMatchesOneShot() {
        var generator = SeededGenerator(seed: 0x5EED_F01D_0000_0004)
        Self.randomBytes.withUnsafeBytes { all in
            let buffer = UnsafeRawBufferPointer(rebasing: all[3..<((4 << 20) + 3)])
            let expected = CRC32C.extend(0, buffer, using: .portable)
            for implementation in [CRC32C.Implementation.folding, .automatic] {
                var crc: UInt32 = 0
                var start = 0
                var pieces = 0
                while start < buffer.count {
                    let limit = [64, 300, 5000, 200_000][pieces % 4]
                    let end = min(buffer.count, start + Int.random(in: 0...limit, using: &generator))
                    crc = CRC32C.extend(crc, UnsafeRawBufferPointer(rebasing: buffer[start..<end]), using: implementation)
                    start = end
                    pieces += 1
                }
                #expect(crc == expected, "\(implementation), \(pieces) pieces")
            }
        }
    }
}
