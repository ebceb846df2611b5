// VectorMath: SIMD exp, erf and tanh for Float32 kernels (no per-element libm calls in hot loops).
import Foundation

public typealias F16x = SIMD16<Float>

@usableFromInline let log2e: Float = 1.44269504088896341
@usableFromInline let ln2Hi: Float = 0.693359375
@usableFromInline let ln2Lo: Float = -2.12194440e-4

/// exp(x) for 16 lanes: Cody-Waite range reduction, Cephes degree-6 polynomial; rel. error ~2 ulp.
/// Inputs below -87.3 give ~1e-38 (not 0), above 88.3 are clamped (~2.3e38).
@inline(__always)
public func vexp(_ xIn: F16x) -> F16x {
    let x = xIn.clamped(lowerBound: F16x(repeating: -87.3), upperBound: F16x(repeating: 88.3))
    let n = (x * log2e).rounded(.toNearestOrEven)
    let r = x - n * ln2Hi - n * ln2Lo
    var p = F16x(repeating: 1.9875691500e-4)
    p = p * r + 1.3981999507e-3
    p = p * r + 8.3334519073e-3
    p = p * r + 4.1665795894e-2
    p = p * r + 1.6666665459e-1
    p = p * r + 5.0000001201e-1
    p = p * (r * r) + r + 1
    let e = (SIMD16<Int32>(n, rounding: .towardZero) &+ 127) &<< 23
    return p * unsafeBitCast(e, to: F16x.self)
}

/// Scalar exp with the same polynomial (for tails).
@inline(__always)
public func sexp(_ x: Float) -> Float { vexp(F16x(repeating: x))[0] }

/// erf(x) for 16 lanes: rational minimax approximation on [-4, 4] (as in Eigen's fast erf); |error| < 1e-6.
@inline(__always)
public func verf(_ xIn: F16x) -> F16x {
    let x = xIn.clamped(lowerBound: F16x(repeating: -4), upperBound: F16x(repeating: 4))
    let x2 = x * x
    var p = F16x(repeating: -2.72614225801306e-10)
    p = p * x2 + 2.77068142495902e-08
    p = p * x2 + -2.10102402082508e-06
    p = p * x2 + -5.69250639462346e-05
    p = p * x2 + -7.34990630326855e-04
    p = p * x2 + -2.95459980854025e-03
    p = p * x2 + -1.60960333262415e-02
    p = p * x
    var q = F16x(repeating: -1.45660718464996e-05)
    q = q * x2 + -2.13374055278905e-04
    q = q * x2 + -1.68282697438203e-03
    q = q * x2 + -7.37332916720468e-03
    q = q * x2 + -1.42647390514189e-02
    return p / q
}

/// tanh(x) for 16 lanes via exp: tanh(x) = 1 - 2 / (exp(2x) + 1), with odd symmetry for accuracy near 0.
@inline(__always)
public func vtanh(_ x: F16x) -> F16x {
    let ax = x.replacing(with: -x, where: x .< 0)
    let e = vexp(ax * -2)                      // in (0, 1]
    var t = (1 - e) / (1 + e)
    // Near 0 the subtraction above cancels; use the series x - x^3/3 + 2x^5/15 - 17x^7/315 there.
    let x2 = ax * ax
    var poly = x2 * F16x(repeating: -17.0 / 315) + F16x(repeating: 2.0 / 15)
    poly = poly * x2 + F16x(repeating: -1.0 / 3)
    poly = poly * x2 + F16x(repeating: 1)
    let series = ax * poly
    t = t.replacing(with: series, where: ax .< 0.05)
    return t.replacing(with: -t, where: x .< 0)
}
