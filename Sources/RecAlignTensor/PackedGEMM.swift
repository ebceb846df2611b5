// PackedGEMM: y += x·Wᵀ (or x·W) with W packed once for OpenBLAS's own micro-kernel, as ONNX Runtime prepacks weights.
import CBLAS
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// OpenBLAS's single-precision GEMM micro-kernel and packing routines for the core it runs on, found by
/// name (`sgemm_kernel_ZEN`, `sgemm_incopy_ZEN`, `sgemm_itcopy_ZEN`, `sgemm_oncopy_ZEN`; Debian's
/// DYNAMIC_ARCH build exports them). `cblas_sgemm` packs both operands on every call; within an `encode`
/// call, and for frozen weights in training, the weights never change, so `PackedWeight` packs them once
/// and `BLAS.gemmPacked` packs only the activations (11% of the length-32 encode profile was packing). The layout is probed and the whole path is checked against `cblas_sgemm`
/// on first use; `shared` is nil when a symbol is missing or the check fails (callers then use cblas), or
/// when `RECALIGN_OPENBLAS_KERNELS=0` (for A/B timing).
public struct OpenBLASKernels: @unchecked Sendable {
    /// C[m, n] (column-major, ldc) += alpha · A·B from packed A panels (k x `panelA`) and B panels.
    typealias Kernel = @convention(c) (Int, Int, Int, Float, UnsafePointer<Float>?, UnsafePointer<Float>?,
                                       UnsafeMutablePointer<Float>?, Int) -> Int32
    /// Packs an m x n column-major block (lda) into panels.
    typealias Copy = @convention(c) (Int, Int, UnsafePointer<Float>?, Int, UnsafeMutablePointer<Float>?) -> Int32

    let kernel: Kernel
    /// Packs A from a source whose k index is contiguous (a weight row W[o, 0..<K]): m = k, n = outputs.
    let packA: Copy
    /// Packs A from a source whose output index is contiguous (W [out, in] as the operand of dX = dY·W,
    /// whose outputs are `in`): m = k, n = outputs.
    let packATransposed: Copy
    /// Packs B from a source whose k index is contiguous (an activation row X[r, 0..<K]): m = k, n = rows.
    let packB: Copy
    /// Outputs per A panel (probed; 8 with this host's Zen kernel).
    let panelA: Int
    /// The core OpenBLAS chose (`openblas_get_corename`).
    public let core: String

    /// K block (packed A and B hold this many k per block) and output block (a multiple of `panelA`).
    static let kBlock = 384
    var outputBlock: Int { max(panelA, 512 / panelA * panelA) }
    /// Rows of x packed at once.
    static let rowBlock = 512

    /// The kernels of this process's OpenBLAS core, checked; nil if unavailable.
    public static let shared: OpenBLASKernels? = {
        if ProcessInfo.processInfo.environment["RECALIGN_OPENBLAS_KERNELS"] == "0" { return nil }
        FloatEnvironment.enter()   // its check calls cblas_sgemm
        guard let name = openblas_get_corename() else { return nil }
        let core = String(cString: name)
        let suffix = core.uppercased()
        func symbol(_ s: String) -> UnsafeMutableRawPointer? { dlsym(UnsafeMutableRawPointer(bitPattern: 0), s + "_" + suffix) }
        guard let k = symbol("sgemm_kernel"), let a = symbol("sgemm_incopy"), let at = symbol("sgemm_itcopy"),
              let b = symbol("sgemm_oncopy") else { return nil }
        let packA = unsafeBitCast(a, to: Copy.self)
        // Panel width: pack a 2 x 64 block whose k = 0 entries are 0 and k = 1 entries 1; the first panel
        // holds `panelA` zeros (k = 0 of its outputs), then the same outputs at k = 1.
        var probe = [Float](repeating: 0, count: 128), packed = [Float](repeating: -1, count: 256)
        for o in 0..<64 { probe[o * 2 + 1] = 1 }
        _ = packA(2, 64, probe, 2, &packed)
        let width = packed.prefix(while: { $0 == 0 }).count
        guard width > 0, width <= 64, 64 % width == 0 else { return nil }
        let kernels = OpenBLASKernels(kernel: unsafeBitCast(k, to: Kernel.self), packA: packA,
                                      packATransposed: unsafeBitCast(at, to: Copy.self),
                                      packB: unsafeBitCast(b, to: Copy.self), panelA: width, core: core)
        return kernels.agreesWithCBLAS() ? kernels : nil
    }()

    /// y += x·Wᵀ and y += x·W on shapes with partial panels and two k blocks, against cblas_sgemm (relative 1e-5).
    func agreesWithCBLAS() -> Bool {
        var rng = SeededRNG(seed: 11)
        for (rows, k, n, transposed) in [(37, 70, 29, false), (5, OpenBLASKernels.kBlock + 16, 2 * outputBlock + 3, false),
                                         (37, 70, 29, true), (5, OpenBLASKernels.kBlock + 16, 2 * outputBlock + 3, true)] {
            let x = (0..<(rows * k)).map { _ in rng.nextFloat() - 0.5 }, w = (0..<(n * k)).map { _ in rng.nextFloat() - 0.5 }
            var want = [Float](repeating: 0.25, count: rows * n), got = want
            // W is stored [N, K] for x·Wᵀ and [K, N] for x·W; either way C[rows, N] += X[rows, K] · op(W).
            cblas_sgemm(CblasRowMajor, CblasNoTrans, transposed ? CblasNoTrans : CblasTrans, Int32(rows), Int32(n), Int32(k), 1,
                        x, Int32(k), w, Int32(transposed ? n : k), 1, &want, Int32(n))
            let pw = PackedWeight(w, outputs: n, inputs: k, transposed: transposed, kernels: self)
            x.withUnsafeBufferPointer { xb in got.withUnsafeMutableBufferPointer { gb in
                gemm(xb.baseAddress!, rows: rows, pw, into: gb.baseAddress!)
            } }
            for i in 0..<want.count where abs(want[i] - got[i]) > 1e-5 * max(1, abs(want[i])) { return false }
        }
        return true
    }

    /// C[rows, outputs] += X[rows, inputs] · op(W) on the calling thread (C and X row-major, contiguous).
    func gemm(_ x: UnsafePointer<Float>, rows: Int, _ w: PackedWeight, into c: UnsafeMutablePointer<Float>) {
        let k = w.inputs, n = w.outputs, kb = OpenBLASKernels.kBlock, ob = outputBlock
        let rb = min(rows, OpenBLASKernels.rowBlock)
        let sb = Storage(count: rb * min(k, kb), zeroed: false)
        for ls in stride(from: 0, to: k, by: kb) {
            let ml = min(kb, k - ls)
            let aBlock = w.storage.base + ls * n
            for js in stride(from: 0, to: rows, by: rb) {
                let mj = min(rb, rows - js)
                _ = packB(ml, mj, x + js * k + ls, k, sb.base)
                for o in stride(from: 0, to: n, by: ob) {
                    _ = kernel(min(ob, n - o), mj, ml, 1, aBlock + o * ml, sb.base, c + js * n + o, n)
                }
            }
        }
    }
}

/// A weight packed for `OpenBLASKernels` as the right operand of C[rows, outputs] += X[rows, inputs] · op(W):
/// per block of `kBlock` inputs, the A panels of all outputs. For a Linear's W [out, in]: `transposed`
/// false packs it for the forward y = x·Wᵀ (outputs = out), true for the input gradient dX = dY·W
/// (outputs = in). A copy: valid only while W does not change (one `encode` call, or a frozen weight).
public final class PackedWeight: @unchecked Sendable {
    public let outputs: Int
    public let inputs: Int
    let storage: Storage
    /// The kernels it was packed for (a pack exists only where they do).
    let kernels: OpenBLASKernels

    /// `w` holds [outputs, inputs] row-major (`transposed` false) or [inputs, outputs] (true).
    init(_ w: UnsafePointer<Float>, outputs n: Int, inputs k: Int, transposed: Bool, kernels: OpenBLASKernels) {
        outputs = n; inputs = k; self.kernels = kernels
        storage = Storage(count: n * k, zeroed: false)
        for ls in stride(from: 0, to: k, by: OpenBLASKernels.kBlock) {
            let ml = min(OpenBLASKernels.kBlock, k - ls)
            if transposed {
                _ = kernels.packATransposed(ml, n, w + ls * n, n, storage.base + ls * n)
            } else {
                _ = kernels.packA(ml, n, w + ls, k, storage.base + ls * n)
            }
        }
    }

    /// A Linear's `weight` [out, in] packed for x·Wᵀ, or for dY·W when `transposed`; nil when the kernels
    /// are unavailable.
    public convenience init?(_ weight: Tensor, transposed: Bool = false) {
        guard let kernels = OpenBLASKernels.shared, weight.rank == 2 else { return nil }
        let out = weight.shape[0], inp = weight.shape[1]
        self.init(weight.data, outputs: transposed ? inp : out, inputs: transposed ? out : inp, transposed: transposed, kernels: kernels)
    }
}

extension BLAS {
    /// C[rows, outputs] += X[rows, inputs] · op(W) with W packed once (`PackedWeight`). Single-threaded inside
    /// a data-parallel worker; otherwise the rows are split over the cores when the product is large.
    public static func gemmPacked(_ x: UnsafePointer<Float>, rows: Int, _ w: PackedWeight, into c: UnsafeMutablePointer<Float>) {
        guard rows > 0 else { return }
        FloatEnvironment.enter()
        // Split when the product reaches ~4 M multiply-adds (Parallel's threshold is 64 K element operations).
        Parallel.chunks(rows, cost: max(1, w.inputs * w.outputs / 64), align: 4) { lo, hi in
            w.kernels.gemm(x + lo * w.inputs, rows: hi - lo, w, into: c + lo * w.outputs)
        }
    }
}
