// TransitionPrior: counts of consecutive train items as a score term beside a head (its memorising part).
import Foundation
import RecAlignData

/// A first-order Markov term added to a head's cosine scores:
///
///     score(u, i) = cos(u, i) + weight · Σ_{j<k} decay^j · log(1 + c(h₋₁₋ⱼ → i))
///
/// where c(a → b) counts how often b directly follows a in the train sequences and h₋₁, h₋₂, ... are the
/// user's most recent history items. A sequential tower trained with dropout smooths exact transitions away;
/// this term keeps them (FPMC's Markov part, left unfactorised: a rank-128 factorisation lost most of the
/// gain on ml-100k). In two-tower form the user vector gains n coordinates (weight · decay^j at the rows of its
/// last k items) and item i gains column i of log(1 + c), so the dot product of the widened vectors is the
/// fused score and an export stays a plain inner-product file; evaluation and chat add the term to the scores
/// instead (`scoreTerm`, `addTerm`) and keep the vectors at their width.
public struct TransitionPrior: Sendable {
    /// Largest catalog the dense n x n table and the n extra coordinates are built for.
    public static let maxItems = 16_384
    /// Weights `train-head` chooses from on validation (cosine units; 0.05 is 1 in the training softmax's logits).
    public static let weightGrid: [Float] = [0, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2]

    public let itemCount: Int
    public let lastItems: Int
    public let decay: Float
    /// log(1 + c(a → b)) at [a · n + b]: row a holds what follows item a (contiguous for a user's term).
    let rows: [Float]

    /// Counts the consecutive pairs of every train sequence (item rows must lie in 0..<itemCount).
    public init(sequences: InteractionSequences, itemCount n: Int, lastItems k: Int, decay: Float) throws {
        guard n >= 1 && n <= Self.maxItems else {
            throw HeadError.badInput("the transition term is built for 1...\(Self.maxItems) items; the corpus has \(n)")
        }
        guard k >= 1, decay > 0 && decay <= 1 else {
            throw HeadError.badInput("transition term: last items \(k) (>= 1), decay \(decay) (in (0, 1])")
        }
        var counts = [Float](repeating: 0, count: n * n)
        for u in 0..<sequences.userCount {
            var prev = -1
            for item in sequences.items(ofUser: u) {
                guard item >= 0 && Int(item) < n else {
                    throw HeadError.badInput("train sequence of user \(u) holds item row \(item) outside 0..<\(n)")
                }
                if prev >= 0 { counts[prev * n + Int(item)] += 1 }
                prev = Int(item)
            }
        }
        for i in counts.indices where counts[i] > 0 { counts[i] = log1p(counts[i]) }
        itemCount = n; lastItems = k; self.decay = decay; rows = counts
    }

    /// The user's extra coordinates (weight · decay^j at its j-th most recent item; later repeats add up).
    func userPart(_ history: [Int32], weight: Float, into out: UnsafeMutablePointer<Float>) {
        out.update(repeating: 0, count: itemCount)
        var w = weight
        for item in history.suffix(lastItems).reversed() {
            out[Int(item)] += w
            w *= decay
        }
    }

    /// Adds `weight` times the term of `history` to `row` (n scores): row[b] += weight · Σ_j decay^j · L(h₋₁₋ⱼ → b).
    public func addTerm(_ history: [Int32], weight: Float, to row: UnsafeMutablePointer<Float>) {
        let n = itemCount
        var w = weight
        rows.withUnsafeBufferPointer { table in
            for a in history.suffix(lastItems).reversed() {
                precondition(a >= 0 && Int(a) < n, "TransitionPrior.addTerm: history item \(a) outside 0..<\(n)")
                let from = table.baseAddress! + Int(a) * n
                for b in 0..<n { row[b] += w * from[b] }
                w *= decay
            }
        }
    }

    /// `addTerm` for the history of each user row, as an additive score term (`Evaluator.ranks(term:)`): scores
    /// `u·v + weight · term(u, v)` without widening the vectors (histories already validated against n).
    public func scoreTerm(histories: [[Int32]], weight: Float) -> @Sendable (Int, UnsafeMutablePointer<Float>) -> Void {
        { u, row in self.addTerm(histories[u], weight: weight, to: row) }
    }

    /// The term alone for each history: [U, n] row-major (weight 1).
    public func scores(histories: [[Int32]]) -> [Float] {
        var out = [Float](repeating: 0, count: histories.count * itemCount)
        out.withUnsafeMutableBufferPointer { o in
            for (u, h) in histories.enumerated() { addTerm(h, weight: 1, to: o.baseAddress! + u * itemCount) }
        }
        return out
    }

    /// Towers whose dot product is `u·v + weight · term(u, v)`: users [U, dim] and items [n, dim] each gain n
    /// coordinates (histories are item rows, one per user row, already validated against n).
    public func augment(users: [Float], items: [Float], dim: Int, histories: [[Int32]], weight: Float)
        -> (items: [Float], users: [Float], dim: Int) {
        let n = itemCount, wide = dim + n
        precondition(items.count == n * dim && users.count == histories.count * dim, "TransitionPrior.augment: shapes")
        var outItems = [Float](repeating: 0, count: n * wide)
        var outUsers = [Float](repeating: 0, count: histories.count * wide)
        outItems.withUnsafeMutableBufferPointer { o in
            items.withUnsafeBufferPointer { src in
                for b in 0..<n { (o.baseAddress! + b * wide).update(from: src.baseAddress! + b * dim, count: dim) }
            }
            // Item b's extra coordinates are column b of the table: L(a → b) at coordinate dim + a.
            rows.withUnsafeBufferPointer { table in
                for a in 0..<n {
                    for b in 0..<n { o[b * wide + dim + a] = table[a * n + b] }
                }
            }
        }
        outUsers.withUnsafeMutableBufferPointer { o in
            for (u, h) in histories.enumerated() {
                let row = o.baseAddress! + u * wide
                users.withUnsafeBufferPointer { row.update(from: $0.baseAddress! + u * dim, count: dim) }
                userPart(h, weight: weight, into: row + dim)
            }
        }
        return (outItems, outUsers, wide)
    }
}
