// SentencePooling: token states -> one sentence vector, as sentence-transformers' Pooling (+ Normalize) does.
import Foundation
import RecAlignNN
import RecAlignFormats
import RecAlignTensor

/// Pooling over the token axis with the modes of `1_Pooling/config.json`, concatenated in
/// sentence-transformers' order, then optional L2 normalisation (`2_Normalize`).
public struct SentencePooling: Sendable {
    public var config: PoolingConfig
    public var normalize: Bool

    public init(config: PoolingConfig, normalize: Bool) { self.config = config; self.normalize = normalize }

    /// hidden [B, T, C], mask [B, T] (1 = token) -> [B, C·modes].
    public func callAsFunction(_ hidden: Tensor, mask: Tensor) -> Tensor {
        var parts: [Tensor] = []
        for mode in config.modes {
            switch mode {
            case .cls: parts.append(selectToken(hidden, index: 0))
            case .max: parts.append(maxPool(hidden, mask: mask))
            case .mean: parts.append(meanPool(hidden, mask: mask))
            case .meanSqrtLen:
                // Σ x / √n = mean · √n per row.
                let m = meanPool(hidden, mask: mask)
                let b = hidden.shape[0], t = hidden.shape[1]
                let f = (0..<b).map { bi in (0..<t).reduce(Float(0)) { $0 + mask[bi * t + $1] }.squareRoot() }
                parts.append(mul(m, Tensor(f.flatMap { v in [Float](repeating: v, count: hidden.shape[2]) }, shape: m.shape)))
            case .weightedMean, .lastToken:
                preconditionFailure("pooling mode \(mode) is not supported")
            }
        }
        let pooled = parts.count == 1 ? parts[0] : concat(parts, axis: 1)
        return normalize ? l2Normalize(pooled) : pooled
    }
}
