// LayerNorm: normalisation over the last axis with gain γ and bias β, saving mean and 1/σ for backward.
import Foundation

/// y = (x - μ) / √(σ² + eps) · γ + β over the last axis C of x [..., C].
///
/// Backward (per row, n̂ = (x - μ)·rstd, dn̂ = dy·γ):
///   dβ += dy;  dγ += dy · n̂;  dx += rstd · (dn̂ - mean(dn̂) - n̂ · mean(dn̂ · n̂)).
public func layerNorm(_ x: Tensor, gamma: Tensor, beta: Tensor, eps: Float) -> Tensor {
    let c = x.lastDim, rows = x.rows
    precondition(gamma.count == c && beta.count == c, "layerNorm: γ \(gamma.shape) β \(beta.shape) for \(x.shape)")
    let needs = Autograd.needsGrad(x, gamma, beta)
    let y = Tensor.output(x.shape, grad: needs)
    let stats = Storage(count: 2 * rows, zeroed: false) // mean, rstd per row
    let xd = x.data, yd = y.data, g = gamma.data, bt = beta.data, st = stats.base
    Parallel.chunks(rows, cost: c * 3, align: 1) { lo, hi in
        for r in lo..<hi {
            let xr = xd + r * c, yr = yd + r * c
            let mean = vsum(xr, c) / Float(c)
            let sq = vsumSquaresCentred(xr, mean, c)
            let rstd = 1 / (sq / Float(c) + eps).squareRoot()
            for j in 0..<c { yr[j] = (xr[j] - mean) * rstd * g[j] + bt[j] }
            st[2 * r] = mean; st[2 * r + 1] = rstd
        }
    }
    if needs {
        let gy = GradRef(y)
        Autograd.record {
            gy.withIncoming { dY in
                let st = stats.base   // the closure keeps `stats` alive
                let needX = x.requiresGrad, needG = gamma.requiresGrad, needB = beta.requiresGrad
                let dX = needX ? x.gradData : nil
                // Per-worker partial sums for dγ, dβ, reduced afterwards.
                let workers = Parallel.isSerialThread ? 1 : max(1, Parallel.workers)
                let partial = Storage(count: workers * 2 * c)
                let scratch = Storage(count: workers * 2 * c, zeroed: false)   // n̂ and dn̂ of one row
                let per = (rows + workers - 1) / workers
                let body: (Int) -> Void = { w in
                    FloatEnvironment.enter()
                    let lo = w * per, hi = min(rows, lo + per)
                    if lo >= hi { return }
                    let pg = partial.base + w * 2 * c, pb = pg + c
                    let nh = scratch.base + w * 2 * c, dn = nh + c
                    for r in lo..<hi {
                        let xr = xd + r * c, dyr = dY + r * c
                        let mean = st[2 * r], rstd = st[2 * r + 1]
                        for j in 0..<c { nh[j] = (xr[j] - mean) * rstd; dn[j] = dyr[j] * g[j] }
                        let mDn = vsum(dn, c) / Float(c), mDnN = vdot(dn, nh, c) / Float(c)
                        for j in 0..<c { pg[j] += dyr[j] * nh[j]; pb[j] += dyr[j] }
                        if let dX {
                            let dxr = dX + r * c
                            for j in 0..<c { dxr[j] += rstd * (dn[j] - mDn - nh[j] * mDnN) }
                        }
                    }
                }
                if rows * c >= Parallel.minParallelWork && workers > 1 {
                    DispatchQueue.concurrentPerform(iterations: workers, execute: body)
                } else {
                    for w in 0..<workers { body(w) }
                }
                let dG = needG ? gamma.gradData : nil, dB = needB ? beta.gradData : nil
                for w in 0..<workers {
                    let pg = partial.base + w * 2 * c, pb = pg + c
                    if let dG { for j in 0..<c { dG[j] += pg[j] } }
                    if let dB { for j in 0..<c { dB[j] += pb[j] } }
                }
                _ = needX
            }
        }
    }
    return y
}
