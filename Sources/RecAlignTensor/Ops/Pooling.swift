// Pooling: sentence-level vectors from token states (masked mean, CLS, masked max) and L2 normalisation.
import Foundation

/// Masked mean over the sequence: y[b, :] = Σ_t m[b,t] x[b,t,:] / max(Σ_t m[b,t], 1e-9).
/// Shapes: x [B, T, C], mask [B, T] (1 = token, 0 = padding) -> y [B, C].
/// Backward: dx[b,t,:] += m[b,t] / den[b] · dy[b,:].
public func meanPool(_ x: Tensor, mask: Tensor) -> Tensor {
    precondition(x.rank == 3 && mask.count == x.shape[0] * x.shape[1], "meanPool: x \(x.shape) mask \(mask.shape)")
    let b = x.shape[0], t = x.shape[1], c = x.shape[2]
    let needs = Autograd.needsGrad(x)
    let y = Tensor.output([b, c], grad: needs)
    let xd = x.data, md = mask.data, yd = y.data
    let den = Storage(count: b, zeroed: false)
    for bi in 0..<b {
        var s: Float = 0
        for ti in 0..<t { s += md[bi * t + ti] }
        den.base[bi] = max(s, 1e-9)
        let yr = yd + bi * c
        yr.update(repeating: 0, count: c)
        for ti in 0..<t where md[bi * t + ti] != 0 {
            let w = md[bi * t + ti], xr = xd + (bi * t + ti) * c
            for j in 0..<c { yr[j] += w * xr[j] }
        }
        let inv = 1 / den.base[bi]
        for j in 0..<c { yr[j] *= inv }
    }
    if needs {
        Autograd.record {
            y.withIncomingGrad { dY in
                let dX = x.gradData, md = mask.data   // the closure keeps `mask` alive
                for bi in 0..<b {
                    for ti in 0..<t where md[bi * t + ti] != 0 {
                        let w = md[bi * t + ti] / den.base[bi], dxr = dX + (bi * t + ti) * c, g = dY + bi * c
                        for j in 0..<c { dxr[j] += w * g[j] }
                    }
                }
            }
        }
    }
    return y
}

/// Token at position `index` of every sequence (CLS pooling when 0): x [B, T, C] -> [B, C].
/// Backward: dx[b, index, :] += dy[b, :].
public func selectToken(_ x: Tensor, index: Int) -> Tensor {
    precondition(x.rank == 3 && index >= 0 && index < x.shape[1], "selectToken: \(index) of \(x.shape)")
    let b = x.shape[0], t = x.shape[1], c = x.shape[2]
    let needs = Autograd.needsGrad(x)
    let y = Tensor.output([b, c], grad: needs)
    for bi in 0..<b { (y.data + bi * c).update(from: x.data + (bi * t + index) * c, count: c) }
    if needs {
        Autograd.record {
            y.withIncomingGrad { dY in
                for bi in 0..<b { addInPlace(x.gradData + (bi * t + index) * c, dY + bi * c, c) }
            }
        }
    }
    return y
}

/// Masked max over the sequence (padding ignored; sentence-transformers' max pooling): x [B, T, C] -> [B, C].
/// Backward: the gradient goes to the arg-max token of each channel.
public func maxPool(_ x: Tensor, mask: Tensor) -> Tensor {
    precondition(x.rank == 3 && mask.count == x.shape[0] * x.shape[1], "maxPool: x \(x.shape) mask \(mask.shape)")
    let b = x.shape[0], t = x.shape[1], c = x.shape[2]
    let needs = Autograd.needsGrad(x)
    let y = Tensor.output([b, c], grad: needs)
    var arg = [Int32](repeating: 0, count: b * c)
    for bi in 0..<b {
        for j in 0..<c {
            var best = -Float.infinity, bt = 0
            for ti in 0..<t {
                let v = mask.data[bi * t + ti] != 0 ? x.data[(bi * t + ti) * c + j] : -1e9
                if v > best { best = v; bt = ti }
            }
            y.data[bi * c + j] = best; arg[bi * c + j] = Int32(bt)
        }
    }
    if needs {
        Autograd.record {
            y.withIncomingGrad { dY in
                let dX = x.gradData
                for bi in 0..<b { for j in 0..<c { dX[(bi * t + Int(arg[bi * c + j])) * c + j] += dY[bi * c + j] } }
            }
        }
    }
    return y
}

/// Row-wise L2 normalisation: y = x / max(‖x‖, 1e-12) over the last axis (torch.nn.functional.normalize).
/// Backward (‖x‖ > eps): dx += (dy - y (y · dy)) / ‖x‖; otherwise dx += dy / eps.
public func l2Normalize(_ x: Tensor) -> Tensor {
    let c = x.lastDim, rows = x.rows
    let needs = Autograd.needsGrad(x)
    let y = Tensor.output(x.shape, grad: needs)
    let norms = Storage(count: rows, zeroed: false)
    let xd = x.data, yd = y.data, nd = norms.base
    for r in 0..<rows {
        let n = max(vdot(xd + r * c, xd + r * c, c).squareRoot(), 1e-12)
        nd[r] = n
        let inv = 1 / n
        for j in 0..<c { yd[r * c + j] = xd[r * c + j] * inv }
    }
    if needs {
        Autograd.record {
            y.withIncomingGrad { dY in
                let dX = x.gradData, nd = norms.base   // the closure keeps `norms` alive
                for r in 0..<rows {
                    let yr = yd + r * c, g = dY + r * c, dxr = dX + r * c
                    let inv = 1 / nd[r]
                    if nd[r] > 1e-12 {
                        let dot = vdot(yr, g, c)
                        for j in 0..<c { dxr[j] += (g[j] - yr[j] * dot) * inv }
                    } else {
                        for j in 0..<c { dxr[j] += g[j] * inv }
                    }
                }
            }
        }
    }
    return y
}
