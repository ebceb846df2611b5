// CoreBench: the tensor library's matmul and element-wise kernels against bare sgemm and a plain copy, in one run.
// Run: swift run -c release CoreBench [--reps N]
import Foundation
import CBLAS
import RecAlignNN
import RecAlignTensor

let args = CommandLine.arguments
let reps = args.firstIndex(of: "--reps").flatMap { Int(args[$0 + 1]) } ?? 7

/// Seconds one call of `body` takes.
func time(_ body: () -> Void) -> Double {
    let t0 = DispatchTime.now().uptimeNanoseconds
    body()
    return Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
}

/// Best wall time (seconds) of `reps` runs after one warm-up.
func best(_ body: () -> Void) -> Double {
    body()
    return (0..<reps).map { _ in time(body) }.min()!
}

/// Best times of two bodies measured alternately (so host load drifts hit both alike).
func bestPair(_ a: () -> Void, _ b: () -> Void) -> (Double, Double) {
    a(); b()
    var ta = Double.infinity, tb = Double.infinity
    for _ in 0..<reps { ta = min(ta, time(a)); tb = min(tb, time(b)) }
    return (ta, tb)
}

var rng = SeededRNG(seed: 1)
print("CoreBench: OpenBLAS threads \(BLAS.threads), workers \(Parallel.workers), best of \(reps)")
print("")
print("| matmul (M=2048) | bare sgemm GFLOP/s | RecAlign GFLOP/s | ratio |")
print("| --- | --- | --- | --- |")
var ratios: [Double] = []
for (k, n) in [(384, 384), (384, 1536), (1536, 384), (1536, 1536)] {
    let m = 2048
    let a = Tensor.uniform([m, k], -1, 1, rng: &rng), w = Tensor.uniform([n, k], -1, 1, rng: &rng)
    let c = Tensor(zeros: [m, n])
    let flops = 2.0 * Double(m * n * k)
    // Bare: C = A Wᵀ into a preallocated buffer (the linear layer's product).
    // RecAlign: the tensor op (allocates its output, as in a forward pass).
    let (tBare, tLib) = bestPair({
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(m), Int32(n), Int32(k), 1, a.data, Int32(k),
                    w.data, Int32(k), 0, c.data, Int32(n))
    }, { _ = Autograd.noGrad { matmul(a, w, transB: true) } })
    let r = tBare / tLib
    ratios.append(r)
    print(String(format: "| %d x %d x %d | %.1f | %.1f | %.3f |", m, k, n, flops / tBare / 1e9, flops / tLib / 1e9, r))
}

// Memory bandwidth: a plain copy of the same size (read + write bytes).
func gbps(bytes: Double, _ t: Double) -> Double { bytes / t / 1e9 }
print("")
print("| kernel | shape | GB/s | copy GB/s | fraction of copy |")
print("| --- | --- | --- | --- | --- |")
for shape in [[2048, 1536], [32, 12, 128, 128]] {
    let x = Tensor.uniform(shape, -3, 3, rng: &rng)
    let dst = Tensor(zeros: shape)
    let bytes = Double(x.count * 4 * 2)
    let tCopy = best {
        Parallel.chunks(x.count) { lo, hi in (dst.data + lo).update(from: x.data + lo, count: hi - lo) }
    }
        let c = shape.last!
    let gamma = Tensor.full([c], 1), beta = Tensor(zeros: [c])
    let mask = Tensor(zeros: [shape[0], c])
    let kernels: [(String, () -> Void)] = [
        ("GELU", { _ = gelu(x) }),
        ("LayerNorm", { _ = layerNorm(x, gamma: gamma, beta: beta, eps: 1e-12) }),
        ("softmax+mask", { _ = softmax(x, mask: mask) }),
    ]
    // Bytes each kernel moves: input read + output written, and for softmax also its mask rows ([B, S]: one
    // per row of the 2-D shape, one per batch item of the 4-D one).
    for (name, k) in kernels {
        let moved = name.hasPrefix("softmax") ? bytes + Double(mask.count * 4) : bytes
        let (tc, t) = bestPair({
            Parallel.chunks(x.count) { lo, hi in (dst.data + lo).update(from: x.data + lo, count: hi - lo) }
        }, { Autograd.noGrad(k) })
        let g = gbps(bytes: moved, t), copyNow = gbps(bytes: bytes, min(tc, tCopy))
        print(String(format: "| %@ | %@ | %.1f | %.1f | %.2f |", name, "\(shape)", g, copyNow, g / copyNow))
    }
}
print("")
print(String(format: "matmul: worst ratio to bare sgemm %.3f (target >= 0.95)", ratios.min()!))
