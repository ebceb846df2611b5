// AutogradModeTests: no-grad mode records nothing, frozen parameters get no gradient, views share gradients.
import Foundation
import Testing
import RecAlignNN
import RecAlignTensor

@Suite("Autograd modes")
struct AutogradModeTests {
    @Test func noGradRecordsNothingAndGivesSameValues() {
        Autograd.clearTape()
        var rng = SeededRNG(seed: 1)
        let layer = Linear(5, 3, rng: &rng)
        let x = Tensor(randomValues(10, seed: 2), shape: [2, 5])
        let y1 = Autograd.noGrad { gelu(layer(x)) }
        #expect(Autograd.recordedCount == 0)
        #expect(!y1.requiresGrad)
        let y2 = gelu(layer(x))
        #expect(Autograd.recordedCount == 2, "linear and gelu recorded")
        #expect(y1.array == y2.array)
        Autograd.clearTape()
    }

    @Test func frozenParameterGetsNoGradientBuffer() {
        var rng = SeededRNG(seed: 3)
        let first = Linear(4, 6, rng: &rng), second = Linear(6, 2, rng: &rng)
        first.freeze()
        let x = Tensor(randomValues(12, seed: 4), shape: [3, 4])
        let loss = sum(second(gelu(first(x))))
        Autograd.backward(loss)
        #expect(first.weight.gradBox == nil && first.bias?.gradBox == nil, "frozen: no buffer at all")
        #expect(!first.weight.hasGrad)
        #expect(second.weight.hasGrad && second.bias!.hasGrad)
        // Nothing upstream requires a gradient, so the first layer's output did not either: no backward work.
        let h = first(x)
        #expect(!h.requiresGrad)
        Autograd.clearTape()
    }

    /// Backward closures keep only the values their derivative reads: through a frozen linear layer (dX = dY·W)
    /// and GELU's output, dropout and add, the intermediate activations are freed once the forward drops
    /// them, while a trainable weight keeps its input alive for dW. The gradient still arrives.
    @Test func backwardKeepsOnlyTheValuesItReads() {
        Autograd.clearTape()
        var rng = SeededRNG(seed: 11)
        let frozen = Linear(4, 4, rng: &rng), trainable = Linear(4, 4, rng: &rng)
        frozen.freeze()
        let x = Tensor(randomValues(8, seed: 12), shape: [2, 4], requiresGrad: true)
        weak var hFrozen: Tensor?, hGelu: Tensor?, hDrop: Tensor?, hTrain: Tensor?
        var loss: Tensor
        do {
            let a = gelu(x)                       // GELU keeps x, not its output
            let b = frozen(a)                     // frozen W: `a` is not needed backward
            let c = dropout(b, p: 0.5, rng: &rng) // keeps a byte mask, not b or c
            let d = add(c, x)
            let e = trainable(d)                  // trainable W: keeps `d` for dW
            hGelu = a; hFrozen = b; hDrop = c; hTrain = d
            loss = sum(e)
        }
        #expect(hGelu == nil, "GELU output kept alive although only a frozen layer read it")
        #expect(hFrozen == nil && hDrop == nil, "dropout input / output kept alive")
        #expect(hTrain != nil, "a trainable layer's input must stay alive for dW")
        Autograd.backward(loss)
        #expect(x.hasGrad && trainable.weight.hasGrad)
        #expect(x.grad!.array.contains { $0 != 0 })
    }

    /// Inside `withoutRandomInit` (models whose weights are loaded next) the random factories give zeros on
    /// this thread only; outside they draw from the generator as before.
    @Test func randomInitCanBeSkipped() {
        var rng = SeededRNG(seed: 21)
        let skipped = Tensor.withoutRandomInit { Linear(8, 4, rng: &rng) }
        #expect(skipped.weight.array.allSatisfy { $0 == 0 } && skipped.bias!.array.allSatisfy { $0 == 0 })
        let drawn = Linear(8, 4, rng: &rng)
        #expect(drawn.weight.array.contains { $0 != 0 })
        #expect(Tensor.normal([16], std: 1, rng: &rng).array.contains { $0 != 0 })
    }

    @Test func onlyInputsThatNeedItGetGradients() {
        var rng = SeededRNG(seed: 5)
        let layer = Linear(3, 2, rng: &rng)
        let x = Tensor(randomValues(6, seed: 6), shape: [2, 3])   // data: no gradient
        Autograd.backward(sum(layer(x)))
        #expect(x.gradBox == nil)
        // d/dW Σ (x Wᵀ + b) = column sums of x, repeated for each output row; d/db = rows.
        let g = layer.weight.grad!.array, gb = layer.bias!.grad!.array
        for o in 0..<2 { for i in 0..<3 { #expect(abs(g[o * 3 + i] - (x[i] + x[3 + i])) < 1e-6) } }
        #expect(gb == [2, 2])
    }

    @Test func gradientsAccumulateAcrossBackwardCalls() {
        let w = Tensor([1, 2, 3], shape: [3], requiresGrad: true)
        for _ in 0..<3 { Autograd.backward(sum(scale(w, 2))) }
        #expect(w.grad!.array == [6, 6, 6])
        w.zeroGrad()
        #expect(w.grad!.array == [0, 0, 0])
    }

    @Test func vectorMathAccuracy() {
        var maxErfErr: Float = 0, maxExpRel: Float = 0, maxTanhErr: Float = 0
        var x: Float = -9
        while x < 9 {
            maxErfErr = max(maxErfErr, abs(fastErf(x) - Float(Foundation.erf(Double(x)))))
            maxTanhErr = max(maxTanhErr, abs(fastTanh(x) - Float(Foundation.tanh(Double(x)))))
            let e = Foundation.exp(Double(x))
            maxExpRel = max(maxExpRel, Float(abs(Double(fastExp(x)) - e) / e))
            x += 0.001
        }
        #expect(maxErfErr < 1e-6, "erf max abs error \(maxErfErr)")
        #expect(maxExpRel < 3e-7, "exp max rel error \(maxExpRel)")
        #expect(maxTanhErr < 1e-6, "tanh max abs error \(maxTanhErr)")
    }
}
