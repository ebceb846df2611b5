// Loss: log-softmax + cross-entropy with integer targets, averaged over rows.
import Foundation

/// L = -(1/N) Σ_n log softmax(logits[n])[targets[n]]. Shapes: logits [N, K], targets [N] -> scalar.
/// The probabilities come from the softmax row kernel (`softmaxRow`, as `softmax`); the loss takes
/// log softmax[t] = x[t] - max - log(sum) from the same pass, so it stays finite when p[t] underflows.
/// Backward: dlogits[n, k] += dL · (p[n, k] - 1[k = targets[n]]) / N (the log-softmax backward on the
/// kernel's probabilities: the softmax backward would need dL/dp = -1/p[t], infinite when p[t] is 0).
public func crossEntropy(_ logits: Tensor, targets: [Int]) -> Tensor {
    precondition(logits.rank == 2 && targets.count == logits.shape[0], "crossEntropy: logits \(logits.shape), \(targets.count) targets")
    let n = logits.shape[0], k = logits.shape[1]
    for t in targets { precondition(t >= 0 && t < k, "crossEntropy: target \(t) outside \(k) classes") }
    let needs = Autograd.needsGrad(logits)
    let loss = Tensor.output([1], grad: needs)
    let probs = Storage(count: n * k, zeroed: false)
    var total: Double = 0
    for r in 0..<n {
        let lr = logits.data + r * k
        let (mx, sum) = softmaxRow(lr, nil, probs.base + r * k, k)
        total += -(Double(lr[targets[r]] - mx) - Foundation.log(Double(sum)))
    }
    loss.data[0] = Float(total / Double(n))
    if needs {
        Autograd.record {
            loss.withIncomingGrad { dL in
                let dX = logits.gradData, s = dL[0] / Float(n)
                for r in 0..<n {
                    for j in 0..<k { dX[r * k + j] += s * probs.base[r * k + j] }
                    dX[r * k + targets[r]] -= s
                }
            }
        }
    }
    return loss
}
