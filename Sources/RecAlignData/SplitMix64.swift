// SplitMix64: the small seeded RNG every language shares (cold-item draw, subsampling, batch shuffles).
import Foundation

/// SplitMix64 (PROTOCOL section 3). Its whole state is one UInt64: read `state` to checkpoint a run and
/// assign it (or `init(state:)`) to resume the same stream.
public struct SplitMix64: RandomNumberGenerator, Codable, Equatable, Sendable {
    public var state: UInt64

    /// A generator whose first output is that of the protocol's `state = seed`.
    public init(seed: UInt64) { state = seed }
    /// Restores a generator from a saved `state`.
    public init(state: UInt64) { self.state = state }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// `next() % n` (the protocol's modulo draw; bias is negligible and shared by every implementation).
    public mutating func below(_ n: Int) -> Int {
        precondition(n > 0, "below(n) needs n > 0")
        return Int(next() % UInt64(n))
    }

    /// A Double in [0, 1) from the top 53 bits.
    public mutating func nextDouble() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    /// The first `m` entries of a partial Fisher-Yates shuffle of 0..<n:
    /// `for i in 0..<m { j = i + next() % (n - i); swap(a[i], a[j]) }`, returned in draw order.
    public mutating func partialShuffle(n: Int, m: Int) -> [Int] {
        precondition(m >= 0 && m <= n, "partialShuffle needs 0 <= m <= n")
        var a = Array(0..<n)
        for i in 0..<m { a.swapAt(i, i + below(n - i)) }
        return Array(a[0..<m])
    }

    /// Shuffles in place: `for i in stride(from: n-1, to: 0, by: -1) { j = next() % (i+1); swap(a[i], a[j]) }`.
    public mutating func shuffle<T>(_ a: inout [T]) {
        var i = a.count - 1
        while i > 0 { a.swapAt(i, below(i + 1)); i -= 1 }
    }
}
