// Layers: Linear, Embedding, LayerNorm and Dropout modules named as their PyTorch / HF counterparts.
import Foundation
import RecAlignTensor

/// A projection x [..., in] -> [..., out]: a `Linear`, or an adapter that wraps one (LoRA, IA3). Models hold
/// their projections as `any LinearLayer`, so an adapter is attached by swapping the module, as PEFT does.
public protocol LinearLayer: Module {
    /// y = f(x) with autograd.
    func callAsFunction(_ x: Tensor) -> Tensor
    /// The wrapped projection (itself for a plain `Linear`).
    var base: Linear { get }
    /// The single projection this layer equals, (W', b') with f(x) = x W'ᵀ + b': new tensors for an adapter
    /// (its update merged in), the layer's own for a plain `Linear`. Used by inference and model export.
    func merged() -> (weight: Tensor, bias: Tensor?)
}

/// y = x Wᵀ + b with `weight` [out, in] and `bias` [out] (torch.nn.Linear).
public final class Linear: Module, LinearLayer {
    public let weight: Tensor
    public let bias: Tensor?

    /// Initialised like torch.nn.Linear: U(-1/√in, 1/√in).
    public init(_ nIn: Int, _ nOut: Int, bias: Bool = true, rng: inout SeededRNG) {
        let bound = 1 / Float(nIn).squareRoot()
        weight = .uniform([nOut, nIn], -bound, bound, rng: &rng, requiresGrad: true)
        self.bias = bias ? .uniform([nOut], -bound, bound, rng: &rng, requiresGrad: true) : nil
    }

    /// `weight` packed for OpenBLAS's kernel (forward x·Wᵀ, and dY·W for the input gradient), set while the
    /// weight is frozen for training (`BertModel.packFrozenWeights`); nil otherwise.
    public var packed: (forward: PackedWeight?, inputGradient: PackedWeight?) = (nil, nil)

    public init(weight: Tensor, bias: Tensor?) { self.weight = weight; self.bias = bias }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        linear(x, weight: weight, bias: bias, packed: packed.forward, packedForInputGradient: packed.inputGradient)
    }

    public var base: Linear { self }
    public func merged() -> (weight: Tensor, bias: Tensor?) { (weight, bias) }
}

/// Row lookup table `weight` [V, C] (torch.nn.Embedding).
public final class Embedding: Module {
    public let weight: Tensor

    public init(_ count: Int, _ dim: Int, std: Float = 0.02, rng: inout SeededRNG) {
        weight = .normal([count, dim], std: std, rng: &rng, requiresGrad: true)
    }

    public func callAsFunction(_ ids: [Int32], shape: [Int]) -> Tensor { embedding(weight, ids: ids, shape: shape) }
}

/// Layer normalisation over the last axis with `weight` (γ) and `bias` (β) of size C.
public final class LayerNorm: Module {
    public let weight: Tensor
    public let bias: Tensor
    public let eps: Float

    public init(_ dim: Int, eps: Float = 1e-12) {
        weight = Tensor.full([dim], 1); weight.enableGrad()
        bias = Tensor(zeros: [dim], requiresGrad: true)
        self.eps = eps
    }

    public func callAsFunction(_ x: Tensor) -> Tensor { layerNorm(x, gamma: weight, beta: bias, eps: eps) }
}

/// Dropout with probability `p`, active only in training mode; draws from the run's RNG.
public final class Dropout: Module {
    public let p: Float
    public init(_ p: Float) { self.p = p }

    public func callAsFunction(_ x: Tensor, rng: inout SeededRNG) -> Tensor {
        training && p > 0 ? dropout(x, p: p, rng: &rng) : x
    }
}
