// WhiteningTests: whitened correlated Gaussian data has identity covariance; reduction keeps the top components.
import Foundation
import Testing
@testable import RecAlignRetrieval

@Suite struct WhiteningTests {
    func covariance(_ x: [Float], dim: Int) -> [Double] {
        let n = x.count / dim
        var mu = [Double](repeating: 0, count: dim)
        for r in 0 ..< n { for c in 0 ..< dim { mu[c] += Double(x[r * dim + c]) / Double(n) } }
        var cov = [Double](repeating: 0, count: dim * dim)
        for r in 0 ..< n { for a in 0 ..< dim { for b in 0 ..< dim {
            cov[a * dim + b] += (Double(x[r * dim + a]) - mu[a]) * (Double(x[r * dim + b]) - mu[b]) / Double(n - 1)
        } } }
        return cov
    }

    @Test func whitenedCorrelatedDataHasIdentityCovariance() throws {
        var rng = TestRNG(1)
        let n = 2000, d = 32
        let z = rng.gaussians(n * d), mix = rng.gaussians(d * d)
        var x = [Float](repeating: 0, count: n * d)
        for r in 0 ..< n { for c in 0 ..< d {
            var s: Float = 0
            for k in 0 ..< d { s += z[r * d + k] * mix[k * d + c] }
            x[r * d + c] = s + 3   // correlated, non-zero mean
        } }
        let before = covariance(x, dim: d)
        #expect(abs(before[1]) > 0.5)            // really correlated
        let w = try Whitening.fit(x, dim: d)
        let y = try w.apply(x, normalize: false)
        let cov = covariance(y, dim: d)
        var maxErr = 0.0
        for a in 0 ..< d { for b in 0 ..< d { maxErr = max(maxErr, abs(cov[a * d + b] - (a == b ? 1 : 0))) } }
        #expect(maxErr < 1e-3)
        #expect(zip(w.eigenvalues, w.eigenvalues.dropFirst()).allSatisfy { $0 >= $1 })
        // Default apply L2-normalises rows.
        let yn = try w.apply(Array(x[0 ..< (5 * d)]))
        for r in 0 ..< 5 {
            let norm = (0 ..< d).reduce(0.0) { $0 + Double(yn[r * d + $1] * yn[r * d + $1]) }.squareRoot()
            #expect(abs(norm - 1) < 1e-5)
        }
    }

    @Test func reductionKeepsTopComponents() throws {
        var rng = TestRNG(2)
        let n = 4000, d = 8
        let std: [Float] = [1, 6, 0.5, 3, 2, 0.2, 10, 0.8]   // top-3 axes: 6 (10), 1 (6), 3 (3)
        var x = rng.gaussians(n * d)
        for r in 0 ..< n { for c in 0 ..< d { x[r * d + c] *= std[c] } }
        let w = try Whitening.fit(x, dim: d, outDim: 3)
        #expect(w.outDim == 3 && w.weights.count == d * 3)
        for (j, axis) in [6, 1, 3].enumerated() {
            // The j-th kept component is the axis, scaled by 1/std.
            let col = (0 ..< d).map { w.weights[$0 * 3 + j] }
            #expect(abs(abs(col[axis]) - 1 / std[axis]) < 0.05 / std[axis])
            for c in 0 ..< d where c != axis { #expect(abs(col[c]) < 0.05 / std[axis]) }
            #expect(abs(w.eigenvalues[j] / Double(std[axis] * std[axis]) - 1) < 0.1)
        }
        let y = try w.apply(x, normalize: false)
        let cov = covariance(y, dim: 3)
        for a in 0 ..< 3 { for b in 0 ..< 3 { #expect(abs(cov[a * 3 + b] - (a == b ? 1 : 0)) < 1e-3) } }
    }

    @Test func badInputsThrow() {
        #expect(throws: RetrievalError.self) { try Whitening.fit([1, 2, 3], dim: 3) }
        #expect(throws: RetrievalError.self) { try Whitening.fit([1, 2, 3, 4], dim: 2, outDim: 3) }
        #expect(throws: RetrievalError.self) { try Whitening.fit([1, .nan, 3, 4], dim: 2) }
    }
}
