// Reduce: sum and mean of all elements to a scalar.
import Foundation

/// Σ x (scalar, accumulated in Double). Backward: dx += dy.
public func sum(_ x: Tensor) -> Tensor { reduceAll(x, factor: 1) }

/// (1/n) Σ x (scalar). Backward: dx += dy / n.
public func mean(_ x: Tensor) -> Tensor { reduceAll(x, factor: 1 / Float(max(x.count, 1))) }

func reduceAll(_ x: Tensor, factor: Float) -> Tensor {
    let needs = Autograd.needsGrad(x)
    let y = Tensor.output([1], grad: needs)
    var s: Double = 0
    for i in 0..<x.count { s += Double(x.data[i]) }
    y.data[0] = Float(s) * factor
    if needs {
        Autograd.record {
            y.withIncomingGrad { dY in
                let g = dY[0] * factor, dX = x.gradData
                for i in 0..<x.count { dX[i] += g }
            }
        }
    }
    return y
}
