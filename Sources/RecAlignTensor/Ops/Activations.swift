// Activations: GELU (exact erf form, as BERT uses) and tanh, SIMD-vectorised and split over cores.
import Foundation

@usableFromInline let invSqrt2: Float = 0.70710678118654752
@usableFromInline let invSqrt2Pi: Float = 0.39894228040143268

// Kernels are concrete functions (not closures) so each loop inlines its math and vectorises.

func geluForwardKernel(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ lo: Int, _ hi: Int) {
    for i in lo..<hi { let v = x[i]; y[i] = 0.5 * v * (1 + fastErf(v * invSqrt2)) }
}

func geluBackwardKernel(_ x: UnsafePointer<Float>, _ dy: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>,
                        _ lo: Int, _ hi: Int) {
    for i in lo..<hi {
        let v = x[i]
        let cdf = 0.5 * (1 + fastErf(v * invSqrt2))
        let pdf = invSqrt2Pi * fastExp(-0.5 * v * v)
        dx[i] += dy[i] * (cdf + v * pdf)
    }
}

func tanhForwardKernel(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ lo: Int, _ hi: Int) {
    for i in lo..<hi { y[i] = fastTanh(x[i]) }
}

func tanhBackwardKernel(_ y: UnsafePointer<Float>, _ dy: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>,
                        _ lo: Int, _ hi: Int) {
    for i in lo..<hi { dx[i] += dy[i] * (1 - y[i] * y[i]) }
}

/// GELU, exact form: y = x · Φ(x) = ½ x (1 + erf(x / √2)).
/// Backward: dx += dy · (Φ(x) + x · φ(x)), φ(x) = exp(-x²/2) / √(2π).
public func gelu(_ x: Tensor) -> Tensor {
    let needs = Autograd.needsGrad(x)
    let y = Tensor.output(x.shape, grad: needs)
    let xd = x.data, yd = y.data
    Parallel.chunks(x.count, cost: 8) { lo, hi in geluForwardKernel(xd, yd, lo, hi) }
    if needs {
        let gy = GradRef(y)
        Autograd.record {
            gy.withIncoming { dY in
                let dX = x.gradData
                Parallel.chunks(x.count, cost: 8) { lo, hi in geluBackwardKernel(xd, dY, dX, lo, hi) }
            }
        }
    }
    return y
}

/// tanh. Backward: dx += dy · (1 - y²).
public func tanh(_ x: Tensor) -> Tensor {
    let needs = Autograd.needsGrad(x)
    let y = Tensor.output(x.shape, grad: needs)
    let xd = x.data, yd = y.data
    Parallel.chunks(x.count, cost: 8) { lo, hi in tanhForwardKernel(xd, yd, lo, hi) }
    if needs {
        Autograd.record {
            y.withIncomingGrad { dY in
                let dX = x.gradData
                Parallel.chunks(x.count, cost: 2) { lo, hi in tanhBackwardKernel(yd, dY, dX, lo, hi) }
            }
        }
    }
    return y
}
