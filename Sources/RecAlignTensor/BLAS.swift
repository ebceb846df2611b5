// BLAS: thin row-major wrappers over OpenBLAS (cblas / LAPACKE) used by every matrix op and by retrieval.
import CBLAS
import Foundation

public enum BLAS {
    /// C[M,N] = alpha * op(A) * op(B) + beta * C, row-major, with leading dimensions.
    @inline(__always)
    public static func gemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float = 1,
                            a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                            beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        if m == 0 || n == 0 { return }
        FloatEnvironment.enter()
        cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// y[N] += sum over the M rows of A[M,N] (column sums), via sgemv with a ones vector.
    public static func addColumnSums(_ a: UnsafePointer<Float>, rows m: Int, cols n: Int,
                                     into y: UnsafeMutablePointer<Float>) {
        if m == 0 || n == 0 { return }
        FloatEnvironment.enter()
        let ones = Storage(count: m, zeroed: false)
        ones.base.update(repeating: 1, count: m)
        cblas_sgemv(CblasRowMajor, CblasTrans, Int32(m), Int32(n), 1, a, Int32(n), ones.base, 1, 1, y, 1)
    }

    /// Dot product of two float vectors of `count` elements (`cblas_sdot`).
    @inline(__always)
    public static func dot(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, count n: Int) -> Float {
        FloatEnvironment.enter()
        return cblas_sdot(Int32(n), x, 1, y, 1)
    }

    /// Euclidean norm of a float vector of `count` elements (`cblas_snrm2`).
    @inline(__always)
    public static func norm(_ x: UnsafePointer<Float>, count n: Int) -> Float {
        FloatEnvironment.enter()
        return cblas_snrm2(Int32(n), x, 1)
    }

    /// y = alpha * op(A) * x + beta * y in Double, A[M,N] row-major with leading dimension `lda`
    /// (`cblas_dgemv`; y has M elements, or N when `transA`).
    public static func gemv(transA: Bool, m: Int, n: Int, alpha: Double = 1, a: UnsafePointer<Double>, lda: Int,
                            x: UnsafePointer<Double>, beta: Double, y: UnsafeMutablePointer<Double>) {
        if m == 0 || n == 0 { return }
        FloatEnvironment.enter()
        cblas_dgemv(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, Int32(m), Int32(n), alpha, a, Int32(lda),
                    x, 1, beta, y, 1)
    }

    /// Upper triangle of C[N,N] = alpha * Aᵀ A + beta * C in Double, A[K,N] row-major (`cblas_dsyrk`,
    /// transposed); the strict lower triangle of C is left as it was.
    public static func syrkUpper(n: Int, k: Int, alpha: Double, a: UnsafePointer<Double>, lda: Int, beta: Double,
                                 c: UnsafeMutablePointer<Double>, ldc: Int) {
        if n == 0 { return }
        FloatEnvironment.enter()
        cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, Int32(n), Int32(k), alpha, a, Int32(lda), beta, c, Int32(ldc))
    }

    /// Upper triangle of A[N,N] += alpha * x xᵀ in Double, row-major (`cblas_dsyr`).
    public static func syrUpper(n: Int, alpha: Double, x: UnsafePointer<Double>, a: UnsafeMutablePointer<Double>, lda: Int) {
        if n == 0 { return }
        FloatEnvironment.enter()
        cblas_dsyr(CblasRowMajor, CblasUpper, Int32(n), alpha, x, 1, a, Int32(lda))
    }

    /// Eigendecomposition of the symmetric A[N,N] (upper triangle read), row-major, in Double
    /// (`LAPACKE_dsyevd`): on return `a` holds the eigenvectors in its columns and `w` the N eigenvalues,
    /// ascending. Returns LAPACK's info (0 on success).
    public static func symmetricEigen(n: Int, a: UnsafeMutablePointer<Double>, lda: Int,
                                      eigenvalues w: UnsafeMutablePointer<Double>) -> Int {
        FloatEnvironment.enter()
        return Int(LAPACKE_dsyevd(LAPACK_ROW_MAJOR, Int8(UInt8(ascii: "V")), Int8(UInt8(ascii: "U")), Int32(n), a, Int32(lda), w))
    }

    /// Solves A X = B in place for the symmetric positive-definite A[N,N] (upper triangle read) and
    /// B[N,NRHS], row-major, in Double (`LAPACKE_dposv`, Cholesky): `b` becomes X, `a` its factor.
    /// Returns LAPACK's info (0 on success, > 0 when A is not positive definite).
    public static func solvePositiveDefinite(n: Int, rhs nrhs: Int, a: UnsafeMutablePointer<Double>, lda: Int,
                                             b: UnsafeMutablePointer<Double>, ldb: Int) -> Int {
        FloatEnvironment.enter()
        return Int(LAPACKE_dposv(LAPACK_ROW_MAJOR, Int8(UInt8(ascii: "U")), Int32(n), Int32(nrhs), a, Int32(lda), b, Int32(ldb)))
    }

    /// Runs `body(i)` for i in 0..<n split over the cores, each BLAS call inside single-threaded: many
    /// small GEMMs (attention heads) run faster side by side than each split across threads.
    public static func parallelSmallGemms(_ n: Int, _ body: (Int) -> Void) {
        parallelSmallGemms(n, scratch: 0) { i, _ in body(i) }
    }

    /// The same with `scratch` floats of working memory private to the thread running `body(i, scratch)`.
    /// Contiguous shares per core (`Parallel.share`); on the calling thread alone inside a data-parallel worker.
    public static func parallelSmallGemms(_ n: Int, scratch: Int, _ body: (Int, UnsafeMutablePointer<Float>) -> Void) {
        let workers = Parallel.isSerialThread || n < 2 ? 1 : max(1, Parallel.workers)
        let buffer = Storage(count: workers * scratch, zeroed: false)
        withoutActuallyEscaping(body) { body in
            let run: (Int) -> Void = { w in
                FloatEnvironment.enter()
                let sc = buffer.base + w * scratch
                for i in Parallel.share(n, worker: w, of: workers) { body(i, sc) }
            }
            if workers == 1 { run(0) } else { singleThreaded { DispatchQueue.concurrentPerform(iterations: workers, execute: run) } }
        }
    }

    private static let threadLock = NSLock()
    nonisolated(unsafe) private static var singleUsers = 0
    nonisolated(unsafe) private static var savedThreads: Int32 = 1

    /// Runs `body` with OpenBLAS at one thread (a process-wide setting). Reference-counted, so that
    /// overlapping callers on different threads restore the caller-visible count only when the last one ends.
    public static func singleThreaded<T>(_ body: () throws -> T) rethrows -> T {
        FloatEnvironment.enter()
        threadLock.lock()
        if singleUsers == 0 { savedThreads = openblas_get_num_threads(); openblas_set_num_threads(1) }
        singleUsers += 1
        threadLock.unlock()
        defer {
            threadLock.lock()
            singleUsers -= 1
            if singleUsers == 0 { openblas_set_num_threads(savedThreads) }
            threadLock.unlock()
        }
        return try body()
    }

    /// Data parallelism over independent inputs: runs `body(w, workers)` for every worker w on its own core,
    /// with every kernel inside single-threaded (element-wise loops: the worker thread is marked serial;
    /// BLAS: OpenBLAS at 1 thread through `singleThreaded`),
    /// so that small batches pay no thread hand-off per op. The grad mode is per thread: `body` sets its own.
    /// Gradients computed inside go to gradient slot `w` (slot 0 is the caller's; see `GradBox.reduceSlots`).
    public static func dataParallel(_ body: (_ worker: Int, _ workers: Int) -> Void) {
        let workers = Parallel.workers
        if workers <= 1 || Parallel.isSerialThread { body(0, 1); return }
        singleThreaded {
            DispatchQueue.concurrentPerform(iterations: workers) { w in
                FloatEnvironment.enter()
                Parallel.serially(slot: w) { body(w, workers) }
            }
        }
    }

    /// Threads OpenBLAS uses.
    public static var threads: Int {
        get { Int(openblas_get_num_threads()) }
        set { FloatEnvironment.enter(); openblas_set_num_threads(Int32(newValue)) }
    }
}
