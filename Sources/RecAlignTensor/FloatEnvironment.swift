// FloatEnvironment: subnormal floats flushed to zero (FTZ/DAZ) on every thread that runs a kernel.
import CBLAS
#if canImport(Glibc)
import Glibc
#endif

/// An Intel core takes a microcode assist, some hundred cycles, for each float operation whose input or result is
/// subnormal (|x| < 1.18e-38). Training makes such values: a full softmax over thousands of items leaves many
/// far-below-the-top probabilities in its gradient GEMM, which then runs some hundred times slower (on AMD Zen 3 the
/// same training ran at full speed; docs/BENCHMARKS.md has the figures). Flushing changes only values below 1.2e-38
/// (PyTorch's `torch.set_flush_denormal(True)` does the same), so RecAlign runs every kernel with it.
///
/// The mode is per thread and a new thread inherits its creator's. OpenBLAS starts its workers when it loads, before
/// any of our code runs, so the first `enter()` of the process also stops them: its next threaded call starts new ones
/// from a flushing thread.
public enum FloatEnvironment {
    private static let blasWorkersRestarted: Void = {
        recalign_flush_subnormals()
        // OpenBLAS's threaded builds export it: it stops the workers, and the next threaded call starts new ones
        // from the calling thread. Looked up by name, so that a build without it (serial) still links and runs.
        typealias Shutdown = @convention(c) () -> Int32
        if let f = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "blas_thread_shutdown_") {
            _ = unsafeBitCast(f, to: Shutdown.self)()
        }
    }()

    /// Makes the calling thread flush subnormals (after, the first time in the process, restarting OpenBLAS's
    /// workers under that mode). Every BLAS wrapper and parallel worker calls it before its kernel: an atomic load, a
    /// control-register read and a branch. No BLAS call can be in flight during the restart, since each passes here first.
    @inline(__always)
    public static func enter() {
        blasWorkersRestarted
        if recalign_subnormals_flushed() == 0 { recalign_flush_subnormals() }
    }

    /// Whether the calling thread flushes subnormals to zero now.
    public static var flushesSubnormals: Bool { recalign_subnormals_flushed() != 0 }
}
