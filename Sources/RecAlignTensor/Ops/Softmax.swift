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
            softmaxRow(xd + r * s, md.map { $0 + (r / rowsPerBatch) * s }, yd + r * s, s)
        }
    }
    if needs {
        Autograd.record {
            y.withIncomingGrad { dY in
                let dX = x.gradData
                Parallel.chunks(rows, cost: s * 3, align: 1) { lo, hi in
                    for r in lo..<hi {
                        let yr = yd + r * s, dyr = dY + r * s, dxr = dX + r * s
                        let dot = vdot(dyr, yr, s)
                        for j in 0..<s { dxr[j] += yr[j] * (dyr[j] - dot) }
                    }
                }
            }
        }
    }
    return y
}

/// One row: y = exp(x + m - max) / Σ exp(x + m - max). A fully masked row (max = -inf) is treated as max 0.
@inline(__always)
func softmaxRow(_ xr: UnsafePointer<Float>, _ mr: UnsafePointer<Float>?, _ yr: UnsafeMutablePointer<Float>, _ s: Int) {
    if let mr { for j in 0..<s { yr[j] = xr[j] + mr[j] } } else { yr.update(from: xr, count: s) }
    var mx = vmax(yr, s)
    if mx == -.infinity { mx = 0 }
    expShifted(yr, mx, s)
    let inv = 1 / vsum(yr, s)
    for j in 0..<s { yr[j] *= inv }
}

/// y[j] = exp(y[j] - shift) in place (a concrete loop so it vectorises).
func expShifted(_ y: UnsafeMutablePointer<Float>, _ shift: Float, _ n: Int) {
    for j in 0..<n { y[j] = fastExp(y[j] - shift) }
}
