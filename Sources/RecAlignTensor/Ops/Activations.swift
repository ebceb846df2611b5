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
    elementwiseActivation(x, cost: 8, backwardCost: 8, backwardReadsOutput: false,
                          forward: { x, y, lo, hi in geluForwardKernel(x, y, lo, hi) },
                          backward: { x, _, dy, dx, lo, hi in geluBackwardKernel(x, dy, dx, lo, hi) })
}

/// tanh. Backward: dx += dy · (1 - y²).
public func tanh(_ x: Tensor) -> Tensor {
    elementwiseActivation(x, cost: 8, backwardCost: 2, backwardReadsOutput: true,
                          forward: { x, y, lo, hi in tanhForwardKernel(x, y, lo, hi) },
                          backward: { _, y, dy, dx, lo, hi in tanhBackwardKernel(y!, dy, dx, lo, hi) })
}

/// y = f(x) element-wise, `forward(x, y, lo, hi)` over chunks split across the cores (`cost` per element); when
/// x needs a gradient, `backward(x, y, dY, dX, lo, hi)` adds dx over chunks of `backwardCost`. The output's
/// values are kept for the backward (`y` non-nil) only when `backwardReadsOutput`; otherwise only its gradient
/// slot is referenced, so y's storage is freed with its last forward user.
@inline(__always)
func elementwiseActivation(_ x: Tensor, cost: Int, backwardCost: Int, backwardReadsOutput: Bool,
                           forward: (UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int, Int) -> Void,
                           backward: @escaping (_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>?,
                                                _ dy: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>,
                                                Int, Int) -> Void) -> Tensor {
    let needs = Autograd.needsGrad(x)
    let y = Tensor.output(x.shape, grad: needs)
    let xd = x.data, yd = y.data
    Parallel.chunks(x.count, cost: cost) { lo, hi in forward(xd, yd, lo, hi) }
    if needs {
        let gy = GradRef(y), kept: Tensor? = backwardReadsOutput ? y : nil
        Autograd.record {
            gy.withIncoming { dY in
                let dX = x.gradData, yv = kept.map { UnsafePointer($0.data) }
                Parallel.chunks(x.count, cost: backwardCost) { lo, hi in backward(xd, yv, dY, dX, lo, hi) }
            }
        }
    }
    return y
}
