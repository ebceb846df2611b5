// Parallel: splits an index range over the machine's cores when the work is large enough to pay.
import Foundation

public enum Parallel {
    /// Number of worker chunks used for large element-wise loops (the machine has 2 cores).
    public nonisolated(unsafe) static var workers: Int = max(1, min(ProcessInfo.processInfo.activeProcessorCount, 8))
    /// Below this many elements a loop runs on the calling thread.
    public nonisolated(unsafe) static var minParallelWork: Int = 1 << 16

    /// Calls `body(lo, hi)` on disjoint sub-ranges covering `0..<n`, in parallel when `n * cost >= minParallelWork`.
    /// Sub-range bounds are multiples of `align` (except the last) so SIMD loops stay aligned.
    @inline(__always)
    public static func chunks(_ n: Int, cost: Int = 1, align: Int = 16, _ body: (Int, Int) -> Void) {
        let w = workers
        if w <= 1 || n * cost < minParallelWork || n < 2 * align {
            body(0, n); return
        }
        let per = ((n + w - 1) / w + align - 1) / align * align
        DispatchQueue.concurrentPerform(iterations: w) { c in
            let lo = c * per, hi = min(n, lo + per)
            if lo < hi { body(lo, hi) }
        }
    }
}
