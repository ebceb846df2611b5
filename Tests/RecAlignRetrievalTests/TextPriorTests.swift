// TextPriorTests: the text popularity prior's fit (optimality, a closed-form case), λ selection, augmentation, errors.
import Foundation
import Testing
@testable import RecAlignRetrieval
import RecAlignData

@Suite struct TextPriorTests {
    /// ∇L(w) = Xᵀ(p − c/N) + 2λw over the `known` rows, computed here independently in Double.
    func gradient(_ w: [Double], items: [Float], dim: Int, counts: [Double], known: [Int], l2: Double) -> [Double] {
        let z = known.map { r in (0..<dim).reduce(0.0) { $0 + Double(items[r * dim + $1]) * w[$1] } }
        let m = z.max()!, e = z.map { exp($0 - m) }, s = e.reduce(0, +)
        let n = known.reduce(0.0) { $0 + counts[$1] }
        var g = w.map { 2 * l2 * $0 }
        for (k, r) in known.enumerated() {
            let resid = e[k] / s - counts[r] / n
            for c in 0..<dim { g[c] += Double(items[r * dim + c]) * resid }
        }
        return g
    }

    /// Prior rows name a non-default prior, so two priors never share a row label.
    @Test func priorRowsNameTheirCountsAndWeight() {
        var plan = EvaluationPlan()
        plan.priorWeight = PriorTarget.defaultWeight
        #expect(plan.priorLabel == " + text prior")
        plan.priorRecent = 3; plan.priorWeight = 2
        #expect(plan.priorLabel == " + text prior (last 3, weight 2)")
        plan.priorRecent = 0; plan.priorWeight = 0.1
        #expect(plan.priorLabel == " + text prior (weight 0.1)")
    }

    @Test func oneHotItemsRecoverTheLogCountRatios() throws {
        // X = I: the softmax over w itself, whose maximum-likelihood point is w_i = log c_i + const.
        let n = 4, counts: [Double] = [1, 2, 4, 8]
        var items = [Float](repeating: 0, count: n * n)
        for i in 0..<n { items[i * n + i] = 1 }
        let prior = try TextPopularityPrior.fit(items: items, dim: n, counts: counts, known: Array(0..<n), l2: 1e-9)
        for i in 1..<n {
            #expect(abs((prior.weights[i] - prior.weights[0]) - log(counts[i] / counts[0])) < 1e-5, "\(prior.weights)")
        }
    }

    @Test func fittedWeightsZeroTheGradient() throws {
        var rng = TestRNG(3)
        let n = 80, d = 6
        let items = rng.gaussians(n * d)
        let counts = (0..<n).map { _ in Double(rng.int(12)) }
        let known = (0..<n).filter { $0 % 7 != 0 }                 // some rows are "cold": not fitted on
        for l2 in [1e-1, 1e-3] {
            let prior = try TextPopularityPrior.fit(items: items, dim: d, counts: counts, known: known, l2: l2)
            let g = gradient(prior.weights, items: items, dim: d, counts: counts, known: known, l2: l2)
            #expect(g.allSatisfy { abs($0) < 1e-9 }, "λ \(l2): gradient \(g)")
            #expect(try prior.values(items: items).count == n)      // cold rows get a prior too
        }
    }

    @Test func crossValidationRegularisesNoiseAndNotSignal() throws {
        var rng = TestRNG(5)
        let n = 300, d = 8
        let items = rng.gaussians(n * d)
        // Signal: counts grow with the first feature. Noise: counts unrelated to the features.
        let signal = (0..<n).map { Double((4 * exp(1.5 * Double(items[$0 * d]))).rounded()) }
        let noise = (0..<n).map { _ in Double(rng.int(10)) }
        let grid = [1e-1, 1e-2, 1e-3, 1e-4]
        let s = try TextPopularityPrior.select(items: items, dim: d, counts: signal, known: Array(0..<n), grid: grid)
        let z = try TextPopularityPrior.select(items: items, dim: d, counts: noise, known: Array(0..<n), grid: grid)
        for p in [s, z] {
            #expect(p.selection.map(\.l2) == grid.sorted(by: >))
            #expect(p.l2 == p.selection.max { $0.heldOut < $1.heldOut }!.l2)
        }
        #expect(s.l2 < 1e-1, "\(s.selection)")
        #expect(z.l2 == 1e-1, "\(z.selection)")
        // The fitted signal prior orders unseen-looking items by their first feature.
        #expect(s.weights[0] > 1)
    }

    @Test func augmentedTowersScoreCosinePlusWeightedPrior() throws {
        var rng = TestRNG(9)
        let d = 5, nu = 3, ni = 7
        let users = rng.gaussians(nu * d), items = rng.gaussians(ni * d)
        let prior = try TextPopularityPrior.fit(items: items, dim: d, counts: (0..<ni).map { Double($0 + 1) },
                                                known: Array(0..<ni), l2: 1e-2)
        let p = try prior.values(items: items)
        let a = try prior.augment(users: users, items: items, weight: 0.05)
        #expect(a.dim == d + 1)
        for u in 0..<nu { for i in 0..<ni {
            var plain = 0.0, widened = 0.0
            for c in 0..<d { plain += Double(users[u * d + c]) * Double(items[i * d + c]) }
            for c in 0...d { widened += Double(a.users[u * (d + 1) + c]) * Double(a.items[i * (d + 1) + c]) }
            let expected = plain + 0.05 * Double(p[i])
            #expect(abs(widened - expected) < 1e-5)
        } }
    }

    @Test func badInputNamesTheField() {
        let items: [Float] = [1, 0, 0, 1, 1, 1]
        func field(_ body: () throws -> Void) -> String? {
            do { try body(); return nil } catch let e as RetrievalError { return "\(e)" } catch { return "other" }
        }
        #expect(field { _ = try TextPopularityPrior.fit(items: items, dim: 2, counts: [1, 2], known: [0, 1], l2: 1e-2) }?.contains("counts") == true)
        #expect(field { _ = try TextPopularityPrior.fit(items: items, dim: 2, counts: [0, 0, 0], known: [0, 1, 2], l2: 1e-2) }?.contains("counts") == true)
        #expect(field { _ = try TextPopularityPrior.fit(items: items, dim: 2, counts: [1, 2, 3], known: [0, 1], l2: 0) }?.contains("l2") == true)
        #expect(field { _ = try TextPopularityPrior.fit(items: items, dim: 2, counts: [1, 2, 3], known: [0, 5], l2: 1e-2) }?.contains("known") == true)
        #expect(field { _ = try TextPopularityPrior.fit(items: [1, 2, 3], dim: 2, counts: [1], known: [0], l2: 1e-2) } != nil)
    }

    @Test func recentCountsKeepEachUsersLastInteractions() {
        // Two users' train sequences over 4 items: [0, 1, 2, 3] and [1, 3]; item 3 is cold. Held-out rows are
        // placeholders (the counts read the train sequences only).
        let train = InteractionSequences(offsets: [0, 4, 6], items: [0, 1, 2, 3, 1, 3], timestamps: [1, 2, 3, 4, 1, 2])
        let held = [HeldOut(itemRow: 0, timestamp: 9), HeldOut(itemRow: 0, timestamp: 9)]
        let split = Split(userIds: ["a", "b"], itemIds: ["0", "1", "2", "3"], train: train, valid: held, test: held,
                          cold: ColdSplit(coldItems: [3], itemCount: 4, warmTrain: train, valid: held, test: held))
        // By hand. Warm, all: 0→1, 1→2, 2→1, 3→2. Last 2 per user: [2, 3] and [1, 3] → 0, 1, 1, 2.
        #expect(PriorTarget(split: split, setting: .warm).counts == [1, 2, 1, 2])
        #expect(PriorTarget(split: split, setting: .warm, recent: 2).counts == [0, 1, 1, 2])
        // Cold train drops item 3 first: [0, 1, 2] and [1]; the last one of each: 2 and 1. Known rows exclude 3.
        let cold = PriorTarget(split: split, setting: .cold, recent: 1)
        #expect(cold.counts == [0, 1, 1, 0] && cold.known == [0, 1, 2])
    }
}
