// Dropout: zeroes each element with probability p (seeded) and scales the rest by 1/(1-p).
import Foundation

/// y = x ⊙ m / (1 - p), m ~ Bernoulli(1 - p) drawn from `rng`. p = 0 returns x itself.
/// Backward: dx += dy ⊙ m / (1 - p).
public func dropout(_ x: Tensor, p: Float, rng: inout SeededRNG) -> Tensor {
    precondition(p >= 0 && p < 1, "dropout: p = \(p) must be in [0, 1)")
    if p == 0 { return x }
    let keep = 1 / (1 - p)
    let mask = Storage(count: x.count, zeroed: false)
    let md = mask.base
    // Threshold on 24 random bits; two draws per 64-bit output.
    let threshold = UInt64(Double(p) * 16_777_216.0)
    var i = 0
    while i < x.count {
        let r = rng.next()
        md[i] = (r >> 40) >= threshold ? keep : 0
        if i + 1 < x.count { md[i + 1] = ((r >> 8) & 0xFFFFFF) >= threshold ? keep : 0 }
        i += 2
    }
    let needs = Autograd.needsGrad(x)
    let y = Tensor.output(x.shape, grad: needs)
    let xd = x.data, yd = y.data
    Parallel.chunks(x.count) { lo, hi in for j in lo..<hi { yd[j] = xd[j] * md[j] } }
    if needs {
        Autograd.record {
            y.withIncomingGrad { dY in
                let dX = x.gradData, md = mask.base   // the closure keeps `mask` alive
                Parallel.chunks(x.count) { lo, hi in for j in lo..<hi { dX[j] += dY[j] * md[j] } }
            }
        }
    }
    return y
}
