// AttentionProducts: the per-head batched matmuls of self-attention, read straight from [B, T, C] with strides.
import Foundation

/// Attention scores per head: S[b, h, t, s] = scale · Σ_d Q[b, t, h·D + d] · K[b, s, h·D + d].
///
/// Shapes: Q [B, T, C], K [B, S, C] with C = H·D (S may exceed T: prefix keys) -> S [B, H, T, S].
/// Each head is one GEMM on strided views (lda = C), so no permute copy is made.
/// Backward: dQ_bh += scale · dS_bh · K_bh;  dK_bh += scale · dS_bhᵀ · Q_bh.
public func attentionScores(_ q: Tensor, _ k: Tensor, heads h: Int, scale: Float) -> Tensor {
    precondition(q.rank == 3 && k.rank == 3 && q.shape[0] == k.shape[0] && q.shape[2] == k.shape[2],
                 "attentionScores: Q \(q.shape) K \(k.shape)")
    let b = q.shape[0], t = q.shape[1], s = k.shape[1], c = q.shape[2]
    precondition(c % h == 0, "attentionScores: \(c) channels do not split into \(h) heads")
    let d = c / h
    let needs = Autograd.needsGrad(q, k)
    let out = Tensor.output([b, h, t, s], grad: needs)
    BLAS.parallelSmallGemms(b * h) { i in
        let bi = i / h, hi = i % h
        do {
            BLAS.gemm(transA: false, transB: true, m: t, n: s, k: d, alpha: scale,
                      a: q.data + bi * t * c + hi * d, lda: c, b: k.data + bi * s * c + hi * d, ldb: c,
                      beta: 0, c: out.data + (bi * h + hi) * t * s, ldc: s)
        }
    }
    if needs {
        let gout = GradRef(out)   // the scores' values are not needed backward (softmax keeps its output)
        Autograd.record {
            gout.withIncoming { dS in
                // Gradient buffers are allocated here, once, not lazily inside the parallel loop.
                let dQ = q.requiresGrad ? q.gradData : nil, dK = k.requiresGrad ? k.gradData : nil
                BLAS.parallelSmallGemms(b * h) { i in
                    let bi = i / h, hi = i % h
                    do {
                        let dSbh = dS + (bi * h + hi) * t * s
                        if let dQ {
                            BLAS.gemm(transA: false, transB: false, m: t, n: d, k: s, alpha: scale, a: dSbh, lda: s,
                                      b: k.data + bi * s * c + hi * d, ldb: c, beta: 1,
                                      c: dQ + bi * t * c + hi * d, ldc: c)
                        }
                        if let dK {
                            BLAS.gemm(transA: true, transB: false, m: s, n: d, k: t, alpha: scale, a: dSbh, lda: s,
                                      b: q.data + bi * t * c + hi * d, ldb: c, beta: 1,
                                      c: dK + bi * s * c + hi * d, ldc: c)
                        }
                    }
                }
            }
        }
    }
    return out
}

/// Attention context per head: O[b, t, h·D + d] = Σ_s P[b, h, t, s] · V[b, s, h·D + d].
///
/// Shapes: P [B, H, T, S], V [B, S, C] -> O [B, T, C] (heads written back interleaved, as HF's reshape does).
/// Backward: dP_bh = dO_bh · V_bhᵀ;  dV_bh += P_bhᵀ · dO_bh.
public func attentionContext(_ p: Tensor, _ v: Tensor) -> Tensor {
    precondition(p.rank == 4 && v.rank == 3 && p.shape[0] == v.shape[0] && p.shape[3] == v.shape[1],
                 "attentionContext: P \(p.shape) V \(v.shape)")
    let b = p.shape[0], h = p.shape[1], t = p.shape[2], s = p.shape[3], c = v.shape[2]
    precondition(c % h == 0, "attentionContext: \(c) channels do not split into \(h) heads")
    let d = c / h
    let needs = Autograd.needsGrad(p, v)
    let out = Tensor.output([b, t, c], grad: needs)
    BLAS.parallelSmallGemms(b * h) { i in
        let bi = i / h, hi = i % h
        do {
            BLAS.gemm(transA: false, transB: false, m: t, n: d, k: s, a: p.data + (bi * h + hi) * t * s, lda: s,
                      b: v.data + bi * s * c + hi * d, ldb: c, beta: 0, c: out.data + bi * t * c + hi * d, ldc: c)
        }
    }
    if needs {
        let gout = GradRef(out)
        Autograd.record {
            gout.withIncoming { dO in
                let dP = p.requiresGrad ? p.gradData : nil, dV = v.requiresGrad ? v.gradData : nil
                BLAS.parallelSmallGemms(b * h) { i in
                    let bi = i / h, hi = i % h
                    do {
                        let dObh = dO + bi * t * c + hi * d
                        if let dP {
                            BLAS.gemm(transA: false, transB: true, m: t, n: s, k: d, a: dObh, lda: c,
                                      b: v.data + bi * s * c + hi * d, ldb: c, beta: 1,
                                      c: dP + (bi * h + hi) * t * s, ldc: s)
                        }
                        if let dV {
                            BLAS.gemm(transA: true, transB: false, m: s, n: d, k: t, a: p.data + (bi * h + hi) * t * s,
                                      lda: s, b: dObh, ldb: c, beta: 1, c: dV + bi * s * c + hi * d, ldc: c)
                        }
                    }
                }
            }
        }
    }
    return out
}

/// Inference-only fused attention: per (batch, head), scores = scale · Q Kᵀ, masked softmax and P V are done
/// on one [T, S] block in a per-thread scratch buffer, heads side by side on the cores. Nothing is recorded;
/// equal to attentionContext(softmax(attentionScores(q, k), mask), v) without materialising [B, H, T, S].
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
                    mask md: UnsafeMutablePointer<Float>?, scale: Float) {
    // Inside a data-parallel worker the heads run on this thread; otherwise side by side on the cores.
    BLAS.parallelSmallGemms(b * h, scratch: t * s) { i, sc in
        attentionHeadForward(i, heads: h, q: qd, k: kd, v: vd, ldq: ldq, ldkv: ldkv, out: od, t: t, s: s, c: c, mask: md,
                             scale: scale, probs: sc, keepMask: nil, keep: 1, dropped: sc)
    }
}
