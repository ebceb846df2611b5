// Adaptors: trainable maps from frozen text embeddings to item vectors (linear, UniSRec-style MoE).
import Foundation
import RecAlignNN
import RecAlignTensor

/// y = normalize(x Wᵀ + b) with W [C, C] initialised to the identity and b to 0, so an untrained adaptor
/// gives exactly the frozen (normalised) embeddings.
public final class LinearAdaptor: Module {
    public let proj: Linear
    let dropout: Dropout

    public init(dim: Int, dropout p: Float) {
        let w = Tensor(zeros: [dim, dim], requiresGrad: true)
        for i in 0..<dim { w.data[i * dim + i] = 1 }
        proj = Linear(weight: w, bias: Tensor(zeros: [dim], requiresGrad: true))
        dropout = Dropout(p)
    }

    /// x [N, C] -> [N, C], rows of unit norm.
    public func callAsFunction(_ x: Tensor, rng: inout SeededRNG) -> Tensor {
        l2Normalize(proj(dropout(x, rng: &rng)))
    }
}

/// UniSRec's MoE adaptor: expert k whitens, e_k = (x - b_k) W_kᵀ; a gate g = softmax(x Gᵀ) mixes them,
/// y = normalize(Σ_k g_k e_k).
///
/// The K experts are one `Linear` [K·D, C] with bias: (x - b_k) W_kᵀ = x W_kᵀ + c_k with c_k = -W_k b_k, and
/// c_k is as free as b_k (W_k has full row rank), so the parametrisation is the same and one GEMM computes
/// every expert. When D = C each expert starts at the identity plus N(0, 0.01²) noise (so the adaptor starts
/// near the frozen embeddings) and the gate at N(0, 0.02²) weights.
public final class MoEAdaptor: Module {
    public let experts: Linear
    public let gate: Linear
    let k: Int, d: Int
    let dropout: Dropout

    public init(inputDim c: Int, outputDim d: Int, experts k: Int, dropout p: Float, rng: inout SeededRNG) {
        self.k = k; self.d = d
        let w = Tensor(zeros: [k * d, c], requiresGrad: true)
        if d == c {
            for e in 0..<k { for i in 0..<d { for j in 0..<c {
                w.data[(e * d + i) * c + j] = (i == j ? 1 : 0) + 0.01 * rng.nextGaussian()
            } } }
        } else {
            let bound = 1 / Float(c).squareRoot()
            for i in 0..<w.count { w.data[i] = bound * (2 * rng.nextFloat() - 1) }
        }
        experts = Linear(weight: w, bias: Tensor(zeros: [k * d], requiresGrad: true))
        gate = Linear(weight: .normal([k, c], std: 0.02, rng: &rng, requiresGrad: true), bias: nil)
        dropout = Dropout(p)
    }

    /// x [N, C] -> [N, D], rows of unit norm.
    public func callAsFunction(_ x: Tensor, rng: inout SeededRNG) -> Tensor {
        let n = x.rows
        let xd = dropout(x, rng: &rng)
        let e = experts(xd).reshaped([n, k, d])
        let g = softmax(gate(x)).reshaped([n, 1, k])
        return l2Normalize(bmm(g, e).reshaped([n, d]))
    }
}
