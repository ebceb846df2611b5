// TrainingTests: AdamW against a hand-computed step, the schedule, clipping, and a two-layer net fitting a toy task.
import Foundation
import Testing
import RecAlignNN
import RecAlignTensor

@Suite("Optimizers and training")
struct TrainingTests {
    @Test func adamWMatchesHandComputedSteps() {
        // One parameter p = [1, -2], lr 0.1, wd 0.01, betas (0.9, 0.999), eps 1e-8; gradients g1 = [0.5, -1], g2 = [0.5, 3].
        let p = Tensor([1, -2], shape: [2], requiresGrad: true)
        let opt = AdamW([ParamGroupEntry(name: "p", tensor: p, weightDecay: 0.01)], lr: 0.1)
        func step(_ g: [Float]) {
            p.zeroGrad(); _ = p.gradData; for i in 0..<2 { p.gradData[i] = g[i] }
            opt.step()
        }
        // Hand computation in Double (torch.optim.AdamW):
        var pv = [1.0, -2.0], m = [0.0, 0.0], v = [0.0, 0.0]
        for (t, g) in [[0.5, -1.0], [0.5, 3.0]].enumerated() {
            step(g.map(Float.init))
            if t == 0 {
                // By hand: m̂/√v̂ = ±1 at the first step, so p = p·(1 - 0.001) ∓ 0.1.
                #expect(abs(p[0] - 0.899) < 1e-6 && abs(p[1] - -1.898) < 1e-6, "first step \(p[0]), \(p[1])")
            }
            let bc1 = 1 - pow(0.9, Double(t + 1)), bc2 = 1 - pow(0.999, Double(t + 1))
            for i in 0..<2 {
                pv[i] *= 1 - 0.1 * 0.01
                m[i] = 0.9 * m[i] + 0.1 * g[i]
                v[i] = 0.999 * v[i] + 0.001 * g[i] * g[i]
                pv[i] -= 0.1 / bc1 * m[i] / (v[i].squareRoot() / bc2.squareRoot() + 1e-8)
            }
            for i in 0..<2 {
                let err: Double = abs(Double(p[i]) - pv[i])
                #expect(err < 1e-6, "step \(t + 1) p[\(i)] = \(p[i]) vs \(pv[i])")
            }
        }
    }

    @Test func sgdMomentumStep() {
        let p = Tensor([1], shape: [1], requiresGrad: true)
        let opt = SGD([ParamGroupEntry(name: "p", tensor: p, weightDecay: 0)], lr: 0.5, momentum: 0.9)
        p.gradData[0] = 2; opt.step()           // b = 2, p = 1 - 1 = 0
        #expect(p[0] == 0)
        p.gradData[0] = 2; opt.step()           // b = 0.9*2 + 2 = 3.8, p = -1.9
        #expect(abs(p[0] + 1.9) < 1e-6)
    }

    @Test func linearWarmupThenDecay() {
        let s = LinearWarmupSchedule(base: 1e-3, warmup: 10, total: 110)
        #expect(s.lr(at: 0) == 0)
        #expect(abs(s.lr(at: 5) - 5e-4) < 1e-9)
        #expect(abs(s.lr(at: 10) - 1e-3) < 1e-9)
        #expect(abs(s.lr(at: 60) - 5e-4) < 1e-9)
        #expect(s.lr(at: 110) == 0 && s.lr(at: 200) == 0)
    }

    @Test func clippingScalesToMaxNorm() {
        let a = Tensor([0, 0], shape: [2], requiresGrad: true), b = Tensor([0], shape: [1], requiresGrad: true)
        a.gradData[0] = 3; a.gradData[1] = 0; b.gradData[0] = 4
        let norm = clipGradNorm([a, b], maxNorm: 1)
        #expect(abs(norm - 5) < 1e-6)
        #expect(abs(a.gradData[0] - 0.6) < 1e-5 && abs(b.gradData[0] - 0.8) < 1e-5)
        let n2 = clipGradNorm([a, b], maxNorm: 10)     // below the bound: unchanged
        #expect(abs(n2 - 1) < 1e-5 && abs(b.gradData[0] - 0.8) < 1e-5)
    }

    @Test func twoLayerNetFitsToyTask() {
        // Classify 2-D points by the sign of x·y (XOR-like, not linearly separable).
        var rng = SeededRNG(seed: 42)
        let n = 256
        var xs = [Float](), labels = [Int]()
        for _ in 0..<n {
            let a = rng.nextFloat() * 2 - 1, b = rng.nextFloat() * 2 - 1
            xs += [a, b]; labels.append(a * b > 0 ? 1 : 0)
        }
        let x = Tensor(xs, shape: [n, 2])
        let l1 = Linear(2, 32, rng: &rng), l2 = Linear(32, 2, rng: &rng)
        let params = (l1.namedParameters() + l2.namedParameters()).map { ParamGroupEntry(name: $0.name, tensor: $0.tensor, weightDecay: 0) }
        let opt = AdamW(params, lr: 0.02)
        var first: Float = 0, last: Float = 0
        for step in 0..<400 {
            opt.zeroGrad()
            let loss = crossEntropy(l2(tanh(l1(x))), targets: labels)
            if step == 0 { first = loss[0] }
            last = loss[0]
            Autograd.backward(loss)
            opt.step()
        }
        let logits = Autograd.noGrad { l2(tanh(l1(x))) }
        let correct = (0..<n).filter { (logits[2 * $0 + 1] > logits[2 * $0] ? 1 : 0) == labels[$0] }.count
        #expect(first > 0.6, "starts near log 2: \(first)")
        #expect(last < 0.15, "final loss \(last)")
        #expect(correct >= 245, "accuracy \(correct)/\(n)")
    }
}
