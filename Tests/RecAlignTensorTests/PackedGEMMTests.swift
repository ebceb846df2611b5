// PackedGEMMTests: the linear layer through OpenBLAS's kernel with prepacked weights equals the cblas_sgemm path.
import Foundation
import Testing
import RecAlignNN

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
        layer.packed.forward = try #require(PackedWeight(layer.weight))
        let threaded = Autograd.noGrad { layer(x) }.array
        let serial = Parallel.serially { Autograd.noGrad { layer(x) }.array }
        for got in [threaded, serial] {
            let err = zip(got, want).map { abs($0 - $1) / max(1, abs($1)) }.max() ?? 0
            #expect(err <= 1e-5, "max relative difference \(err)")
        }
        // With a gradient needed, the packed copy is not used (it could be stale during training).
        let xg = Tensor(x.array, shape: x.shape, requiresGrad: true)
        #expect(layer(xg).array == want)
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
        layer.packed = (try #require(PackedWeight(layer.weight)), try #require(PackedWeight(layer.weight, transposed: true)))
        let packed = run()
        for (got, want) in [(packed.y, plain.y), (packed.dx, plain.dx)] {
            let err = zip(got, want).map { abs($0 - $1) / max(1, abs($1)) }.max() ?? 0
            #expect(err <= 1e-5, "max relative difference \(err)")
        }
        // A trainable weight never reads its packs (they would go stale at the first optimizer step).
        layer.weight.enableGrad()
        let x = Tensor(xv, shape: [c.rows, c.nIn])
        #expect(layer(x).array == Autograd.noGrad { linear(x, weight: layer.weight, bias: layer.bias) }.array)
        Autograd.clearTape()
    }
}
