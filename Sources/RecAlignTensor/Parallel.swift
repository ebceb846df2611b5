// Parallel: splits an index range over the machine's cores when the work is large enough to pay.
import Foundation

public enum Parallel {
    /// Number of worker chunks used for large element-wise loops (the machine has 2 cores).
    public nonisolated(unsafe) static var workers: Int = max(1, min(ProcessInfo.processInfo.activeProcessorCount, GradBox.maxSlots))
    /// Below this many elements a loop runs on the calling thread.
    public nonisolated(unsafe) static var minParallelWork: Int = 1 << 16

    /// Marks the calling thread as one worker of a data-parallel region (see `BLAS.dataParallel`): its
    /// kernels run single-threaded. Per thread, so that other threads (e.g. tests running side by side)
    /// keep their own splitting, and with it bit-identical reductions.
    static let serialMark = ThreadWord()   // 0 outside; gradient slot + 1 inside a data-parallel worker

    /// Worker `w`'s share of `n` rows split over `count` workers: contiguous, in order, the last one shorter.
    public static func share(_ n: Int, worker w: Int, of count: Int) -> Range<Int> {
        let per = (n + count - 1) / count
        let lo = min(n, w * per)
        return lo..<min(n, lo + per)
    }

    /// True inside a data-parallel worker.
    public static var isSerialThread: Bool { serialMark.value != 0 }

    /// The gradient slot of the calling thread: 0 outside data-parallel regions, the worker's index inside
    /// one (`BLAS.dataParallel`). Gradient buffers keep one storage per slot (see `GradBox`), so workers
    /// back-propagating through shared parameters never write the same memory.
    @inline(__always) public static var gradSlot: Int { max(0, serialMark.value - 1) }

    /// Runs `body` with the calling thread marked serial, its gradients going to slot `slot`.
    public static func serially<T>(slot: Int = 0, _ body: () throws -> T) rethrows -> T {
        precondition(slot >= 0 && slot < GradBox.maxSlots, "gradient slot \(slot) out of range")
        return try serialMark.with(slot + 1, body)
    }

    /// Calls `body(lo, hi)` on disjoint sub-ranges covering `0..<n`, in parallel when `n * cost >= minParallelWork`.
    /// Sub-range bounds are multiples of `align` (except the last) so SIMD loops stay aligned.
    @inline(__always)
    public static func chunks(_ n: Int, cost: Int = 1, align: Int = 16, _ body: (Int, Int) -> Void) {
        let w = isSerialThread ? 1 : workers
        if w <= 1 || n * cost < minParallelWork || n < 2 * align {
            body(0, n); return
        }
        let per = ((n + w - 1) / w + align - 1) / align * align
        DispatchQueue.concurrentPerform(iterations: w) { c in
            FloatEnvironment.enter()
            let lo = c * per, hi = min(n, lo + per)
            if lo < hi { body(lo, hi) }
        }
    }
}

/// One machine word per thread (0 until set), backed by a pthread key: the cheap thread-local marks that
/// kernels read on every call (the data-parallel worker mark, the skip-random-init mark).
struct ThreadWord: @unchecked Sendable {
    let key: pthread_key_t
    init() {
        var k = pthread_key_t()
        pthread_key_create(&k, nil)
        key = k
    }
    /// The calling thread's value.
    @inline(__always) var value: Int { Int(bitPattern: pthread_getspecific(key)) }
    /// Runs `body` with the calling thread's value set to `v`, restoring the previous value after.
    func with<T>(_ v: Int, _ body: () throws -> T) rethrows -> T {
        let was = pthread_getspecific(key)
        pthread_setspecific(key, UnsafeRawPointer(bitPattern: v))
        defer { pthread_setspecific(key, was) }
        return try body()
    }
}
