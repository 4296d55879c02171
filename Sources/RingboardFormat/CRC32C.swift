internal import CRingboard

/// Placeholder until the dispatched implementation lands.
public enum CRC32C {
    static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 { extend(0, bytes) }
    static func extend(_ crc: UInt32, _ bytes: UnsafeRawBufferPointer) -> UInt32 {
        CRingboard_crc32c_extend(crc, bytes.baseAddress, bytes.count)
    }
    public static func checksum(_ bytes: [UInt8]) -> UInt32 { bytes.withUnsafeBytes { checksum($0) } }
    public static func mask(_ crc: UInt32) -> UInt32 { ((crc >> 15) | (crc << 17)) &+ 0xa282_ead8 }
    public static func unmask(_ masked: UInt32) -> UInt32 { let r = masked &- 0xa282_ead8; return (r >> 17) | (r << 15) }
}
