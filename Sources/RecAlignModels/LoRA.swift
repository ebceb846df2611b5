// LoRA: a low-rank update Δy = (α/r) · x Aᵀ Bᵀ beside a frozen projection, mergeable into its weight.
import Foundation
import RecAlignNN
import RecAlignTensor

/// Low-rank adapter (Hu et al.; PEFT's defaults): A [r, in] Kaiming-uniform, B [out, r] zeros, so the
/// adapted model starts equal to the base model. Output is scaled by α / r.
public final class LoRA: Module {
    public let lora_A: Tensor
    public let lora_B: Tensor
    public let scaling: Float

    public init(nIn: Int, nOut: Int, rank r: Int, alpha: Float, rng: inout SeededRNG) {
        // kaiming_uniform_(a=√5) on [r, in]: bound = √(6 / ((1 + 5) · in)) = 1/√in.
        let bound = 1 / Float(nIn).squareRoot()
        lora_A = .uniform([r, nIn], -bound, bound, rng: &rng, requiresGrad: true)
        lora_B = Tensor(zeros: [nOut, r], requiresGrad: true)
        scaling = alpha / Float(r)
    }

    /// x [..., in] -> (α/r) · (x Aᵀ) Bᵀ [..., out].
    public func callAsFunction(_ x: Tensor) -> Tensor {
        scale(linear(linear(x, weight: lora_A, bias: nil), weight: lora_B, bias: nil), scaling)
    }

    /// Adds (α/r) · B A into `weight` [out, in] (merging the adapter into the base projection).
    public func merge(into weight: Tensor) {
        let out = lora_B.shape[0], r = lora_B.shape[1], nIn = lora_A.shape[1]
        precondition(weight.shape == [out, nIn], "LoRA.merge: weight \(weight.shape) vs [\(out), \(nIn)]")
        BLAS.gemm(transA: false, transB: false, m: out, n: nIn, k: r, alpha: scaling, a: lora_B.data, lda: r,
                  b: lora_A.data, ldb: nIn, beta: 1, c: weight.data, ldc: nIn)
    }
}
