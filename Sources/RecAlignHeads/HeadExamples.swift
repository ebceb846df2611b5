// HeadExamples: training examples for heads from train sequences (PROTOCOL section 6 targets, no text).
import Foundation
import RecAlignData

/// A slice of one user's train sequence: inputs h[start ..< end], targets h[start + 1 ... end].
/// Windows of a user cover each position t >= 1 exactly once as a target.
public struct SequenceWindow: Equatable, Sendable {
    public var user: Int32
    public var start: Int
    public var end: Int
    public init(user: Int32, start: Int, end: Int) { self.user = user; self.start = start; self.end = end }
}

public enum HeadExamples {
    /// Windows of at most `length` inputs ending at the last train item of each user, then stepping back:
    /// for h of length L, ends e = L-1, L-1-length, ... (> 0), start = max(0, e - length).
    public static func windows(_ sequences: InteractionSequences, length: Int) -> [SequenceWindow] {
        var out: [SequenceWindow] = []
        for u in 0..<sequences.userCount {
            var e = sequences.length(ofUser: u) - 1
            while e > 0 {
                out.append(SequenceWindow(user: Int32(u), start: max(0, e - length), end: e))
                e -= length
            }
        }
        return out
    }

    /// A seeded shuffle of 0..<n (Fisher-Yates with SplitMix64(seed)).
    public static func shuffled(_ n: Int, seed: UInt64) -> [Int] {
        var a = Array(0..<n)
        var rng = SplitMix64(seed: seed)
        if n > 1 { for i in stride(from: n - 1, to: 0, by: -1) { a.swapAt(i, Int(rng.next() % UInt64(i + 1))) } }
        return a
    }
}
