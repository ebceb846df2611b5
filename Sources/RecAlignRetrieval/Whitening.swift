// Whitening: training-free alignment of an embedding space (BERT-whitening / UniSRec): (x - mu) W, L2-normalised.
import Foundation
import RecAlignTensor

/// A whitening transform fitted on a matrix: `y = (x - mu) W` with `W = U diag(1 / sqrt(lambda + eps))`,
/// U the eigenvectors of the covariance (largest eigenvalue first), optionally only the top `outDim`
/// components. Covariance (unbiased, divided by n - 1, as numpy's `np.cov`) and the eigendecomposition
/// (`LAPACKE_dsyevd`) are computed in Double.
public struct Whitening: Sendable, Equatable {
    public let inDim: Int
    public let outDim: Int
    /// Mean of the fitted rows, `inDim`.
    public let mean: [Float]
    /// Row-major `inDim x outDim`.
    public let weights: [Float]
    /// Covariance eigenvalues, descending (all `inDim` of them).
    public let eigenvalues: [Double]

    /// Fits on `matrix` (row-major, `dim` columns, at least 2 rows).
    /// - Parameters:
    ///   - outDim: keep the top `outDim` components (nil = all).
    ///   - eps: added to each eigenvalue before the inverse square root.
    public static func fit(_ matrix: [Float], dim: Int, outDim: Int? = nil, eps: Double = 1e-6) throws -> Whitening {
        let n = try Check.rows(matrix.count, dim: dim, field: "matrix")
        guard n >= 2 else { throw RetrievalError.shape(field: "matrix", reason: "needs >= 2 rows, got \(n)") }
        let k = outDim ?? dim
        guard k >= 1 && k <= dim else {
            throw RetrievalError.invalid(field: "outDim", reason: "must be in 1...\(dim), got \(k)")
        }
        guard eps >= 0, eps.isFinite else { throw RetrievalError.invalid(field: "eps", reason: "must be >= 0") }
        var mu = [Double](repeating: 0, count: dim)
        for r in 0 ..< n { for c in 0 ..< dim { mu[c] += Double(matrix[r * dim + c]) } }
        for c in 0 ..< dim { mu[c] /= Double(n) }
        // Centred copy in Double, then C = X^T X / (n - 1).
        var x = [Double](repeating: 0, count: n * dim)
        for r in 0 ..< n { for c in 0 ..< dim { x[r * dim + c] = Double(matrix[r * dim + c]) - mu[c] } }
        guard x.allSatisfy({ $0.isFinite }) else {
            throw RetrievalError.invalid(field: "matrix", reason: "contains NaN or infinity")
        }
        var cov = [Double](repeating: 0, count: dim * dim)
        BLAS.syrkUpper(n: dim, k: n, alpha: 1 / Double(n - 1), a: x, lda: dim, beta: 0, c: &cov, ldc: dim)
        var w = [Double](repeating: 0, count: dim)
        let info = BLAS.symmetricEigen(n: dim, a: &cov, lda: dim, eigenvalues: &w)
        guard info == 0 else {
            throw RetrievalError.invalid(field: "matrix", reason: "eigendecomposition failed (dsyevd info \(info))")
        }
        // dsyevd: ascending eigenvalues, eigenvectors in the columns of `cov`. Take them largest first.
        var weights = [Float](repeating: 0, count: dim * k)
        for j in 0 ..< k {
            let col = dim - 1 - j
            let s = 1 / (max(w[col], 0) + eps).squareRoot()
            for r in 0 ..< dim { weights[r * k + j] = Float(cov[r * dim + col] * s) }
        }
        return Whitening(inDim: dim, outDim: k, mean: mu.map { Float($0) }, weights: weights,
                         eigenvalues: w.reversed())
    }

    /// Applies `(x - mu) W` to every row of `matrix` (`inDim` columns); L2-normalises the result rows when
    /// `normalize` (the default, for cosine retrieval). Returns row-major `rows x outDim`.
    public func apply(_ matrix: [Float], normalize: Bool = true) throws -> [Float] {
        let n = try Check.rows(matrix.count, dim: inDim, field: "matrix")
        var centred = matrix
        for r in 0 ..< n { for c in 0 ..< inDim { centred[r * inDim + c] -= mean[c] } }
        var out = [Float](repeating: 0, count: n * outDim)
        if n > 0 {
            BLAS.gemm(transA: false, transB: false, m: n, n: outDim, k: inDim, a: centred, lda: inDim, b: weights,
                      ldb: outDim, beta: 0, c: &out, ldc: outDim)
        }
        if normalize { try L2.normalizeRows(&out, dim: outDim) }
        return out
    }
}
