// VectorMath: branch-free scalar exp, erf and tanh written so that LLVM vectorises the loops that call them.
//
// Swift's SIMD16<Float> generic operations (clamped, rounded, integer conversion) compile to scalarised
// code on Linux; plain loops over these inline functions vectorise to AVX2 instead (see CoreBench).
import Foundation

/// exp(x): Cody-Waite range reduction (round-to-nearest by the 1.5·2²³ trick), Cephes degree-6 polynomial;
/// relative error < 3e-7. Inputs below -87.3 give ~1e-38 (not 0); above 88.3 are clamped (~2.2e38).
@inline(__always)
public func fastExp(_ xIn: Float) -> Float {
    let x = xIn < -87.3 ? -87.3 : (xIn > 88.3 ? 88.3 : xIn)
    let t = x * 1.44269504088896341 + 12582912.0
    let n = t - 12582912.0
    let r = x - n * 0.693359375 - n * -2.12194440e-4
    var p: Float = 1.9875691500e-4
    p = p * r + 1.3981999507e-3
    p = p * r + 8.3334519073e-3
    p = p * r + 4.1665795894e-2
    p = p * r + 1.6666665459e-1
    p = p * r + 5.0000001201e-1
    p = p * (r * r) + r + 1
    // t's low mantissa bits hold n (offset by 0x400000, which the shift drops); move them into the exponent.
    return p * Float(bitPattern: (t.bitPattern &+ 127) &<< 23)
}

/// erf(x): rational minimax approximation on [-4, 4] (as in Eigen's fast erf); |error| < 1e-6.
@inline(__always)
public func fastErf(_ xIn: Float) -> Float {
    let x = xIn < -4 ? -4 : (xIn > 4 ? 4 : xIn)
    let x2 = x * x
    var p: Float = -2.72614225801306e-10
    p = p * x2 + 2.77068142495902e-08
    p = p * x2 + -2.10102402082508e-06
    p = p * x2 + -5.69250639462346e-05
    p = p * x2 + -7.34990630326855e-04
    p = p * x2 + -2.95459980854025e-03
    p = p * x2 + -1.60960333262415e-02
    p = p * x
    var q: Float = -1.45660718464996e-05
    q = q * x2 + -2.13374055278905e-04
    q = q * x2 + -1.68282697438203e-03
    q = q * x2 + -7.37332916720468e-03
    q = q * x2 + -1.42647390514189e-02
    return p / q
}

/// tanh(x) = sign(x) (1 - e) / (1 + e), e = exp(-2|x|); a series near 0 where that cancels. |error| < 1e-6.
@inline(__always)
public func fastTanh(_ x: Float) -> Float {
    let ax = Swift.abs(x)
    let e = fastExp(-2 * ax)
    let t = (1 - e) / (1 + e)
    let x2 = ax * ax
    let series = ax * (1 + x2 * (-1.0 / 3 + x2 * (2.0 / 15 + x2 * (-17.0 / 315))))
    let r = ax < 0.05 ? series : t
    return x < 0 ? -r : r
}

/// exp for 8 lanes with the same reduction and polynomial as `fastExp`, written with the SIMD8 operations
/// that lower to AVX2 (compare/select for the clamps, `addingProduct` for fused multiply-adds, an integer
/// shift on the bit pattern). `pointwiseMin`/`pointwiseMax` are avoided: they compile to calls on Linux.
@inline(__always)
public func fastExp8(_ xIn: SIMD8<Float>) -> SIMD8<Float> {
    var x = xIn.replacing(with: -87.3, where: xIn .< -87.3)
    x = x.replacing(with: 88.3, where: x .> 88.3)
    let t = SIMD8<Float>(repeating: 12582912.0).addingProduct(x, SIMD8(repeating: 1.44269504088896341))
    let n = t - 12582912.0
    let r = x.addingProduct(n, SIMD8(repeating: -0.693359375)).addingProduct(n, SIMD8(repeating: 2.12194440e-4))
    var p = SIMD8<Float>(repeating: 1.3981999507e-3).addingProduct(SIMD8(repeating: 1.9875691500e-4), r)
    p = SIMD8(repeating: 8.3334519073e-3).addingProduct(p, r)
    p = SIMD8(repeating: 4.1665795894e-2).addingProduct(p, r)
    p = SIMD8(repeating: 1.6666665459e-1).addingProduct(p, r)
    p = SIMD8(repeating: 5.0000001201e-1).addingProduct(p, r)
    p = (r + 1).addingProduct(p, r * r)
    let bits = (unsafeBitCast(t, to: SIMD8<UInt32>.self) &+ 127) &<< 23
    return p * unsafeBitCast(bits, to: SIMD8<Float>.self)
}

/// The largest of 8 lanes, without the generic `SIMD.max()` call.
@inline(__always)
public func hmax8(_ v: SIMD8<Float>) -> Float {
    let a = v.lowHalf.replacing(with: v.highHalf, where: v.highHalf .> v.lowHalf)
    let b = a.lowHalf.replacing(with: a.highHalf, where: a.highHalf .> a.lowHalf)
    return Swift.max(b[0], b[1])
}
