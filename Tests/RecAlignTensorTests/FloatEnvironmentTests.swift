// FloatEnvironmentTests: kernels flush subnormals to zero on the calling thread, in OpenBLAS's workers and in ours.
import Foundation
import Testing
import RecAlignTensor

@Suite("Subnormals flushed to zero")
struct FloatEnvironmentTests {
    /// A value the optimiser cannot fold: the product below is computed at run time.
    @inline(never) func opaque(_ x: Float) -> Float { x }

    @Test func theCallingThreadFlushes() {
        FloatEnvironment.enter()
        #expect(FloatEnvironment.flushesSubnormals)
        let tiny = opaque(1e-20)
        #expect(tiny * tiny == 0, "1e-40 is subnormal and must come out as 0")
        #expect(opaque(1e-39) + 0 == 0, "a subnormal input must read as 0")
    }

    /// A = 1e-39 (subnormal) everywhere, B = 1: without DAZ every C element is K·1e-39 ≈ 5e-37, a normal float.
    /// OpenBLAS splits this product over its worker threads, which it started before any of our code ran: each
    /// element they compute is 0 only if the restart made them flush too.
    @Test func openBLASWorkersFlush() {
        let m = 512, n = 512, k = 512
        let a = Storage(count: m * k, zeroed: false), b = Storage(count: k * n, zeroed: false)
        a.base.update(repeating: 1e-39, count: m * k)
        b.base.update(repeating: 1, count: k * n)
        let c = Storage(count: m * n)
        BLAS.gemm(transA: false, transB: false, m: m, n: n, k: k, a: a.base, lda: k, b: b.base, ldb: n, beta: 0, c: c.base, ldc: n)
        let nonzero = (0..<(m * n)).count { c.base[$0] != 0 }
        #expect(nonzero == 0, "\(nonzero) of \(m * n) elements kept subnormal inputs")
    }

    @Test func parallelWorkersFlush() {
        let flags = Storage(count: 4)   // one slot per 2^18 indices: each chunk marks the slot it starts in
        Parallel.chunks(1 << 20, align: 1 << 18) { lo, _ in
            flags.base[lo >> 18] = FloatEnvironment.flushesSubnormals ? 1 : -1
        }
        #expect(flags.base[0] == 1 && (0..<4).allSatisfy { flags.base[$0] != -1 }, "a worker did not flush")
    }
}
