// Activations: GELU (exact erf form, as BERT uses) and tanh, SIMD-vectorised and split over cores.
import Foundation

@usableFromInline let invSqrt2: Float = 0.70710678118654752
@usableFromInline let invSqrt2Pi: Float = 0.39894228040143268

/// Applies a 16-lane map over n elements, split across cores.
@inline(__always)
func mapSIMD(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int, _ f: (F16x) -> F16x) {
    Parallel.chunks(n, cost: 4) { lo, hi in
        var i = lo
        while i + 16 <= hi {
            UnsafeMutableRawPointer(y + i).storeBytes(of: f(UnsafeRawPointer(x + i).loadUnaligned(as: F16x.self)), as: F16x.self)
            i += 16
        }
        if i < hi {
            var v = F16x(repeating: 0)
            for j in 0..<(hi - i) { v[j] = x[i + j] }
            let r = f(v)
            for j in 0..<(hi - i) { y[i + j] = r[j] }
        }
    }
}

/// Combines x, dy and dx (dx += g(x, dy)) 16 lanes at a time, split across cores.
@inline(__always)
func zipAccumulateSIMD(_ x: UnsafePointer<Float>, _ dy: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>, _ n: Int,
                       _ g: (F16x, F16x) -> F16x) {
    Parallel.chunks(n, cost: 4) { lo, hi in
        var i = lo
        while i + 16 <= hi {
            let xv = UnsafeRawPointer(x + i).loadUnaligned(as: F16x.self)
            let dyv = UnsafeRawPointer(dy + i).loadUnaligned(as: F16x.self)
            let dxv = UnsafeRawPointer(dx + i).loadUnaligned(as: F16x.self)
            UnsafeMutableRawPointer(dx + i).storeBytes(of: dxv + g(xv, dyv), as: F16x.self)
            i += 16
        }
        if i < hi {
            var xv = F16x(repeating: 0), dyv = F16x(repeating: 0)
            for j in 0..<(hi - i) { xv[j] = x[i + j]; dyv[j] = dy[i + j] }
            let r = g(xv, dyv)
            for j in 0..<(hi - i) { dx[i + j] += r[j] }
        }
    }
}

/// GELU, exact form: y = x · Φ(x) = ½ x (1 + erf(x / √2)).
/// Backward: dx += dy · (Φ(x) + x · φ(x)), φ(x) = exp(-x²/2) / √(2π).
public func gelu(_ x: Tensor) -> Tensor {
    let needs = Autograd.needsGrad(x)
    let y = Tensor.output(x.shape, grad: needs)
    mapSIMD(x.data, y.data, x.count) { v in 0.5 * v * (1 + verf(v * invSqrt2)) }
    if needs {
        Autograd.record {
            y.withIncomingGrad { dY in
                zipAccumulateSIMD(x.data, dY, x.gradData, x.count) { v, g in
                    let cdf = 0.5 * (1 + verf(v * invSqrt2))
                    let pdf = invSqrt2Pi * vexp(-0.5 * v * v)
                    return g * (cdf + v * pdf)
                }
            }
        }
    }
    return y
}

/// tanh. Backward: dx += dy · (1 - y²).
public func tanh(_ x: Tensor) -> Tensor {
    let needs = Autograd.needsGrad(x)
    let y = Tensor.output(x.shape, grad: needs)
    mapSIMD(x.data, y.data, x.count, vtanh)
    if needs {
        Autograd.record {
            y.withIncomingGrad { dY in
                zipAccumulateSIMD(y.data, dY, x.gradData, x.count) { t, g in g * (1 - t * t) }
            }
        }
    }
    return y
}
