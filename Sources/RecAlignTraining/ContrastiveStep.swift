// ContrastiveStep: one training step of the two towers through the shared encoder (forward, MNRL, backward, clip, AdamW).
import Foundation
import RecAlignNN
import RecAlignModels

/// Embeds padded batches with autograd and concatenates the rows. The pooling masks go to `keepAlive`:
/// RecAlignTensor's `meanPool` backward reads its mask through a raw pointer without retaining the
/// tensor, so they must outlive `Autograd.backward`.
public func embedBatches(_ encoder: SentenceEncoder, _ batches: [TokenBatch], rng: inout SeededRNG,
                         keepAlive: inout [Tensor]) -> Tensor {
    var parts: [Tensor] = []
    for b in batches {
        let (h, m) = encoder.model(b, prompts: encoder.prompts, rng: &rng)
        keepAlive.append(m)
        parts.append(encoder.pooling(h, mask: m))
    }
    return parts.count == 1 ? parts[0] : concat(parts, axis: 0)
}

/// One optimizer step: user batches (rows = anchors in order) and item batches (rows = candidates; the
/// first anchors-count rows are the positives), MNRL, backward, gradient clipping, AdamW at its current
/// lr. Throws `TrainingError.nonFinite` (and leaves the weights untouched) when the loss or the gradient
/// norm is NaN or infinite. Returns the loss before the update.
@discardableResult
public func contrastiveStep(tuned: TunedEncoder, optimizer: AdamW, users: [TokenBatch], items: [TokenBatch],
                            loss: MultipleNegativesRankingLoss, maxGradNorm: Float, rng: inout SeededRNG,
                            stepIndex: Int = 0, lossObserver: ((Int, Float) -> Float)? = nil,
                            lastGood: String? = nil) throws -> Float {
    var keepAlive: [Tensor] = []
    defer { withExtendedLifetime(keepAlive) {} }
    let anchors = embedBatches(tuned.encoder, users, rng: &rng, keepAlive: &keepAlive)
    let candidates = embedBatches(tuned.encoder, items, rng: &rng, keepAlive: &keepAlive)
    let l = loss(anchors: anchors, candidates: candidates)
    var value = l[0]
    if let lossObserver { value = lossObserver(stepIndex, value) }
    guard value.isFinite else {
        Autograd.clearTape()
        throw TrainingError.nonFinite(step: stepIndex + 1, what: "loss", lastGood: lastGood)
    }
    Autograd.backward(l)
    let norm = clipGradNorm(optimizer.params.map(\.tensor), maxNorm: maxGradNorm)
    guard norm.isFinite else {
        optimizer.zeroGrad()
        throw TrainingError.nonFinite(step: stepIndex + 1, what: "gradient norm", lastGood: lastGood)
    }
    optimizer.step()
    optimizer.zeroGrad()
    return value
}
