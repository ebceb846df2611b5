// ContrastiveStep: one training step of the two towers through the shared encoder (forward, MNRL, backward, clip, AdamW).
import Foundation
import RecAlignNN
import RecAlignModels
import RecAlignTensor

/// Embeds padded batches with autograd (training mode: dropout when the encoder is training) and
/// concatenates the rows: [Σ B, dim].
public func embedBatches(_ encoder: SentenceEncoder, _ batches: [TokenBatch], rng: inout SeededRNG) -> Tensor {
    let parts = batches.map { encoder.embed($0, rng: &rng) }
    return parts.count == 1 ? parts[0] : concat(parts, axis: 0)
}

/// One optimizer step: user batches (rows = anchors in order) and item batches (rows = candidates; the
/// first anchors-count rows are the positives), MNRL, backward, gradient clipping, AdamW at its current
/// lr. Throws `TrainingError.nonFinite` (and leaves the weights untouched) when the loss or the gradient
/// norm is NaN or infinite. Returns the loss before the update. `dataParallel`: see `contrastiveGradients`.
@discardableResult
public func contrastiveStep(tuned: TunedEncoder, optimizer: AdamW, users: [TokenBatch], items: [TokenBatch],
                            loss: MultipleNegativesRankingLoss, maxGradNorm: Float, rng: inout SeededRNG,
                            dataParallel: Bool = true, stepIndex: Int = 0, lossObserver: ((Int, Float) -> Float)? = nil,
                            lastGood: String? = nil, allReduce: GradientAllReduce? = nil) throws -> Float {
    let value = try contrastiveGradients(tuned: tuned, parameters: optimizer.params.map(\.tensor), users: users, items: items,
                                         loss: loss, rng: &rng, dataParallel: dataParallel, stepIndex: stepIndex,
                                         lossObserver: lossObserver, lastGood: lastGood, allReduce: allReduce)
    let norm = clipGradNorm(optimizer.params.map(\.tensor), maxNorm: maxGradNorm)
    guard norm.isFinite else {
        optimizer.zeroGrad()
        throw TrainingError.nonFinite(step: stepIndex + 1, what: "gradient norm", lastGood: lastGood)
    }
    optimizer.step()
    optimizer.zeroGrad()
    return value
}

/// Forward of both towers, MNRL and backward: adds d(loss)/d(p) into the gradient of every trainable
/// `parameters` entry and returns the loss. With `dataParallel` (and more than one core, outside a serial
/// section) the rows are split over the cores (`DataParallelGraph`): each worker runs forward and backward of
/// its rows with single-threaded kernels and its own gradient slot, only the loss sees all rows together.
/// Otherwise one graph with threaded kernels. Under MPI (more than one rank) the rows are split over the ranks
/// instead (`ClusterGraph`) and the gradients summed over them with `allReduce`.
/// Throws `TrainingError.nonFinite` before any gradient is written when the loss is NaN or infinite.
public func contrastiveGradients(tuned: TunedEncoder, parameters: [Tensor], users: [TokenBatch], items: [TokenBatch],
                                 loss: MultipleNegativesRankingLoss, rng: inout SeededRNG,
                                 dataParallel: Bool = true, stepIndex: Int = 0,
                                 lossObserver: ((Int, Float) -> Float)? = nil, lastGood: String? = nil,
                                 allReduce: GradientAllReduce? = nil) throws -> Float {
    var graph: DataParallelGraph? = nil
    var cluster: ClusterGraph? = nil
    let anchors: Tensor, candidates: Tensor
    if Cluster.isDistributed {
        let g = ClusterGraph(encoder: tuned.encoder, users: users, items: items, trainable: !parameters.isEmpty, rng: &rng)
        cluster = g
        (anchors, candidates) = (g.anchors, g.candidates)
    } else if dataParallel && Parallel.workers > 1 && !Parallel.isSerialThread {
        let g = DataParallelGraph(encoder: tuned.encoder, users: users, items: items, shared: parameters, rng: &rng)
        graph = g
        (anchors, candidates) = (g.anchors, g.candidates)
    } else {
        anchors = embedBatches(tuned.encoder, users, rng: &rng)
        candidates = embedBatches(tuned.encoder, items, rng: &rng)
    }
    let l = loss(anchors: anchors, candidates: candidates)
    var value = l[0]
    if let lossObserver { value = lossObserver(stepIndex, value) }
    guard value.isFinite else {
        Autograd.clearTape()
        throw TrainingError.nonFinite(step: stepIndex + 1, what: "loss", lastGood: lastGood)
    }
    Autograd.backward(l)
    graph?.backward()
    if let cluster {
        cluster.backward()
        (allReduce ?? GradientAllReduce()).reduce(parameters)
    }
    return value
}

/// The encoder forward of one step split by rows over the cores (`BLAS.dataParallel`).
///
/// Worker w embeds rows [w·B/W, (w+1)·B/W) of every user and item batch on its own thread, recording its own
/// tape. `anchors` [B_u, C] and `candidates` [B_i, C] are leaf copies of the pooled rows in the batches'
/// order, so the loss (which couples all rows: in-batch negatives) runs once on the calling thread.
/// `backward()` then hands each worker its rows of d(anchors), d(candidates) and replays its tape; parameter
/// gradients land in the worker's gradient slot and are summed into slot 0 at the end. Same gradients as the
/// single-graph step up to float summation order.
final class DataParallelGraph {
    /// One pooled slice: which leaf it belongs to, its first row there, the worker's output tensor.
    struct Part { let user: Bool; let row: Int; let output: Tensor }
    final class Worker {
        var parts: [Part] = []
        var tape: [() -> Void] = []
    }

    let anchors: Tensor, candidates: Tensor
    private let workers: [Worker]
    private let shared: [Tensor]

    init(encoder: SentenceEncoder, users: [TokenBatch], items: [TokenBatch], shared: [Tensor], rng: inout SeededRNG) {
        let n = Parallel.workers
        self.shared = shared
        for p in shared { p.gradBox?.prepareSlots() }
        let seeds = (0..<n).map { _ in rng.next() }
        let workers = (0..<n).map { _ in Worker() }
        BLAS.dataParallel { w, count in
            let me = workers[w]
            var r = SeededRNG(seed: seeds[w])
            precondition(Autograd.recordedCount == 0, "data-parallel worker \(w) starts with a non-empty tape")
            for (user, batches) in [(true, users), (false, items)] {
                var row = 0
                for b in batches {
                    let share = Parallel.share(b.batch, worker: w, of: count)
                    if !share.isEmpty {
                        me.parts.append(Part(user: user, row: row + share.lowerBound, output: encoder.embed(b.rows(share), rng: &r)))
                    }
                    row += b.batch
                }
            }
            me.tape = Autograd.takeTape()
        }
        self.workers = workers
        let dim = encoder.dimension
        let needsGrad = workers.contains { $0.parts.contains { $0.output.requiresGrad } }
        anchors = Tensor(zeros: [users.reduce(0) { $0 + $1.batch }, dim], requiresGrad: needsGrad)
        candidates = Tensor(zeros: [items.reduce(0) { $0 + $1.batch }, dim], requiresGrad: needsGrad)
        for wk in workers {
            for p in wk.parts {
                (p.user ? anchors : candidates).data.advanced(by: p.row * dim).update(from: p.output.data, count: p.output.count)
            }
        }
    }

    /// After `Autograd.backward(loss)` filled d(anchors) and d(candidates): each worker back-propagates its
    /// rows; then the shared parameters' slots are summed into slot 0.
    func backward() {
        guard anchors.requiresGrad else { return }
        let dA = anchors.gradIfAllocated, dC = candidates.gradIfAllocated
        let workers = self.workers
        BLAS.dataParallel { w, _ in
            let me = workers[w]
            for p in me.parts where p.output.requiresGrad {
                guard let src = p.user ? dA : dC else { continue }
                let dim = p.output.lastDim
                addInPlace(p.output.gradData, src + p.row * dim, p.output.count)
            }
            Autograd.replay(me.tape)
            me.tape = []
        }
        for p in shared { p.gradBox?.reduceSlots() }
    }
}
