// Storage: a 64-byte-aligned Float32 buffer owned by one object, shared by tensors that view it.
import Foundation
import CBLAS

/// Contiguous Float32 memory, allocated aligned for SIMD/BLAS and freed when the last view goes away.
public final class Storage: @unchecked Sendable {
    public let base: UnsafeMutablePointer<Float>
    public let count: Int

    /// Keeps freed blocks in the heap for reuse: glibc's default maps every block over 128 KiB fresh from
    /// the kernel and returns it on free, so each forward pass would pay page faults for every activation.
    static let heapReuse: Void = {
        #if os(Linux)
        _ = mallopt(M_MMAP_THRESHOLD, 1 << 30)
        _ = mallopt(M_TRIM_THRESHOLD, 1 << 30)
        #endif
    }()

    /// Allocates `count` floats, zero-filled when `zeroed`.
    public init(count: Int, zeroed: Bool = true) {
        precondition(count >= 0, "negative storage size")
        Storage.heapReuse
        var raw: UnsafeMutableRawPointer?
        let bytes = max(count, 1) * MemoryLayout<Float>.stride
        guard posix_memalign(&raw, 64, bytes) == 0, let raw else { fatalError("out of memory: \(bytes) bytes") }
        base = raw.bindMemory(to: Float.self, capacity: max(count, 1))
        self.count = count
        if zeroed { base.initialize(repeating: 0, count: max(count, 1)) }
    }

    deinit { free(base) }

    public var buffer: UnsafeMutableBufferPointer<Float> { .init(start: base, count: count) }
}
