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
        let gx = GradRef(x)
        Autograd.record {
            y.withIncomingGrad { dY in
                let dX = gx.data
                Parallel.chunks(rows, cost: s * 3, align: 1) { lo, hi in
                    for r in lo..<hi { softmaxBackwardRow(yd + r * s, dY + r * s, dX + r * s, s, accumulate: true) }
                }
            }
        }
    }
    return y
}

/// Backward of one softmax row: dx = y ⊙ (dy − Σ_s dy ⊙ y), added to `dx` when `accumulate`, else written.
/// `dx` may be `dy` (the attention backward turns dP into dS in place): the dot is taken before any write.
@inline(__always)
func softmaxBackwardRow(_ y: UnsafePointer<Float>, _ dy: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>, _ s: Int,
                        accumulate: Bool) {
    let dot = vdot(dy, y, s)
    if accumulate {
        for j in 0..<s { dx[j] += y[j] * (dy[j] - dot) }
    } else {
        for j in 0..<s { dx[j] = y[j] * (dy[j] - dot) }
    }
}

/// One row: y = exp(x + m - max) / Σ exp(x + m - max), in three passes over the row (max with the mask
/// added, exp fused with the sum, scale). A fully masked row (max = -inf) is treated as max 0.
/// Returns the max and the sum, so that log y[j] = x[j] + m[j] - max - log(sum) without rounding y
/// (cross-entropy's log-softmax).
@inline(__always) @discardableResult
func softmaxRow(_ xr: UnsafePointer<Float>, _ mr: UnsafePointer<Float>?, _ yr: UnsafeMutablePointer<Float>,
                _ s: Int) -> (max: Float, sum: Float) {
    var m8 = SIMD8<Float>(repeating: -.infinity)
    var j = 0
    if let mr {
        while j + 8 <= s {
            let v = load8(xr, j) + load8(mr, j)
            UnsafeMutableRawPointer(yr + j).storeBytes(of: v, as: SIMD8<Float>.self)
            m8 = m8.replacing(with: v, where: v .> m8)
            j += 8
        }
    } else {
        while j + 8 <= s {
            let v = load8(xr, j)
            UnsafeMutableRawPointer(yr + j).storeBytes(of: v, as: SIMD8<Float>.self)
            m8 = m8.replacing(with: v, where: v .> m8)
            j += 8
        }
    }
    var mx = hmax8(m8)
    while j < s { let v = xr[j] + (mr?[j] ?? 0); yr[j] = v; mx = Swift.max(mx, v); j += 1 }
    if mx == -.infinity { mx = 0 }
    var acc = SIMD8<Float>(repeating: 0)
    j = 0
    while j + 8 <= s {
        let e = fastExp8(load8(yr, j) - mx)
        UnsafeMutableRawPointer(yr + j).storeBytes(of: e, as: SIMD8<Float>.self)
        acc += e
        j += 8
    }
    var sum = acc.sum()
    while j < s { let e = fastExp(yr[j] - mx); yr[j] = e; sum += e; j += 1 }
    let inv = 1 / sum
    for t in 0..<s { yr[t] *= inv }
    return (mx, sum)
}
