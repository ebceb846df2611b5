// ContrastiveLoss: MultipleNegativesRankingLoss (in-batch negatives over scaled cosine), optionally symmetric.
import Foundation
import RecAlignTensor

/// sentence-transformers' MultipleNegativesRankingLoss.
///
/// Shapes: anchors [B, C] (user texts), candidates [B + H, C] (row i < B is anchor i's positive, rows >= B
/// are extra hard negatives shared by the batch). S = scale · cos(anchors, candidates) [B, B + H];
/// loss = CE(S, targets 0..<B). Symmetric adds CE(S[:, :B]ᵀ, 0..<B) (candidate -> anchor) and averages.
public struct MultipleNegativesRankingLoss: Sendable {
    public var scale: Float
    public var symmetric: Bool

    public init(scale: Float = 20, symmetric: Bool = false) { self.scale = scale; self.symmetric = symmetric }

    public func callAsFunction(anchors: Tensor, candidates: Tensor) -> Tensor {
        let b = anchors.shape[0]
        precondition(candidates.shape[0] >= b && candidates.shape[1] == anchors.shape[1],
                     "MNRL: anchors \(anchors.shape), candidates \(candidates.shape)")
        let a = l2Normalize(anchors), c = l2Normalize(candidates)
        let scores = RecAlignTensor.scale(matmul(a, c, transB: true), self.scale)          // [B, B + H]
        let targets = Array(0..<b)
        let forward = crossEntropy(scores, targets: targets)
        guard symmetric else { return forward }
        let backwardScores = RecAlignTensor.scale(matmul(c.slice(0..<b), a, transB: true), self.scale)   // [B, B]
        return RecAlignTensor.scale(add(forward, crossEntropy(backwardScores, targets: targets)), 0.5)
    }
}
