// TestSupport: seeded data and brute-force references shared by the retrieval tests.
import Foundation
import RecAlignRetrieval
import RecAlignData

/// The protocol's SplitMix64, so test data is the same on every run and machine.
struct TestRNG {
    var generator: SplitMix64
    init(_ seed: UInt64) { generator = SplitMix64(seed: seed) }
    mutating func next() -> UInt64 { generator.next() }
    mutating func int(_ n: Int) -> Int { Int(next() % UInt64(n)) }
    mutating func uniform() -> Double { Double(next() >> 11) / Double(1 << 53) }
    mutating func gaussian() -> Double {
        let u1 = max(uniform(), 1e-300), u2 = uniform()
        return (-2 * log(u1)).squareRoot() * cos(2 * .pi * u2)
    }
    /// Small integers in -r...r: dot products of such vectors are exact in Float, so ties are real ties.
    mutating func smallInts(_ count: Int, r: Int) -> [Float] { (0 ..< count).map { _ in Float(int(2 * r + 1) - r) } }
    mutating func gaussians(_ count: Int) -> [Float] { (0 ..< count).map { _ in Float(gaussian()) } }
    /// A random strictly ascending subset of 0..<n of about `fraction * n` rows.
    mutating func sortedSubset(_ n: Int, fraction: Double) -> [Int32] {
        (0 ..< n).filter { _ in uniform() < fraction }.map { Int32($0) }
    }
}

/// Dot products in Double (exact for small-integer data).
func doubleScores(_ q: ArraySlice<Float>, items: [Float], dim: Int) -> [Double] {
    let n = items.count / dim
    let qa = Array(q)
    return (0 ..< n).map { i in
        var s = 0.0
        for k in 0 ..< dim { s += Double(qa[k]) * Double(items[i * dim + k]) }
        return s
    }
}

/// Brute-force top-k by a full sort: score desc, row asc; NaN as -inf; excluded rows skipped.
func bruteTopK(scores: [Double], k: Int, exclude: Set<Int>) -> [(Int, Double)] {
    let c = scores.enumerated().filter { !exclude.contains($0.offset) }
        .map { ($0.offset, $0.element.isNaN ? -Double.infinity : $0.element) }
    return Array(c.sorted { $0.1 > $1.1 || ($0.1 == $1.1 && $0.0 < $1.0) }.prefix(k))
}

/// Brute-force protocol rank on Double scores.
func bruteRank(scores: [Double], target: Int, exclude: Set<Int>) -> Int {
    func cl(_ x: Double) -> Double { x.isNaN ? -.infinity : x }
    let t = cl(scores[target])
    var r = 1
    for (i, s0) in scores.enumerated() where i != target && !exclude.contains(i) {
        let s = cl(s0)
        if s > t || (s == t && i < target) { r += 1 }
    }
    return r
}
