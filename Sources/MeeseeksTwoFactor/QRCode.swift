/// A QR code (ISO/IEC 18004) of bytes, for `2fa enroll` to show the `otpauth://` URI in a
/// terminal: byte mode, error correction level M, versions 1 to 20 (up to 666 bytes: an otpauth
/// URI with a long issuer fits). No package for this exists among our dependencies; the encoder is small,
/// and its output is checked module for module against python-qrcode in the tests.
public struct QRCode: Sendable {
    /// `modules[row][column]`, true for dark.
    public let modules: [[Bool]]
    public let version: Int
    public let mask: Int
    public var size: Int { modules.count }

    public enum Failure: Error, Equatable {
        case tooLong(Int)
    }

    /// Encodes `bytes` in the smallest version that holds them, with `mask` (0–7) or, when nil,
    /// the mask the standard's penalty rules prefer.
    public init(_ bytes: [UInt8], mask: Int? = nil, version: Int? = nil) throws(Failure) {
        guard let chosen = version ?? Self.versions.indices.dropFirst().first(where: { Self.capacity($0) >= bytes.count }),
            Self.capacity(chosen) >= bytes.count
        else { throw .tooLong(bytes.count) }
        let codewords = Self.interleave(Self.dataCodewords(bytes, version: chosen), version: chosen)
        var grid = Grid(version: chosen)
        grid.placeFunctionPatterns()
        grid.placeData(codewords)
        let masks = mask.map { [$0] } ?? Array(0..<8)
        var best: (grid: Grid, penalty: Int, mask: Int)?
        for candidate in masks {
            var masked = grid
            masked.applyMask(candidate)
            masked.placeFormat(mask: candidate)
            let penalty = masks.count == 1 ? 0 : masked.penalty()
            if best == nil || penalty < best!.penalty { best = (masked, penalty, candidate) }
        }
        self.modules = best!.grid.dark
        self.version = chosen
        self.mask = best!.mask
    }

    // MARK: Tables for level M

    /// Per version (index 1…20): error correction codewords per block, and the blocks' data lengths.
    static let versions: [(ecPerBlock: Int, blocks: [Int])] = [
        (0, []),
        (10, [16]), (16, [28]), (26, [44]), (18, [32, 32]), (24, [43, 43]),
        (16, [27, 27, 27, 27]), (18, [31, 31, 31, 31]), (22, [38, 38, 39, 39]), (22, [36, 36, 36, 37, 37]),
        (26, [43, 43, 43, 43, 44]),
        (30, [50] + Array(repeating: 51, count: 4)), (22, Array(repeating: 36, count: 6) + [37, 37]),
        (22, Array(repeating: 37, count: 8) + [38]), (24, Array(repeating: 40, count: 4) + Array(repeating: 41, count: 5)),
        (24, Array(repeating: 41, count: 5) + Array(repeating: 42, count: 5)),
        (28, Array(repeating: 45, count: 7) + Array(repeating: 46, count: 3)), (28, Array(repeating: 46, count: 10) + [47]),
        (26, Array(repeating: 43, count: 9) + Array(repeating: 44, count: 4)),
        (26, Array(repeating: 44, count: 3) + Array(repeating: 45, count: 11)),
        (26, Array(repeating: 41, count: 3) + Array(repeating: 42, count: 13)),
    ]

    static let alignmentCenters: [[Int]] = [
        [], [], [6, 18], [6, 22], [6, 26], [6, 30], [6, 34], [6, 22, 38], [6, 24, 42], [6, 26, 46], [6, 28, 50],
        [6, 30, 54], [6, 32, 58], [6, 34, 62], [6, 26, 46, 66], [6, 26, 48, 70], [6, 26, 50, 74], [6, 30, 54, 78],
        [6, 30, 56, 82], [6, 30, 58, 86], [6, 34, 62, 90],
    ]

    /// Bytes a version holds in byte mode: its data codewords less the mode and count header.
    static func capacity(_ version: Int) -> Int {
        let bits = versions[version].blocks.reduce(0, +) * 8 - 4 - countBits(version)
        return bits / 8
    }

    static func countBits(_ version: Int) -> Int { version < 10 ? 8 : 16 }

    // MARK: Codewords

    /// Mode, count, the bytes, a terminator and padding, as data codewords.
    static func dataCodewords(_ bytes: [UInt8], version: Int) -> [UInt8] {
        var bits = BitBuffer()
        bits.append(0b0100, count: 4)
        bits.append(bytes.count, count: countBits(version))
        for byte in bytes { bits.append(Int(byte), count: 8) }
        let capacity = versions[version].blocks.reduce(0, +) * 8
        bits.append(0, count: min(4, capacity - bits.count))
        bits.append(0, count: (8 - bits.count % 8) % 8)
        var codewords = bits.bytes
        var pad: UInt8 = 0xEC
        while codewords.count < capacity / 8 {
            codewords.append(pad)
            pad = pad == 0xEC ? 0x11 : 0xEC
        }
        return codewords
    }

    /// Splits data into blocks, adds each block's Reed–Solomon codewords, and interleaves them.
    static func interleave(_ data: [UInt8], version: Int) -> [UInt8] {
        let (ecCount, lengths) = versions[version]
        var blocks: [[UInt8]] = []
        var offset = 0
        for length in lengths {
            blocks.append(Array(data[offset..<offset + length]))
            offset += length
        }
        let divisor = ReedSolomon.generator(degree: ecCount)
        let ec = blocks.map { ReedSolomon.remainder($0, divisor) }
        var out: [UInt8] = []
        for i in 0..<(lengths.max() ?? 0) {
            for block in blocks where i < block.count { out.append(block[i]) }
        }
        for i in 0..<ecCount {
            for block in ec { out.append(block[i]) }
        }
        return out
    }
}

/// Bits, most significant first.
struct BitBuffer {
    private(set) var bits: [Bool] = []
    var count: Int { bits.count }

    mutating func append(_ value: Int, count: Int) {
        for shift in stride(from: count - 1, through: 0, by: -1) { bits.append((value >> shift) & 1 == 1) }
    }

    var bytes: [UInt8] {
        stride(from: 0, to: bits.count, by: 8).map { start in
            bits[start..<min(start + 8, bits.count)].reduce(UInt8(0)) { $0 << 1 | ($1 ? 1 : 0) }
        }
    }
}

/// Reed–Solomon over GF(2⁸) with the QR polynomial x⁸ + x⁴ + x³ + x² + 1.
enum ReedSolomon {
    static func multiply(_ x: UInt8, _ y: UInt8) -> UInt8 {
        var product = 0
        for bit in stride(from: 7, through: 0, by: -1) {
            product = (product << 1) ^ ((product >> 7) * 0x11D)
            product ^= Int((y >> UInt8(bit)) & 1) * Int(x)
        }
        return UInt8(product)
    }

    /// The generator polynomial (x − α⁰)…(x − α^(degree−1)), highest coefficient (1) left out.
    static func generator(degree: Int) -> [UInt8] {
        var result = [UInt8](repeating: 0, count: degree)
        result[degree - 1] = 1
        var root: UInt8 = 1
        for _ in 0..<degree {
            for j in 0..<degree {
                result[j] = multiply(result[j], root)
                if j + 1 < degree { result[j] ^= result[j + 1] }
            }
            root = multiply(root, 0x02)
        }
        return result
    }

    static func remainder(_ data: [UInt8], _ divisor: [UInt8]) -> [UInt8] {
        var result = [UInt8](repeating: 0, count: divisor.count)
        for byte in data {
            let factor = byte ^ result.removeFirst()
            result.append(0)
            for i in result.indices { result[i] ^= multiply(divisor[i], factor) }
        }
        return result
    }
}
