// VectorScan: finds the first NaN or infinity in a float buffer (the finite check of every loaded tensor).

/// Scans of float buffers read from files.
public enum VectorScan {
    /// Index of the first NaN or +-inf in `values`, or nil when all are finite. Blocks of 4096 are tested with a
    /// branch-free OR over the exponent bits (vectorised), so a clean 22M-float model costs one streaming pass.
    public static func firstNonFinite(_ values: UnsafeBufferPointer<Float>) -> Int? {
        guard let base = values.baseAddress else { return nil }
        let bits = UnsafeRawPointer(base).assumingMemoryBound(to: UInt32.self)
        let n = values.count, block = 4096
        var start = 0
        while start < n {
            let end = min(n, start + block)
            var any: UInt32 = 0
            for k in start..<end { any |= (bits[k] & 0x7F80_0000) == 0x7F80_0000 ? 1 : 0 }
            if any != 0 { return (start..<end).first { !values[$0].isFinite } }
            start = end
        }
        return nil
    }

    /// The same over an array.
    public static func firstNonFinite(_ values: [Float]) -> Int? {
        values.withUnsafeBufferPointer { firstNonFinite($0) }
    }
}
