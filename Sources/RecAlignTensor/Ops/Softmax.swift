// Softmax: over the last axis with an optional additive mask row per batch item (attention padding).
import Foundation

/// y = softmax(x + mask) over the last axis S.
///
/// Shapes: x [B, ..., S]; mask nil or [B, S] (additive, e.g. 0 for tokens and -inf-like for padding),
/// broadcast over the middle axes (heads, queries). The mask is a constant (no gradient).
/// Backward: dx += y ⊙ (dy - Σ_s dy ⊙ y).
public func softmax(_ x: Tensor, mask: Tensor? = nil) -> Tensor {
    let s = x.lastDim, rows = x.rows
    let batch = x.shape.first ?? 1
    if let mask { precondition(mask.count == batch * s, "softmax: mask \(mask.shape) for input \(x.shape)") }
    let rowsPerBatch = rows / max(batch, 1)
    let needs = Autograd.needsGrad(x)
    let y = Tensor.output(x.shape, grad: needs)
    let xd = x.data, yd = y.data, md = mask?.data
    Parallel.chunks(rows, cost: s * 4, align: 1) { lo, hi in
        for r in lo..<hi {
            let xr = xd + r * s, yr = yd + r * s
            let mr = md.map { $0 + (r / rowsPerBatch) * s }
            var mx = -Float.infinity
            if let mr { for j in 0..<s { let v = xr[j] + mr[j]; yr[j] = v; mx = max(mx, v) } }
            else { for j in 0..<s { yr[j] = xr[j]; mx = max(mx, xr[j]) } }
            if mx == -.infinity { mx = 0 }
            var sumV = F16x(repeating: 0)
            var j = 0
            while j + 16 <= s {
                let e = vexp(UnsafeRawPointer(yr + j).loadUnaligned(as: F16x.self) - mx)
                UnsafeMutableRawPointer(yr + j).storeBytes(of: e, as: F16x.self)
                sumV += e
                j += 16
            }
            var sum = sumV.sum()
            while j < s { let e = sexp(yr[j] - mx); yr[j] = e; sum += e; j += 1 }
            let inv = 1 / sum
            for t in 0..<s { yr[t] *= inv }
        }
    }
    if needs {
        Autograd.record {
            y.withIncomingGrad { dY in
                let dX = x.gradData
                Parallel.chunks(rows, cost: s * 3, align: 1) { lo, hi in
                    for r in lo..<hi {
                        let yr = yd + r * s, dyr = dY + r * s, dxr = dX + r * s
                        var dot: Float = 0
                        for j in 0..<s { dot += dyr[j] * yr[j] }
                        for j in 0..<s { dxr[j] += yr[j] * (dyr[j] - dot) }
                    }
                }
            }
        }
    }
    return y
}
