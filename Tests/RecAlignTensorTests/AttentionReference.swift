// AttentionReference: the per-head batched matmuls of attention as separate ops, the reference the fused op is checked against.
import Foundation
@testable import RecAlignTensor

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

