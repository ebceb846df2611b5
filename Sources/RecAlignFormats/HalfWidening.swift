// HalfWidening: IEEE half (F16) and bfloat16 (BF16) to Float32, bit-exact, SIMD over 8 lanes.
import Foundation

/// Converters from 16-bit float encodings to Float. Input is raw little-endian bytes (alignment not required).
public enum HalfWidening {
    /// One IEEE binary16 value (bits) to Float: normals, subnormals, ±0, ±inf and NaN (payload kept).
    @inline(__always)
    public static func f16ToFloat(_ h: UInt16) -> Float {
        let magic = Float(bitPattern: 113 << 23)            // 2^-14: rescales subnormals
        let shiftedExp: UInt32 = 0x7C00 << 13
        var o = (UInt32(h) & 0x7FFF) << 13                  // exponent + mantissa in place
        let exp = shiftedExp & o
        o &+= (127 - 15) << 23                              // rebias
        if exp == shiftedExp {
            o &+= (128 - 16) << 23                          // inf / NaN: exponent all ones
        } else if exp == 0 {
            o &+= 1 << 23                                   // zero / subnormal: renormalise through the FPU
            o = (Float(bitPattern: o) - magic).bitPattern
        }
        return Float(bitPattern: o | ((UInt32(h) & 0x8000) << 16))
    }

    /// One bfloat16 value (bits) to Float: the upper half of a Float32.
    @inline(__always)
    public static func bf16ToFloat(_ h: UInt16) -> Float {
        Float(bitPattern: UInt32(h) << 16)
    }

    /// Widens `count` little-endian F16 values at `src` into `dst`.
    public static func widenF16(_ src: UnsafeRawPointer, count: Int, into dst: UnsafeMutablePointer<Float>) {
        let magic = SIMD8<Float>(repeating: Float(bitPattern: 113 << 23))
        let shiftedExp = SIMD8<UInt32>(repeating: 0x7C00 << 13)
        let zero = SIMD8<UInt32>(repeating: 0)
        var i = 0
        while i + 8 <= count {
            let h = SIMD8<UInt32>(truncatingIfNeeded: src.loadUnaligned(fromByteOffset: 2 * i, as: SIMD8<UInt16>.self))
            var o = (h & 0x7FFF) &<< 13
            let exp = shiftedExp & o
            o &+= (127 - 15) << 23
            let infNaN = exp .== shiftedExp
            let small = exp .== zero
            o.replace(with: o &+ ((128 - 16) << 23), where: infNaN)
            let renorm = unsafeBitCast(unsafeBitCast(o &+ (1 << 23), to: SIMD8<Float>.self) - magic, to: SIMD8<UInt32>.self)
            o.replace(with: renorm, where: small)
            o |= (h & 0x8000) &<< 16
            UnsafeMutableRawPointer(dst + i).storeBytes(of: unsafeBitCast(o, to: SIMD8<Float>.self), as: SIMD8<Float>.self)
            i += 8
        }
        while i < count {
            dst[i] = f16ToFloat(UInt16(littleEndian: src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))
            i += 1
        }
    }

    /// Widens `count` little-endian BF16 values at `src` into `dst`.
    public static func widenBF16(_ src: UnsafeRawPointer, count: Int, into dst: UnsafeMutablePointer<Float>) {
        var i = 0
        while i + 8 <= count {
            let h = SIMD8<UInt32>(truncatingIfNeeded: src.loadUnaligned(fromByteOffset: 2 * i, as: SIMD8<UInt16>.self))
            UnsafeMutableRawPointer(dst + i).storeBytes(of: unsafeBitCast(h &<< 16, to: SIMD8<Float>.self), as: SIMD8<Float>.self)
            i += 8
        }
        while i < count {
            dst[i] = bf16ToFloat(UInt16(littleEndian: src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))
            i += 1
        }
    }
}
