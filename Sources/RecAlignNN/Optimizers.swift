// Optimizers: AdamW (decoupled weight decay, bias correction, as torch.optim.AdamW) and SGD with momentum.
import Foundation
import RecAlignTensor

/// A parameter an optimizer updates, with its own weight decay.
public struct ParamGroupEntry {
    public let name: String
    public let tensor: Tensor
    public let weightDecay: Float
    public init(name: String, tensor: Tensor, weightDecay: Float) {
        self.name = name; self.tensor = tensor; self.weightDecay = weightDecay
    }
}

/// Common optimizer interface: `step()` applies the current gradients at learning rate `lr`.
public protocol Optimizer: AnyObject {
    var lr: Float { get set }
    var params: [ParamGroupEntry] { get }
    func step()
}

extension Optimizer {
    /// Zeroes every parameter's gradient.
    public func zeroGrad() { for p in params { p.tensor.zeroGrad() } }
}

/// AdamW exactly as PyTorch computes it (per step t, for each parameter p with gradient g):
///   p ← p · (1 - lr·wd)
///   m ← β1 m + (1-β1) g;   v ← β2 v + (1-β2) g²
///   p ← p - (lr / (1-β1ᵗ)) · m / (√v / √(1-β2ᵗ) + eps)
public final class AdamW: Optimizer {
    public var lr: Float
    public let beta1: Float, beta2: Float, eps: Float
    public let params: [ParamGroupEntry]
    /// First and second moments per parameter (same order as `params`).
    public private(set) var m: [Storage], v: [Storage]
    public private(set) var t: Int = 0

    public init(_ params: [ParamGroupEntry], lr: Float, beta1: Float = 0.9, beta2: Float = 0.999, eps: Float = 1e-8) {
        self.params = params.filter { $0.tensor.requiresGrad }
        self.lr = lr; self.beta1 = beta1; self.beta2 = beta2; self.eps = eps
        m = self.params.map { Storage(count: $0.tensor.count) }
        v = self.params.map { Storage(count: $0.tensor.count) }
    }

    /// Parameters of `module` that require gradients; weight decay `wd` except on biases and LayerNorm
    /// weights (the sentence-transformers / HF Trainer convention).
    public convenience init(module: Module, lr: Float, weightDecay: Float) {
        let entries = module.trainableParameters().map { p -> ParamGroupEntry in
            let noDecay = p.name.hasSuffix("bias") || p.name.contains("LayerNorm.")
            return ParamGroupEntry(name: p.name, tensor: p.tensor, weightDecay: noDecay ? 0 : weightDecay)
        }
        self.init(entries, lr: lr)
    }

    public func step() {
        t += 1
        let bc1 = 1 - Foundation.pow(beta1, Float(t)), bc2 = 1 - Foundation.pow(beta2, Float(t))
        let stepSize = lr / bc1, rbc2 = 1 / bc2.squareRoot()
        let b1 = beta1, b2 = beta2, e = eps
        for (i, p) in params.enumerated() {
            guard let g = p.tensor.gradIfAllocated else { continue }
            let x = p.tensor.data, md = m[i].base, vd = v[i].base
            let decay = 1 - lr * p.weightDecay
            Parallel.chunks(p.tensor.count, cost: 8) { lo, hi in
                for j in lo..<hi {
                    let gj = g[j]
                    md[j] = b1 * md[j] + (1 - b1) * gj
                    vd[j] = b2 * vd[j] + (1 - b2) * gj * gj
                    x[j] = x[j] * decay - stepSize * md[j] / (vd[j].squareRoot() * rbc2 + e)
                }
            }
        }
    }

    /// Restores moments and step count (resume).
    public func load(step: Int, m: [[Float]], v: [[Float]]) {
        precondition(m.count == params.count && v.count == params.count, "AdamW.load: state for \(m.count) params, have \(params.count)")
        t = step
        for i in params.indices {
            precondition(m[i].count == params[i].tensor.count && v[i].count == params[i].tensor.count, "AdamW.load: size mismatch for \(params[i].name)")
            m[i].withUnsafeBufferPointer { self.m[i].base.update(from: $0.baseAddress!, count: $0.count) }
            v[i].withUnsafeBufferPointer { self.v[i].base.update(from: $0.baseAddress!, count: $0.count) }
        }
    }
}

/// SGD with optional momentum and (coupled) weight decay, as torch.optim.SGD:
///   g ← g + wd·p;  b ← μ b + g (b = g at the first step);  p ← p - lr · b.
public final class SGD: Optimizer {
    public var lr: Float
    public let momentum: Float
    public let params: [ParamGroupEntry]
    private var buf: [Storage?]

    public init(_ params: [ParamGroupEntry], lr: Float, momentum: Float = 0) {
        self.params = params.filter { $0.tensor.requiresGrad }
        self.lr = lr; self.momentum = momentum
        buf = Array(repeating: nil, count: self.params.count)
    }

    public func step() {
        for (i, p) in params.enumerated() {
            guard let g = p.tensor.gradIfAllocated else { continue }
            let x = p.tensor.data, n = p.tensor.count, wd = p.weightDecay
            if momentum == 0 {
                for j in 0..<n { x[j] -= lr * (g[j] + wd * x[j]) }
            } else {
                let first = buf[i] == nil
                let b = buf[i] ?? Storage(count: n)
                buf[i] = b
                for j in 0..<n {
                    let gj = g[j] + wd * x[j]
                    b.base[j] = first ? gj : momentum * b.base[j] + gj
                    x[j] -= lr * b.base[j]
                }
            }
        }
    }
}

/// Optimizers stepped as one, each at its own multiple of the group's rate: two parts of a model trained
/// together at different rates (a head at 1e-3 and the encoder under it at 1e-4) under one schedule.
public final class OptimizerGroup: Optimizer {
    public let members: [(optimizer: Optimizer, rateFactor: Float)]
    /// Setting it sets every member's rate to `lr · rateFactor`.
    public var lr: Float { didSet { for m in members { m.optimizer.lr = lr * m.rateFactor } } }
    public var params: [ParamGroupEntry] { members.flatMap { $0.optimizer.params } }

    public init(_ members: [(optimizer: Optimizer, rateFactor: Float)], lr: Float) {
        self.members = members; self.lr = lr
        for m in members { m.optimizer.lr = lr * m.rateFactor }
    }

    public func step() { for m in members { m.optimizer.step() } }
}

/// Linear warm-up then linear decay to 0 (transformers' get_linear_schedule_with_warmup):
/// factor(s) = s / warmup for s < warmup, else max(0, (total - s) / (total - warmup)).
public struct LinearWarmupSchedule: Sendable {
    public let base: Float, warmup: Int, total: Int
    public init(base: Float, warmup: Int, total: Int) { self.base = base; self.warmup = warmup; self.total = total }
    /// Learning rate for the 0-based step `s` (the rate used by the s-th optimizer step).
    public func lr(at s: Int) -> Float {
        if s < warmup { return base * Float(s) / Float(max(1, warmup)) }
        return base * max(0, Float(total - s) / Float(max(1, total - warmup)))
    }
}

/// Scales all gradients so that their global L2 norm is at most `maxNorm` (torch.nn.utils.clip_grad_norm_:
/// coefficient maxNorm / (norm + 1e-6) when below 1). Returns the norm before clipping.
@discardableResult
public func clipGradNorm(_ params: [Tensor], maxNorm: Float) -> Float {
    var total: Double = 0
    for p in params {
        guard let g = p.gradIfAllocated else { continue }
        // Chunks of 4096 summed in Float (vectorised), accumulated in Double across chunks.
        var j = 0
        while j < p.count {
            let n = min(4096, p.count - j)
            total += Double(vdot(g + j, g + j, n))
            j += n
        }
    }
    let norm = Float(total.squareRoot())
    let coef = maxNorm / (norm + 1e-6)
    if coef < 1 {
        for p in params {
            guard let g = p.gradIfAllocated else { continue }
            for j in 0..<p.count { g[j] *= coef }
        }
    }
    return norm
}
