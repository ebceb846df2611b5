// ClusterGraph: a contrastive step's encoder forward split by rows over MPI ranks, the batch's embeddings all-gathered.
import Foundation
import RecAlignNN
import RecAlignModels
import RecAlignTensor

/// Data-parallel MNRL over the ranks of an MPI job (the CLIP / GradCache pattern).
///
/// Rank r embeds rows `Parallel.share(B, r, of: N)` of every user and item batch with its own graph. The pooled
/// rows of all ranks are all-gathered into `anchors` [B_u, C] and `candidates` [B_i, C], leaves in the batches'
/// order, so every rank computes the same loss over the whole batch: the in-batch negatives stay global.
/// `backward()` (after `Autograd.backward(loss)`) hands this rank's rows of d(anchors), d(candidates) to its
/// graph; the caller then sums the parameter gradients over the ranks. Every rank's gradient is
///   dL/dθ_r = Σ_{i in rows of r} (dL/de_i)ᵀ de_i/dθ,  and  Σ_r dL/dθ_r = dL/dθ of the whole batch.
/// Traffic per step: the gather of B_u + B_i rows of C floats, and the allreduce of the trainable gradients.
final class ClusterGraph {
    struct Part { let user: Bool; let row: Int; let output: Tensor }
    let anchors: Tensor, candidates: Tensor
    private var parts: [Part] = []
    private var tape: [() -> Void] = []

    /// `rng` gives one dropout seed per rank (all ranks advance it alike, so it stays the same on every rank).
    init(encoder: SentenceEncoder, users: [TokenBatch], items: [TokenBatch], trainable: Bool, rng: inout SeededRNG) {
        let (rank, size) = (Cluster.rank, Cluster.size)
        let seeds = (0..<size).map { _ in rng.next() }
        var r = SeededRNG(seed: seeds[rank])
        let groups = [(true, users), (false, items)]
        for (user, batches) in groups {
            var row = 0
            for b in batches {
                let share = Parallel.share(b.batch, worker: rank, of: size)
                if !share.isEmpty {
                    parts.append(Part(user: user, row: row + share.lowerBound, output: encoder.embed(b.rows(share), rng: &r)))
                }
                row += b.batch
            }
        }
        // This rank's graph is replayed by `backward`, after the loss's own backward.
        tape = Autograd.takeTape()
        let dim = encoder.dimension
        // Rank q's block of the gather holds its rows of every batch, users first, in batch order.
        let counts = (0..<size).map { q in
            groups.reduce(0) { $0 + $1.1.reduce(0) { $0 + Parallel.share($1.batch, worker: q, of: size).count } } * dim
        }
        var local = [Float](repeating: 0, count: counts[rank])
        var o = 0
        for p in parts { local.withUnsafeMutableBufferPointer { ($0.baseAddress! + o).update(from: p.output.data, count: p.output.count) }; o += p.output.count }
        var all = [Float](repeating: 0, count: counts.reduce(0, +))
        local.withUnsafeBufferPointer { l in all.withUnsafeMutableBufferPointer { Cluster.allGather(l.baseAddress!, counts: counts, into: $0.baseAddress!) } }
        anchors = Tensor(zeros: [users.reduce(0) { $0 + $1.batch }, dim], requiresGrad: trainable)
        candidates = Tensor(zeros: [items.reduce(0) { $0 + $1.batch }, dim], requiresGrad: trainable)
        o = 0
        for q in 0..<size {
            for (user, batches) in groups {
                var row = 0
                for b in batches {
                    let share = Parallel.share(b.batch, worker: q, of: size)
                    let n = share.count * dim
                    all.withUnsafeBufferPointer { (user ? anchors : candidates).data.advanced(by: (row + share.lowerBound) * dim).update(from: $0.baseAddress! + o, count: n) }
                    o += n
                    row += b.batch
                }
            }
        }
    }

    /// After `Autograd.backward(loss)` filled d(anchors) and d(candidates): this rank's rows back through its graph.
    func backward() {
        guard anchors.requiresGrad else { return }
        let dA = anchors.gradIfAllocated, dC = candidates.gradIfAllocated
        for p in parts where p.output.requiresGrad {
            guard let src = p.user ? dA : dC else { continue }
            addInPlace(p.output.gradData, src + p.row * p.output.lastDim, p.output.count)
        }
        Autograd.replay(tape)
        tape = []
    }
}
