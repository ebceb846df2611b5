// ShardedEncode: encoding split over the ranks of an MPI job (each rank its contiguous share of the texts).
import Foundation
import RecAlignTensor

/// Where the rows of a sharded encode end up.
public enum ShardedResult: Sendable {
    /// Every rank gets the whole matrix (validation: every rank scores).
    case everyRank
    /// Rank 0 gets it (a command that writes one file); the other ranks get an empty matrix.
    case root
}

extension SentenceEncoder {
    /// `encode(texts)` with the texts split over the ranks: rank r encodes its contiguous share
    /// (`Parallel.share(count, r, of: size)`) and the rows are gathered in input order, so the result is the one
    /// process's result up to the batching of each share (length bucketing batches differ; below 1e-6 in
    /// practice). `truncated` counts every rank's cut texts. One process: plain `encode`.
    /// `progress(done, total)` reports rank 0's share scaled to the whole.
    public func encodeSharded(_ texts: [String], batchSize: Int = 32, weights: InferenceWeights? = nil,
                              result: ShardedResult, progress: ((Int, Int) -> Void)? = nil) -> EmbeddingMatrix {
        guard Cluster.isDistributed else { return encode(texts, batchSize: batchSize, weights: weights, progress: progress) }
        let (rank, size) = (Cluster.rank, Cluster.size)
        let mine = Parallel.share(texts.count, worker: rank, of: size)
        let part = encode(Array(texts[mine]), batchSize: batchSize, weights: weights) { done, _ in
            progress?(min(texts.count, done * size), texts.count)
        }
        let truncated = Int(Cluster.allReduceSum([Double(part.truncated)])[0])
        let dim = dimension
        switch result {
        case .everyRank:
            let counts = (0..<size).map { Parallel.share(texts.count, worker: $0, of: size).count * dim }
            var all = [Float](repeating: 0, count: texts.count * dim)
            part.values.withUnsafeBufferPointer { p in
                all.withUnsafeMutableBufferPointer { Cluster.allGather(p.baseAddress!, counts: counts, into: $0.baseAddress!) }
            }
            return EmbeddingMatrix(values: all, rows: texts.count, dim: dim, truncated: truncated)
        case .root:
            let all = Cluster.gatherToRoot(part.values)
            return EmbeddingMatrix(values: all ?? [], rows: all == nil ? 0 : texts.count, dim: dim, truncated: truncated)
        }
    }
}
