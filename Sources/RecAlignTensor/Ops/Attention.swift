// Attention: scaled dot-product attention fused per (batch, head), so no [B, H, T, S] score, dropout or gradient tensor is made.
import Foundation

/// O = dropout(softmax(scale · Q Kᵀ + mask + causal)) · V per head (the composite of per-head score and
/// context products, masked softmax and dropout in one op, with the same result and the same draws from `rng`).
///
/// Shapes: Q [B, T, C], K and V [B, S, C] (S may exceed T: prefix keys), C = H·D; mask nil or [B, S] additive;
/// O [B, T, C], heads interleaved in each row as HF's reshape writes them. `causal`: query t attends only to
/// keys s <= t + S - T (the keys up to its own position; a prefix stays visible), as a decoder or a SASRec
/// user tower masks. Without gradients nothing is kept: each head's [T, S] block lives in scratch only.
/// Kept for backward: P = softmax(...) [B, H, T, S] and the dropout keep-mask M (one byte per element).
/// Backward per (b, h), with Pd = P ⊙ M / (1 - p) (= P when p = 0):
///   dV += Pdᵀ · dO;   dPd = dO · Vᵀ;   dP = dPd ⊙ M / (1 - p);
///   dS = P ⊙ (dP - Σ_s dP ⊙ P)   (softmax, per row);
///   dQ += scale · dS · K;   dK += scale · dSᵀ · Q.
/// Each (b, h) works on [T, S] blocks in a per-thread scratch buffer, heads side by side on the cores.
public func attention(_ q: Tensor, _ k: Tensor, _ v: Tensor, mask: Tensor?, heads h: Int, scale: Float,
                      causal: Bool = false, dropout p: Float = 0, rng: inout SeededRNG) -> Tensor {
    precondition(q.rank == 3 && k.rank == 3 && k.shape == v.shape && q.shape[0] == k.shape[0] && q.shape[2] == k.shape[2],
                 "attention: Q \(q.shape) K \(k.shape) V \(v.shape)")
    precondition(p >= 0 && p < 1, "attention: dropout p = \(p) must be in [0, 1)")
    let b = q.shape[0], t = q.shape[1], s = k.shape[1], c = q.shape[2]
    precondition(c % h == 0, "attention: \(c) channels do not split into \(h) heads")
    if let mask { precondition(mask.count == b * s, "attention: mask \(mask.shape) for \(b) x \(s) keys") }
    let d = c / h, n = b * h * t * s, keep = 1 / (1 - p)
    let needs = Autograd.needsGrad(q, k, v)
    if !needs && p == 0 {
        let out = Tensor(uninitialized: [b, t, c])
        fusedAttention(q: q.data, k: k.data, v: v.data, ldq: c, ldkv: c, out: out.data, b: b, t: t, s: s, c: c, heads: h,
                       mask: mask?.data, scale: scale, causal: causal)
        return out
    }
    let probs = Storage(count: n, zeroed: false)
    let keepMask = p > 0 ? ByteMask(dropoutMask(n, p: p, rng: &rng)) : nil
    let out = Tensor.output([b, t, c], grad: needs)
    let qd = q.data, kd = k.data, vd = v.data, od = out.data, pd = probs.base, md = mask?.data
    BLAS.parallelSmallGemms(b * h, scratch: t * s) { i, sc in
        attentionHeadForward(i, heads: h, q: qd, k: kd, v: vd, ldq: c, ldkv: c, out: od, t: t, s: s, c: c, mask: md,
                             scale: scale, causal: causal, probs: pd + i * t * s, keepMask: keepMask.map { $0.bytes + i * t * s },
                             keep: keep, dropped: sc)
    }
    guard needs else { return out }
    let gout = GradRef(out)
    Autograd.record {
        gout.withIncoming { dO in
            // Gradient buffers are allocated here, once, not lazily inside the parallel loop.
            let dQ = q.requiresGrad ? q.gradData : nil, dK = k.requiresGrad ? k.gradData : nil
            let dV = v.requiresGrad ? v.gradData : nil
            let pd = probs.base   // the closure owns `probs` (and `keepMask`) until the backward has run
            BLAS.parallelSmallGemms(b * h, scratch: 2 * t * s) { i, sc in
                let bi = i / h, hi = i % h, pbh = pd + i * t * s, m = keepMask.map { $0.bytes + i * t * s }
                let dOi = dO + bi * t * c + hi * d, qi = qd + bi * t * c + hi * d
                let ki = kd + bi * s * c + hi * d, vi = vd + bi * s * c + hi * d
                let dPb = sc, pdrop = sc + t * s
                if let dV {
                    var weights = UnsafePointer(pbh)
                    if let m {
                        applyKeepMask(pbh, m, keep, pdrop, 0, t * s)
                        weights = UnsafePointer(pdrop)
                    }
                    BLAS.gemm(transA: true, transB: false, m: s, n: d, k: t, a: weights, lda: s, b: dOi, ldb: c,
                              beta: 1, c: dV + bi * s * c + hi * d, ldc: c)
                }
                guard dQ != nil || dK != nil else { return }
                BLAS.gemm(transA: false, transB: true, m: t, n: s, k: d, a: dOi, lda: c, b: vi, ldb: c, beta: 0, c: dPb, ldc: s)
                if let m { applyKeepMask(dPb, m, keep, dPb, 0, t * s) }
                for r in 0..<t { softmaxBackwardRow(pbh + r * s, dPb + r * s, dPb + r * s, s, accumulate: false) }   // dP -> dS in place
                if let dQ {
                    BLAS.gemm(transA: false, transB: false, m: t, n: d, k: s, alpha: scale, a: dPb, lda: s, b: ki, ldb: c,
                              beta: 1, c: dQ + bi * t * c + hi * d, ldc: c)
                }
                if let dK {
                    BLAS.gemm(transA: true, transB: false, m: s, n: d, k: t, alpha: scale, a: dPb, lda: s, b: qi, ldb: c,
                              beta: 1, c: dK + bi * s * c + hi * d, ldc: c)
                }
            }
        }
    }
    return out
}

/// Forward of one (batch, head) block i = b·H + h: P = softmax(scale · Q_bh K_bhᵀ + mask_b) into `probs` [T, S],
/// then O_bh = W · V_bh with W = P, or W = P ⊙ M / (1 - p) built in `dropped` [T, S] when a keep-mask is given.
/// `causal`: row r's softmax covers its first S - T + r + 1 keys and the rest of the row is 0 (so the
/// backward, which multiplies by P, gives those entries no gradient).
@inline(__always)
func attentionHeadForward(_ i: Int, heads h: Int, q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>,
                          ldq: Int, ldkv: Int, out: UnsafeMutablePointer<Float>, t: Int, s: Int, c: Int,
                          mask: UnsafePointer<Float>?, scale: Float, causal: Bool, probs: UnsafeMutablePointer<Float>,
                          keepMask: UnsafePointer<UInt8>?, keep: Float, dropped: UnsafeMutablePointer<Float>) {
    let bi = i / h, hi = i % h, d = c / h
    BLAS.gemm(transA: false, transB: true, m: t, n: s, k: d, alpha: scale, a: q + bi * t * ldq + hi * d, lda: ldq,
              b: k + bi * s * ldkv + hi * d, ldb: ldkv, beta: 0, c: probs, ldc: s)
    let mr = mask.map { $0 + bi * s }
    for r in 0..<t {
        let visible = causal ? max(1, min(s, s - t + r + 1)) : s
        softmaxRow(probs + r * s, mr, probs + r * s, visible)
        if visible < s { (probs + r * s + visible).update(repeating: 0, count: s - visible) }
    }
    var weights = UnsafePointer(probs)
    if let keepMask {
        applyKeepMask(probs, keepMask, keep, dropped, 0, t * s)
        weights = UnsafePointer(dropped)
    }
    BLAS.gemm(transA: false, transB: false, m: t, n: d, k: s, a: weights, lda: s, b: v + bi * s * ldkv + hi * d, ldb: ldkv,
              beta: 0, c: out + bi * t * c + hi * d, ldc: c)
}

/// Inference-only attention: `attention` without autograd or dropout (nothing is recorded).
public func attentionInference(_ q: Tensor, _ k: Tensor, _ v: Tensor, mask: Tensor?, heads h: Int, scale: Float) -> Tensor {
    let b = q.shape[0], t = q.shape[1], s = k.shape[1], c = q.shape[2]
    precondition(k.shape == v.shape && k.shape[0] == b && k.shape[2] == c, "attentionInference: Q \(q.shape) K \(k.shape) V \(v.shape)")
    let out = Tensor(uninitialized: [b, t, c])
    fusedAttention(q: q.data, k: k.data, v: v.data, ldq: c, ldkv: c, out: out.data, b: b, t: t, s: s, c: c, heads: h,
                   mask: mask?.data, scale: scale)
    return out
}

/// The same on one packed projection qkv [B, T, 3C] (Q, K, V side by side in each row, as one GEMM with the
/// three weight matrices stacked produces them).
public func attentionInference(packed qkv: Tensor, mask: Tensor?, heads h: Int, scale: Float) -> Tensor {
    let b = qkv.shape[0], t = qkv.shape[1], c = qkv.shape[2] / 3
    let out = Tensor(uninitialized: [b, t, c])
    fusedAttention(q: qkv.data, k: qkv.data + c, v: qkv.data + 2 * c, ldq: 3 * c, ldkv: 3 * c, out: out.data,
                   b: b, t: t, s: t, c: c, heads: h, mask: mask?.data, scale: scale)
    return out
}

func fusedAttention(q qd: UnsafeMutablePointer<Float>, k kd: UnsafeMutablePointer<Float>, v vd: UnsafeMutablePointer<Float>,
                    ldq: Int, ldkv: Int, out od: UnsafeMutablePointer<Float>, b: Int, t: Int, s: Int, c: Int, heads h: Int,
                    mask md: UnsafeMutablePointer<Float>?, scale: Float, causal: Bool = false) {
    // Inside a data-parallel worker the heads run on this thread; otherwise side by side on the cores.
    BLAS.parallelSmallGemms(b * h, scratch: t * s) { i, sc in
        attentionHeadForward(i, heads: h, q: qd, k: kd, v: vd, ldq: ldq, ldkv: ldkv, out: od, t: t, s: s, c: c, mask: md,
                             scale: scale, causal: causal, probs: sc, keepMask: nil, keep: 1, dropped: sc)
    }
}
