// RatingBaselineTests: RMSE / MAE and the mean baselines by hand, biased MF (ALS) on an exactly low-rank matrix.
import Foundation
import Testing
import RecAlignData
import RecAlignMetrics
import RecAlignTensor
@testable import RecAlignRetrieval

@Suite struct RatingBaselineTests {
    @Test func rmseAndMaeByHand() {
        // Errors -1, 0, +3: squared 1 + 0 + 9, absolute 1 + 0 + 3.
        let e = RatingErrors(predicted: [3, 4, 5], truth: [4, 4, 2])
        #expect(e.count == 3)
        #expect(abs(e.rmse - (10.0 / 3).squareRoot()) < 1e-12)
        #expect(abs(e.mae - 4.0 / 3) < 1e-12)
        #expect(RatingErrors(predicted: [], truth: []) == RatingErrors(count: 0, rmse: 0, mae: 0))
    }

    /// Two users: u0 train [5, 3] (valid 4, test 2), u1 train [1] (valid 2, test 5). Items 0..3.
    static let tiny = RatingSplit(train: [5, 3, 1], offsets: [0, 2, 3], trainItems: [0, 1, 0], valid: [4, 2], test: [2, 5],
                                  validItems: [2, 1], testItems: [3, 3], scale: 1...5)

    @Test func meansByHand() {
        let r = RatingBaselineTests.tiny
        #expect(MeanRatings.global(r) == 3)                                          // (5 + 3 + 1) / 3
        #expect(MeanRatings.user(r, user: 0, stage: .valid, fallback: 3) == 4)      // (5 + 3) / 2
        #expect(MeanRatings.user(r, user: 0, stage: .test, fallback: 3) == 4)       // (5 + 3 + 4) / 3
        #expect(MeanRatings.user(r, user: 1, stage: .test, fallback: 3) == 1.5)     // (1 + 2) / 2
        let none = RatingSplit(train: [4], offsets: [0, 1, 1], trainItems: [0], valid: [4, 4], test: [4, 4],
                               validItems: [0, 0], testItems: [0, 0], scale: 1...5)
        #expect(MeanRatings.user(none, user: 1, stage: .valid, fallback: 3.25) == 3.25)  // no rating: the global mean
    }

    /// k = 0, one sweep: each user's bias is the ridge solution mean(r − μ) / (1 + λ) (λ·n_u against n_u ratings).
    @Test func oneUserStepIsTheRidgeSolution() throws {
        let r = RatingBaselineTests.tiny
        let m = try BiasedMF.fit(r, itemCount: 4, config: BiasedMFConfig(factors: 0, lambda: 0.5, iterations: 1))
        #expect(abs(m.mean - 3) < 1e-12)
        // User step (item biases 0): u0 (2 + 0) / 2 / 1.5, u1 (−2) / 1.5.
        let u0 = (2.0 + 0) / 2 / 1.5, u1 = -2.0 / 1.5
        #expect(abs(m.userBias[0] - u0) < 1e-12 && abs(m.userBias[1] - u1) < 1e-12)
        // Item step: item 0 has r − μ − b_u = 2 − u0 and −2 − u1 → sum / (2 · 1.5); item 1: (0 − u0) / 1.5.
        #expect(abs(m.itemBias[0] - ((2 - u0) + (-2 - u1)) / 3) < 1e-12)
        #expect(abs(m.itemBias[1] - (0 - u0) / 1.5) < 1e-12)
        #expect(m.itemBias[2] == 0 && m.itemBias[3] == 0)                           // no train ratings
        // Predictions are clipped to the scale.
        #expect(m.predict(user: (bias: 10, factors: []), item: 0) == 5)
    }

    /// r = 3 + b_u + b_i + p_u·q_i with rank 2, every user rating every item: ALS with k = 2 and a tiny λ
    /// recovers the train matrix and predicts the held-out entries far better than the user mean.
    @Test func mfRecoversAnExactlyLowRankMatrix() throws {
        let users = 40, items = 25, rank = 2
        var rng = SeededRNG(seed: 7)
        func g(_ s: Float) -> Double { Double(rng.nextGaussian() * s) }
        let bu = (0..<users).map { _ in g(0.4) }, bi = (0..<items).map { _ in g(0.4) }
        let p = (0..<(users * rank)).map { _ in g(0.6) }, q = (0..<(items * rank)).map { _ in g(0.6) }
        func rating(_ u: Int, _ i: Int) -> Float {
            Float(3 + bu[u] + bi[i] + (0..<rank).reduce(0.0) { $0 + p[u * rank + $1] * q[i * rank + $1] })
        }
        // Each user's items in a user-specific rotation: the last two are validation and test.
        var train: [Float] = [], trainItems: [Int32] = [], offsets = [0]
        var valid: [Float] = [], test: [Float] = [], validItems: [Int32] = [], testItems: [Int32] = []
        for u in 0..<users {
            let order = (0..<items).map { ($0 + u) % items }
            for i in order.dropLast(2) { train.append(rating(u, i)); trainItems.append(Int32(i)) }
            offsets.append(train.count)
            validItems.append(Int32(order[items - 2])); valid.append(rating(u, order[items - 2]))
            testItems.append(Int32(order[items - 1])); test.append(rating(u, order[items - 1]))
        }
        let all = train + valid + test
        let r = RatingSplit(train: train, offsets: offsets, trainItems: trainItems, valid: valid, test: test,
                            validItems: validItems, testItems: testItems, scale: all.min()!...all.max()!)
        let m = try BiasedMF.fit(r, itemCount: items, config: BiasedMFConfig(factors: rank, lambda: 1e-6, iterations: 60))
        var predicted: [Float] = []
        for u in 0..<users { for j in r.offsets[u]..<r.offsets[u + 1] { predicted.append(m.predict(userRow: u, item: Int(r.trainItems[j]))) } }
        let fit = RatingErrors(predicted: predicted, truth: train)
        #expect(fit.rmse < 0.01, "train RMSE \(fit.rmse)")
        let mfTest = RatingErrors(predicted: m.predictHeldOut(r, stage: .test), truth: test)
        let userMean = RatingErrors(predicted: (0..<users).map { MeanRatings.user(r, user: $0, stage: .test, fallback: 3) }, truth: test)
        #expect(mfTest.rmse < 0.05, "test RMSE \(mfTest.rmse)")
        #expect(mfTest.rmse < userMean.rmse / 5, "MF \(mfTest.rmse) vs user mean \(userMean.rmse)")

        // The grid search picks a setting on validation and beats the user mean on test too.
        let run = try RatingBaselines.run(r, itemCount: items, stage: .test, factors: [1, 2], lambdas: [1e-4, 0.1], maxIterations: 20)
        #expect(run.grid.count == 2 * 2 * 20)
        #expect(run.chosen.config.factors == 2)
        #expect(run.chosen.validRMSE == run.grid.map(\.validRMSE).min())
        #expect(RatingErrors(predicted: run.mf, truth: test).rmse < userMean.rmse / 5)
        #expect(run.userMean == (0..<users).map { MeanRatings.user(r, user: $0, stage: .test, fallback: 3) })
        #expect(run.globalMean.allSatisfy { $0 == MeanRatings.global(r) })
        // Seeded: the same fit twice gives the same model.
        let again = try BiasedMF.fit(r, itemCount: items, config: BiasedMFConfig(factors: rank, lambda: 1e-6, iterations: 60))
        #expect(again.itemFactors == m.itemFactors)
    }

    @Test func badSettingsAreRefused() {
        let r = RatingBaselineTests.tiny
        #expect(throws: RetrievalError.self) { try BiasedMF.fit(r, itemCount: 4, config: BiasedMFConfig(lambda: 0)) }
        #expect(throws: RetrievalError.self) { try BiasedMF.fit(r, itemCount: 4, config: BiasedMFConfig(factors: -1)) }
        #expect(throws: RetrievalError.self) { try BiasedMF.fit(r, itemCount: 1, config: BiasedMFConfig()) }  // item row 1 ≥ 1
    }
}
