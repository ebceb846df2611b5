// PackedGEMMTests: the linear layer through OpenBLAS's kernel with prepacked weights equals the cblas_sgemm path.
import Foundation
import Testing
import RecAlignNN
import RecAlignTensor

@Suite("Prepacked weights (OpenBLAS kernel)")
struct PackedGEMMTests {
    @Test func kernelsAreFoundOnThisMachine() throws {
        // Debian's DYNAMIC_ARCH OpenBLAS exports the per-core kernels; on x86-64 Linux the fast path must be live.
        #if os(Linux) && arch(x86_64)
        let k = try #require(OpenBLASKernels.shared)
        #expect(!k.core.isEmpty)
        #endif
    }

    /// Shapes with partial panels, two K blocks (K > 384), more rows than one packed block (512), with and
    /// without bias; on the calling thread (data-parallel worker) and split over the cores.
    @Test(arguments: [(rows: 3, nIn: 7, nOut: 5, bias: true), (rows: 37, nIn: 70, nOut: 29, bias: false),
                      (rows: 600, nIn: 400, nOut: 1155, bias: true), (rows: 1024, nIn: 1536, nOut: 384, bias: true)])
    func packedLinearEqualsCBLAS(_ c: (rows: Int, nIn: Int, nOut: Int, bias: Bool)) throws {
        guard OpenBLASKernels.shared != nil else { return }
        var rng = SeededRNG(seed: UInt64(c.rows * 7 + c.nOut))
        let layer = Linear(c.nIn, c.nOut, bias: c.bias, rng: &rng)
        let x = Tensor(randomValues(c.rows * c.nIn, seed: 5), shape: [c.rows, c.nIn])
        let want = Autograd.noGrad { layer(x) }.array
        layer.packed.forward = PackedWeight(layer.weight)
        let threaded = Autograd.noGrad { layer(x) }.array
        let serial = Parallel.serially { Autograd.noGrad { layer(x) }.array }
        for got in [threaded, serial] { #expect(maxRelativeDifference(got, want) <= 1e-5) }
        // With a gradient needed, the packed copy is not used (it could be stale during training): a pack of
        // zeros changes nothing there, while the no-grad product reads it (only the bias is left).
        layer.packed.forward = PackedWeight(Tensor(zeros: layer.weight.shape))
        let xg = Tensor(x.array, shape: x.shape, requiresGrad: true)
        #expect(maxRelativeDifference(layer(xg).array, want) <= 1e-5)
        let stale = Autograd.noGrad { layer(x) }.array
        #expect(stale == (0..<c.rows).flatMap { _ in layer.bias?.array ?? [Float](repeating: 0, count: c.nOut) })
        Autograd.clearTape()
    }

    /// A frozen layer in training: the forward product and the input gradient through the packed copies
    /// equal the cblas ones (partial panels, two K blocks, both directions over 384 inputs / outputs).
    @Test(arguments: [(rows: 37, nIn: 70, nOut: 29), (rows: 300, nIn: 1536, nOut: 400), (rows: 64, nIn: 400, nOut: 1536)])
    func frozenLayerTrainsThroughPackedWeights(_ c: (rows: Int, nIn: Int, nOut: Int)) throws {
        guard OpenBLASKernels.shared != nil else { return }
        var rng = SeededRNG(seed: UInt64(c.rows + c.nIn))
        let layer = Linear(c.nIn, c.nOut, rng: &rng)
        layer.freeze()
        let xv = randomValues(c.rows * c.nIn, seed: 9), g = randomValues(c.rows * c.nOut, seed: 10)
        func run() -> (y: [Float], dx: [Float]) {
            let x = Tensor(xv, shape: [c.rows, c.nIn], requiresGrad: true)
            let y = layer(x)
            Autograd.backward(sum(mul(y, Tensor(g, shape: [c.rows, c.nOut]))))
            return (y.array, x.grad!.array)
        }
        let plain = run()
        layer.packed = (PackedWeight(layer.weight), PackedWeight(layer.weight, transposed: true))
        let packed = run()
        #expect(maxRelativeDifference(packed.y, plain.y) <= 1e-5)
        #expect(maxRelativeDifference(packed.dx, plain.dx) <= 1e-5)
        // A trainable weight never reads its packs (they would go stale at the first optimizer step): packs of
        // zeros leave its forward and input gradient as they were.
        layer.weight.enableGrad()
        let zero = Tensor(zeros: layer.weight.shape)
        layer.packed = (PackedWeight(zero), PackedWeight(zero, transposed: true))
        let trainable = run()
        #expect(maxRelativeDifference(trainable.y, plain.y) <= 1e-5)
        #expect(maxRelativeDifference(trainable.dx, plain.dx) <= 1e-5)
        Autograd.clearTape()
    }
}

/// max |a - b| / max(1, |b|) over the elements (infinity when the counts differ). Exact equality is not
/// expected between the cblas and packed paths, nor between two cblas calls while other tests change
/// OpenBLAS's thread count (edge panels then fall elsewhere).
func maxRelativeDifference(_ a: [Float], _ b: [Float]) -> Float {
    guard a.count == b.count else { return .infinity }
    return zip(a, b).map { abs($0 - $1) / max(1, abs($1)) }.max() ?? 0
}
