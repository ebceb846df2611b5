// TrainingLoopTests: the shared loop core with fake steps and metrics (rates, best so far, patience, NaN stop).
import Foundation
import Testing
import RecAlignNN
import RecAlignTensor

@Suite struct TrainingLoopTests {
    struct Failed: Error, Equatable { let value: Float }

    static func loop(patience: Int) -> TrainingLoop<Double> {
        TrainingLoop(schedule: LinearWarmupSchedule(base: 1, warmup: 2, total: 10), patience: patience,
                     isBetter: { m, best in best.map { m > $0 } ?? true })
    }

    @Test func stepsRunAtTheScheduleRate() throws {
        let w = Tensor([1, 2], shape: [2], requiresGrad: true)
        let opt = SGD([ParamGroupEntry(name: "w", tensor: w, weightDecay: 0)], lr: 99)
        let l = Self.loop(patience: 0)
        var seen: [Float] = []
        for s in 0..<4 { _ = l.step(s, optimizer: opt) { lr in seen.append(lr); return 0 } }
        #expect(seen == [0, 0.5, 1, 0.875])
        #expect(opt.lr == 0.875)
    }

    @Test func keepsTheBestSoFarAndStopsAfterPatience() {
        var l = Self.loop(patience: 2)
        var saved: [Int] = []
        var verdicts: [(Bool, Bool)] = []
        // Better, worse, tie (not better), better, worse, worse -> stop at the last one.
        for (step, m) in [(0, 0.1), (5, 0.05), (10, 0.1), (15, 0.3), (20, 0.2), (25, 0.29)] {
            let v = l.validated(m, at: step) { saved.append(step) }
            verdicts.append((v.isBest, v.stop))
        }
        #expect(saved == [0, 15])
        #expect(verdicts.map(\.0) == [true, false, false, true, false, false])
        #expect(verdicts.map(\.1) == [false, false, true, false, false, true])
        #expect(l.best == 0.3 && l.bestStep == 15 && l.badValidations == 2 && l.shouldStop)
    }

    @Test func noPatienceNeverStops() {
        var l = Self.loop(patience: 0)
        _ = l.validated(1, at: 0) {}
        for s in 1...20 { #expect(!l.validated(0, at: s) {}.stop) }
        #expect(l.badValidations == 20)
    }

    @Test func resumesFromSavedSelectionState() {
        var l = TrainingLoop<Double>(schedule: LinearWarmupSchedule(base: 1, warmup: 0, total: 1), patience: 2,
                                     isBetter: { m, best in best.map { m > $0 } ?? true },
                                     best: 0.5, bestStep: 7, badValidations: 1)
        #expect(l.validated(0.4, at: 9) {}.stop)
        #expect(l.best == 0.5 && l.bestStep == 7)
    }

    @Test func nonFiniteLossStopsBeforeAnyGradient() throws {
        let w = Tensor([1, 2], shape: [2], requiresGrad: true)
        let opt = SGD([ParamGroupEntry(name: "w", tensor: w, weightDecay: 0)], lr: 0.1)
        let l = Self.loop(patience: 0)
        // A finite loss: backward, clipping (norm of [2, 4] -> 1), step, zeroed gradient.
        let good = try l.update(sum(mul(w, w)), parameters: [w], optimizer: opt, maxGradNorm: 1) { Failed(value: $0) }
        #expect(good == 5)
        let expected: Float = 1 - 0.1 * 2 / Float(20).squareRoot()
        #expect(abs(w.array[0] - expected) < 1e-6)
        #expect(w.gradIfAllocated.map { $0[0] == 0 && $0[1] == 0 } ?? true)
        // A NaN loss: the error is thrown, the weights and gradients untouched.
        let before = w.array
        let nan = scale(sum(mul(w, w)), .nan)
        #expect(throws: Failed.self) {
            _ = try l.update(nan, parameters: [w], optimizer: opt, maxGradNorm: 1) { Failed(value: $0) }
        }
        #expect(w.array == before)
        #expect(w.gradIfAllocated.map { $0[0] == 0 && $0[1] == 0 } ?? true)
    }
}
