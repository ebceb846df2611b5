// RecHead: adaptor + user tower as one Module; item and user vectors from cached text embeddings.
import Foundation
import RecAlignNN
import RecAlignTensor
import RecAlignData

/// A recommendation head over frozen text embeddings. Item state = proj(adaptor(text emb)) (+ the item's ID
/// vector, `itemInput`); item vector = normalize(state); user vector = the tower over the item states of the
/// user's history. Scores are dot products of the (unit-norm) vectors; an item never seen in training has a
/// zero ID vector, so a cold item is scored from its text alone.
public final class RecHead: Module {
    /// The head's shape; `transitionWeight` is set after training (chosen on validation).
    public internal(set) var config: HeadConfig
    public let linear: LinearAdaptor?
    public let moe: MoEAdaptor?
    /// Adaptor output -> transformer width (seq tower, when the widths differ).
    public let proj: Linear?
    public let seq: SequentialTower?
    /// Per-item vectors [itemCount, stateDim] added to the text part (`text+id`) or used alone (`id`).
    public let itemID: Embedding?

    /// A freshly initialised head (`seed` drives every random init).
    public init(config: HeadConfig, seed: UInt64 = 0) {
        var rng = SeededRNG(seed: seed)
        self.config = config
        switch config.itemInput == .id ? .none : config.adaptor {
        case .linear: linear = LinearAdaptor(dim: config.inputDim, dropout: config.dropout); moe = nil
        case .none: linear = nil; moe = nil
        case .moe:
            linear = nil
            moe = MoEAdaptor(inputDim: config.inputDim, outputDim: config.adaptorDim, experts: config.experts,
                             dropout: config.dropout, rng: &rng)
        }
        if config.tower == .seq {
            proj = config.adaptorDim == config.hiddenDim || config.itemInput == .id ? nil
                : Linear(config.adaptorDim, config.hiddenDim, rng: &rng)
            seq = SequentialTower(dim: config.hiddenDim, layers: config.layers, heads: config.heads,
                                  ffn: config.hiddenDim * config.ffnMultiplier, maxHistory: config.maxHistory,
                                  dropout: config.dropout, bag: config.bag, rng: &rng)
        } else {
            proj = nil; seq = nil
        }
        itemID = config.itemInput == .text ? nil : Embedding(config.itemCount, config.stateDim, std: 0.02, rng: &rng)
    }

    /// Zeroes the ID vectors of every item not in `seen` (item rows): items the training never shows keep a zero
    /// vector (no gradient reaches them and weight decay keeps zero at zero), so they are scored by text alone.
    public func keepIDs(of seen: [Int32]) {
        guard let w = itemID?.weight else { return }
        var keep = [Bool](repeating: false, count: config.itemCount)
        for r in seen where r >= 0 && Int(r) < keep.count { keep[Int(r)] = true }
        let d = config.stateDim
        for r in 0..<config.itemCount where !keep[r] { (w.data + r * d).update(repeating: 0, count: d) }
    }

    /// Item states the tower reads: [n, C] frozen embeddings -> [n, H] (not normalised when projected or when
    /// an ID part is added). In training mode each item's ID vector is dropped with probability `idDropout`.
    /// `useIDs` false scores every item from its text alone (another corpus's items: the ID table is not theirs).
    public func itemStates(_ embeddings: Tensor, useIDs: Bool = true, rng: inout SeededRNG) -> Tensor {
        let ids = useIDs ? itemID.map { idPart($0.weight, rng: &rng) } : nil
        if config.itemInput == .id, let ids { return ids }
        let a: Tensor
        if let linear { a = linear(embeddings, rng: &rng) } else if let moe { a = moe(embeddings, rng: &rng) } else { a = l2Normalize(embeddings) }
        let text = proj.map { $0(a) } ?? a
        return ids.map { add(text, $0) } ?? text
    }

    /// The ID table with whole rows dropped (training, `idDropout` > 0): [n, H].
    func idPart(_ table: Tensor, rng: inout SeededRNG) -> Tensor {
        let p = config.idDropout
        guard training && p > 0 else { return table }
        let n = config.itemCount, d = config.stateDim
        var keep = [Float](repeating: 0, count: n * d)
        for r in 0..<n where rng.nextFloat() >= p { for j in 0..<d { keep[r * d + j] = 1 } }
        return mul(table, Tensor(keep, shape: [n, d]))
    }

    /// Unit-norm item vectors from item states.
    public func itemVectors(states: Tensor) -> Tensor { proj == nil && itemID == nil ? states : l2Normalize(states) }

    /// Unit-norm user vectors [B, H] from item states [n, H] and a history batch.
    public func userVectors(states: Tensor, batch: HistoryBatch, rng: inout SeededRNG) -> Tensor {
        if let seq { return l2Normalize(seq(items: states, batch: batch, rng: &rng)) }
        let x = embedding(states, ids: batch.ids, shape: [batch.batch, batch.length])
        let mask = Tensor(batch.mask, shape: [batch.batch, batch.length])
        return l2Normalize(meanPool(x, mask: mask))
    }

    /// Inference: item vectors [n, H] and the vectors of `histories` (item rows, oldest first) [U, H],
    /// row-major, from frozen embeddings [n, C]. No gradients; dropout off. `useIDs` false: text alone for every
    /// item (a head trained on another corpus, whose ID table does not index these items).
    public func vectors(itemEmbeddings: [Float], itemCount n: Int, histories: [[Int32]],
                        batchSize: Int = 256, useIDs: Bool = true) throws -> (items: [Float], users: [Float], dim: Int) {
        guard itemEmbeddings.count == n * config.inputDim else {
            throw HeadError.badInput("\(itemEmbeddings.count) embedding values for \(n) items x \(config.inputDim)")
        }
        if !useIDs && config.itemInput == .id {
            throw HeadError.badInput("the head scores items by ID alone: it has no text path for another corpus's items")
        }
        if useIDs && itemID != nil && n != config.itemCount {
            throw HeadError.badInput("the head holds ID vectors for \(config.itemCount) items; the corpus has \(n)")
        }
        for (u, h) in histories.enumerated() {
            if let bad = h.first(where: { $0 < 0 || Int($0) >= n }) {
                throw HeadError.badInput("history of user \(u) holds item row \(bad) outside 0..<\(n)")
            }
        }
        let wasTraining = training
        train(false)
        defer { train(wasTraining) }
        return Autograd.noGrad {
            var rng = SeededRNG(seed: 0)
            let states = itemStates(Tensor(itemEmbeddings, shape: [n, config.inputDim]), useIDs: useIDs, rng: &rng)
            let items = itemVectors(states: states)
            let dim = items.lastDim
            var users = [Float](repeating: 0, count: histories.count * dim)
            for start in stride(from: 0, to: histories.count, by: batchSize) {
                let part = histories[start..<min(histories.count, start + batchSize)].map { $0[...] }
                let v = userVectors(states: states, batch: HistoryBatch(part, maxHistory: config.maxHistory), rng: &rng)
                users.withUnsafeMutableBufferPointer { $0.baseAddress!.advanced(by: start * dim).update(from: v.data, count: v.count) }
            }
            return (items.array, users, dim)
        }
    }

    /// The head's transition term counted on `train` (the sequences it was trained on); nil when it has none
    /// (weight 0) or its IDs are unused (a head trained on another corpus).
    public func transitions(train: InteractionSequences, itemCount n: Int, useIDs: Bool = true) throws -> TransitionPrior? {
        guard config.transitionWeight > 0 && useIDs else { return nil }
        return try transitionTable(train: train, itemCount: n)
    }

    /// The transition table with the head's shape (last items, decay) counted on `train`, whatever its weight
    /// (choosing the weight scores it before the head has one).
    public func transitionTable(train: InteractionSequences, itemCount n: Int) throws -> TransitionPrior {
        try TransitionPrior(sequences: train, itemCount: n, lastItems: config.transitionItems, decay: config.transitionDecay)
    }

    /// `transitions` with the head's weight: the term every command that scores with the head adds.
    public func weightedTransitions(train: InteractionSequences, itemCount n: Int,
                                    useIDs: Bool = true) throws -> (prior: TransitionPrior, weight: Float)? {
        try transitions(train: train, itemCount: n, useIDs: useIDs).map { ($0, config.transitionWeight) }
    }
}
