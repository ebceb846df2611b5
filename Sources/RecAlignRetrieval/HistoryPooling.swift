// HistoryPooling: L2 normalisation, and a user tower built from item vectors (mean / recency-weighted).
import Foundation

/// Row-wise L2 normalisation of row-major matrices.
public enum L2 {
    /// Divides every row of `matrix` (`count / dim` rows) by its L2 norm; all-zero rows stay zero.
    public static func normalizeRows(_ matrix: inout [Float], dim: Int) throws {
        let n = try Check.rows(matrix.count, dim: dim, field: "matrix")
        matrix.withUnsafeMutableBufferPointer { m in
            for r in 0 ..< n { normalize(m.baseAddress! + r * dim, dim) }
        }
    }

    @inline(__always) static func normalize(_ p: UnsafeMutablePointer<Float>, _ d: Int) {
        var s: Double = 0
        for i in 0 ..< d { s += Double(p[i]) * Double(p[i]) }
        guard s > 0, s.isFinite else { return }
        let inv = Float(1 / s.squareRoot())
        for i in 0 ..< d { p[i] *= inv }
    }
}

/// A user vector pooled from the vectors of the user's history items, then L2-normalised.
/// Histories are item rows **oldest first, most recent last**. An empty history gives a zero vector
/// (every item then scores 0, so ranking falls back to the row order).
public enum HistoryPooling: Sendable, Equatable {
    /// Plain mean of the most recent `lastN` items (all items when nil).
    case mean(lastN: Int?)
    /// Weighted mean: the most recent item has weight 1, the one before `decay`, then `decay^2`, ...
    /// (over the most recent `lastN` items, all when nil).
    case recencyWeighted(decay: Float, lastN: Int? = nil)

    /// User vectors, row-major `histories.count x dim`.
    /// - Throws: `RetrievalError` when `items` is not a multiple of `dim` or a history row is out of range.
    public func userVectors(items: [Float], dim: Int, histories: [[Int]]) throws -> [Float] {
        let ni = try Check.rows(items.count, dim: dim, field: "items")
        var out = [Float](repeating: 0, count: histories.count * dim)
        let lastN: Int?, decay: Float
        switch self {
        case let .mean(n): lastN = n; decay = 1
        case let .recencyWeighted(d, n): lastN = n; decay = d
        }
        if let n = lastN, n < 1 { throw RetrievalError.invalid(field: "lastN", reason: "must be >= 1, got \(n)") }
        guard decay.isFinite, decay >= 0 else {
            throw RetrievalError.invalid(field: "decay", reason: "must be finite and >= 0, got \(decay)")
        }
        let acc = UnsafeMutablePointer<Double>.allocate(capacity: dim)
        defer { acc.deallocate() }
        try items.withUnsafeBufferPointer { it in
            try out.withUnsafeMutableBufferPointer { o in
                for (u, h) in histories.enumerated() {
                    acc.initialize(repeating: 0, count: dim)
                    let used = h.suffix(lastN ?? h.count)
                    var w: Double = 1
                    for row in used.reversed() {
                        guard row >= 0 && row < ni else {
                            throw RetrievalError.invalid(field: "histories[\(u)]", reason: "row \(row) outside 0..<\(ni)")
                        }
                        let p = it.baseAddress! + row * dim
                        for k in 0 ..< dim { acc[k] += w * Double(p[k]) }
                        w *= Double(decay)
                    }
                    let dst = o.baseAddress! + u * dim
                    for k in 0 ..< dim { dst[k] = Float(acc[k]) }
                    L2.normalize(dst, dim)
                }
            }
        }
        return out
    }
}
