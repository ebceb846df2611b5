// BLAS: thin row-major wrappers over cblas_sgemm / sgemv used by every matrix op.
import CBLAS
import Foundation

public enum BLAS {
    /// C[M,N] = alpha * op(A) * op(B) + beta * C, row-major, with leading dimensions.
    @inline(__always)
    public static func gemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float = 1,
                            a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                            beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        if m == 0 || n == 0 { return }
        cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// y[N] += sum over the M rows of A[M,N] (column sums), via sgemv with a ones vector.
    public static func addColumnSums(_ a: UnsafePointer<Float>, rows m: Int, cols n: Int,
                                     into y: UnsafeMutablePointer<Float>) {
        if m == 0 || n == 0 { return }
        let ones = Storage(count: m, zeroed: false)
        ones.base.update(repeating: 1, count: m)
        cblas_sgemv(CblasRowMajor, CblasTrans, Int32(m), Int32(n), 1, a, Int32(n), ones.base, 1, 1, y, 1)
    }

    /// Runs `body(i)` for i in 0..<n split over the cores, each BLAS call inside single-threaded: many
    /// small GEMMs (attention heads) run faster side by side than each split across threads.
    public static func parallelSmallGemms(_ n: Int, _ body: (Int) -> Void) {
        let workers = Parallel.workers
        if workers <= 1 || n < 2 { for i in 0..<n { body(i) }; return }
        let saved = openblas_get_num_threads()
        openblas_set_num_threads(1)
        defer { openblas_set_num_threads(saved) }
        let per = (n + workers - 1) / workers
        DispatchQueue.concurrentPerform(iterations: workers) { w in
            for i in (w * per)..<min(n, (w + 1) * per) { body(i) }
        }
    }

    /// Data parallelism over independent inputs: runs `body(w, workers)` for every worker w on its own core,
    /// with every kernel inside single-threaded (element-wise loops and BLAS), so that small batches pay no
    /// thread hand-off per op. Settings are process-wide while it runs (call it from one thread at a time);
    /// the grad mode is per thread, so `body` sets its own.
    public static func dataParallel(_ body: (_ worker: Int, _ workers: Int) -> Void) {
        let workers = Parallel.workers
        if workers <= 1 { body(0, 1); return }
        let saved = openblas_get_num_threads()
        openblas_set_num_threads(1)
        Parallel.workers = 1
        defer { Parallel.workers = workers; openblas_set_num_threads(saved) }
        DispatchQueue.concurrentPerform(iterations: workers) { w in body(w, workers) }
    }

    /// Threads OpenBLAS uses.
    public static var threads: Int {
        get { Int(openblas_get_num_threads()) }
        set { openblas_set_num_threads(Int32(newValue)) }
    }
}
