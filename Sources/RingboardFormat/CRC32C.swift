internal import CRingboard

/// CRC32C (Castagnoli) checksums and the TFRecord mask.
///
/// TFRecord frames every record as
/// `uint64 length, uint32 masked_crc32c(length), bytes data, uint32 masked_crc32c(data)`
/// (tensorflow/core/lib/io/record_writer.cc), with CRC32C as defined in RFC 3720 §12.1 (iSCSI):
/// the bit-reflected polynomial 0x82F63B78, register preset to all ones, result inverted.
///
/// The checksum runs on the CPU's CRC32C instructions when it has them (SSE4.2 with PCLMULQDQ on
/// x86_64, the CRC extension on aarch64) and on a portable table-driven path otherwise; on x86_64
/// CPUs with AVX-512 and VPCLMULQDQ, buffers of 128 bytes and more are folded with carry-less
/// multiplies instead. All give the same result; ``hardwareAccelerated`` tells whether this machine
/// uses the CPU's instructions.
public enum CRC32C {
    /// The constant TensorFlow adds after rotating a CRC (`kMaskDelta` in tensorflow/core/lib/hash/crc32c.h).
    static let maskDelta: UInt32 = 0xa282_ead8

    /// Computes the CRC32C of a run of bytes.
    ///
    /// - Parameters:
    ///   - bytes: The bytes to checksum.
    /// - Returns: The CRC32C of `bytes`; 0 for no bytes.
    public static func checksum(_ bytes: RawSpan) -> UInt32 {
        extend(0, bytes)
    }

    /// Computes the CRC32C of an array of bytes.
    ///
    /// - Parameters:
    ///   - bytes: The bytes to checksum.
    /// - Returns: The CRC32C of `bytes`; 0 for an empty array.
    public static func checksum(_ bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBytes { extend(0, $0) }
    }

    /// Continues a CRC32C over more bytes.
    ///
    /// `extend(checksum(a), b)` equals the checksum of `a` followed by `b`, so a record can be
    /// checksummed piece by piece without copying it together.
    ///
    /// - Parameters:
    ///   - crc: The CRC32C of the bytes before `bytes` (a finished value, not masked); 0 to start.
    ///   - bytes: The bytes that follow.
    /// - Returns: The CRC32C of the earlier bytes followed by `bytes`.
    public static func extend(_ crc: UInt32, _ bytes: RawSpan) -> UInt32 {
        bytes.withUnsafeBytes { extend(crc, $0) }
    }

    /// Masks a CRC the way TFRecord stores it: rotated right by 15 bits, plus `0xa282ead8`.
    ///
    /// TensorFlow masks every CRC it stores, because computing the CRC of a string that has CRCs
    /// embedded in it is problematic (tensorflow/core/lib/hash/crc32c.h, `Mask`).
    ///
    /// - Parameters:
    ///   - crc: An unmasked CRC32C.
    /// - Returns: `((crc >> 15) | (crc << 17)) &+ 0xa282ead8`.
    public static func mask(_ crc: UInt32) -> UInt32 {
        ((crc >> 15) | (crc << 17)) &+ maskDelta
    }

    /// Undoes ``mask(_:)``.
    ///
    /// - Parameters:
    ///   - masked: A CRC as stored in a TFRecord.
    /// - Returns: The CRC32C that `masked` was made from.
    public static func unmask(_ masked: UInt32) -> UInt32 {
        let rotated = masked &- maskDelta
        return (rotated >> 17) | (rotated << 15)
    }

    /// Whether checksums on this machine run on CRC32C instructions rather than the portable path.
    ///
    /// True on x86_64 with SSE4.2 and PCLMULQDQ, and on aarch64 with the CRC extension. The CPU is
    /// asked on each access; the answer doesn't change while the process runs.
    public static var hardwareAccelerated: Bool {
        CRingboard_crc32c_hardware_available() != 0
    }
}

// MARK: - Internal entry points

extension CRC32C {
    /// The code path a checksum runs on. Tests and benchmarks pin one to compare the two.
    enum Implementation: Sendable {
        /// The hardware path when this CPU has it, the portable path otherwise.
        case automatic
        /// Slicing-by-8 over constant tables; runs everywhere.
        case portable
        /// The CPU's CRC32C instructions in three streams, never the folding path; traps when
        /// ``CRC32C/hardwareAccelerated`` is false.
        case hardware
        /// AVX-512 VPCLMULQDQ folding from 64 bytes up, below the length where `.automatic` switches
        /// to it too, and the hardware path for shorter buffers; traps when ``CRC32C/foldingAvailable``
        /// is false.
        case folding
    }

    /// Whether this CPU can run the AVX-512 VPCLMULQDQ folding path: x86_64 with SSE4.2, PCLMULQDQ,
    /// AVX-512 F, VL and BW, and VPCLMULQDQ. The CPU is asked on each access.
    static var foldingAvailable: Bool {
        CRingboard_crc32c_folding_available() != 0
    }

    /// Computes the CRC32C of the bytes in a buffer.
    ///
    /// - Parameters:
    ///   - bytes: The bytes to checksum; the buffer isn't kept.
    /// - Returns: The CRC32C of `bytes`.
    static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        extend(0, bytes)
    }

    /// Continues a CRC32C over the bytes in a buffer.
    ///
    /// - Parameters:
    ///   - crc: The CRC32C of the bytes before `bytes`; 0 to start.
    ///   - bytes: The bytes that follow; the buffer isn't kept.
    /// - Returns: The CRC32C of the earlier bytes followed by `bytes`.
    static func extend(_ crc: UInt32, _ bytes: UnsafeRawBufferPointer) -> UInt32 {
        CRingboard_crc32c_extend(crc, bytes.baseAddress, bytes.count)
    }

    /// Continues a CRC32C over the bytes in a buffer on a chosen code path.
    ///
    /// - Parameters:
    ///   - crc: The CRC32C of the bytes before `bytes`; 0 to start.
    ///   - bytes: The bytes that follow; the buffer isn't kept.
    ///   - implementation: The code path to run. `.hardware` requires ``hardwareAccelerated``,
    ///     `.folding` requires ``foldingAvailable``.
    /// - Returns: The CRC32C of the earlier bytes followed by `bytes`, the same on every path.
    static func extend(_ crc: UInt32, _ bytes: UnsafeRawBufferPointer, using implementation: Implementation) -> UInt32 {
        switch implementation {
        case .automatic:
            return CRingboard_crc32c_extend(crc, bytes.baseAddress, bytes.count)
        case .portable:
            return CRingboard_crc32c_extend_portable(crc, bytes.baseAddress, bytes.count)
        case .hardware:
            precondition(hardwareAccelerated, "CRC32C: this CPU has no CRC32C instructions")
            return CRingboard_crc32c_extend_hardware(crc, bytes.baseAddress, bytes.count)
        case .folding:
            precondition(foldingAvailable, "CRC32C: this CPU has no AVX-512 VPCLMULQDQ")
            return CRingboard_crc32c_extend_folding(crc, bytes.baseAddress, bytes.count)
        }
    }
}
