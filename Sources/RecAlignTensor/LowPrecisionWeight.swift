// LowPrecisionWeight: a Linear's weight in int8 (per output channel) or bf16, for y = x·Wᵀ + b at inference.
import CDNNL
import CQuantize
import Foundation

/// Number format of an inference projection. fp32 is the default and the parity path; int8 and bf16 trade a
/// little accuracy for speed where the CPU has the instructions (`Precision.plan`).
public enum Precision: String, CaseIterable, Sendable {
    case fp32, bf16, int8

    /// What `requested` runs as on this machine: the precision and a line naming the kernel. int8 runs on any
    /// x86-64 oneDNN supports; bf16 only where oneDNN has a native bf16 kernel (AVX-512 BF16 or AMX), else
    /// fp32 with the reason (oneDNN's emulated bf16 is slower than float32).
    public static func plan(_ requested: Precision) -> (precision: Precision, description: String) {
        let fp32 = "fp32: OpenBLAS sgemm" + (OpenBLASKernels.shared.map { " (core \($0.core), packed weights)" } ?? "")
        switch requested {
        case .fp32: return (.fp32, fp32)
        case .int8:
            guard let (_, impl) = OneDNN.preferredWeights(k: 384, n: 384, types: .int8) else {
                return (.fp32, "int8 unavailable (oneDNN has no int8 matmul here); running " + fp32)
            }
            let weights = OneDNN.hasVNNI ? "s8 weights" : "7-bit weights (no VNNI)"
            return (.int8, "int8: oneDNN \(impl) on \(OneDNN.isa), per-channel \(weights), per-row u8 activations, int32 accumulation")
        case .bf16:
            guard let (_, impl) = OneDNN.preferredWeights(k: 384, n: 384, types: .bf16),
                  impl.contains("bf16") || impl.contains("amx") else {
                return (.fp32, "bf16 unavailable (no AVX-512 BF16 / AMX; oneDNN ISA \(OneDNN.isa)); running " + fp32)
            }
            return (.bf16, "bf16: oneDNN \(impl) on \(OneDNN.isa), bf16 weights and activations, float32 accumulation")
        }
    }
}

/// W [out, in] quantized once (int8: per output channel, symmetric; bf16: rounded to nearest even) and packed
/// in oneDNN's layout. `apply` computes y = x·Wᵀ + b with x quantized per row at run time (int8: asymmetric
/// u8, so post-GELU activations keep their 8 bits) and accumulation in int32 / float32. No autograd.
public final class LowPrecisionWeight: @unchecked Sendable {
    public let precision: Precision
    public let outputs: Int
    public let inputs: Int
    let types: OneDNN.Types
    let layout: dnnl_memory_desc_t
    let packed: UnsafeMutableRawPointer
    /// int8: scale of each output channel and the sum of its quantized weights (for the activations' zero point).
    let scales: [Float]
    let columnSums: [Float]
    /// int8 weights: the largest code, 127 with VNNI; 63 without, where oneDNN pairs u8 × s8 products in int16
    /// (`vpmaddubsw`), which saturates past 2·255·63.
    let weightMax: Float

    /// Quantizes `weight` [out, in] for `precision` (int8 or bf16); nil for fp32 or when oneDNN lacks the kernel.
    public init?(_ weight: Tensor, precision: Precision) {
        guard precision != .fp32, weight.rank == 2 else { return nil }
        let n = weight.shape[0], k = weight.shape[1]
        let types: OneDNN.Types = precision == .int8 ? .int8 : .bf16
        guard let (layout, _) = OneDNN.preferredWeights(k: k, n: n, types: types) else { return nil }
        self.precision = precision; outputs = n; inputs = k; self.types = types; self.layout = layout
        weightMax = OneDNN.hasVNNI ? 127 : 63
        var l = layout
        let bytes = dnnl_memory_desc_get_size(&l)
        packed = UnsafeMutableRawPointer.allocate(byteCount: max(bytes, 1), alignment: 64)
        let w = weight.data
        if precision == .int8 {
            var q = [Int8](repeating: 0, count: n * k), scales = [Float](repeating: 0, count: n), sums = [Float](repeating: 0, count: n)
            for o in 0..<n {
                let row = w + o * k
                var m: Float = 0
                for i in 0..<k { m = max(m, abs(row[i])) }
                let s = m > 0 ? m / weightMax : 1
                var sum: Int32 = 0
                for i in 0..<k {
                    let v = Int8(max(-weightMax, min(weightMax, (row[i] / s).rounded(.toNearestOrEven))))
                    q[o * k + i] = v; sum += Int32(v)
                }
                scales[o] = s; sums[o] = Float(sum)
            }
            self.scales = scales; columnSums = sums
            q.withUnsafeBytes { OneDNN.pack($0.baseAddress!, k: k, n: n, type: types.weights, into: packed, layout: layout) }
        } else {
            var h = [UInt16](repeating: 0, count: n * k)
            for i in 0..<(n * k) { h[i] = bfloat16(w[i]) }
            scales = []; columnSums = []
            h.withUnsafeBytes { OneDNN.pack($0.baseAddress!, k: k, n: n, type: types.weights, into: packed, layout: layout) }
        }
    }

    deinit { packed.deallocate() }

    /// y [rows, out] = x [rows, in] · Wᵀ + b (bias [out] or nil). Rows are split over the cores unless the
    /// calling thread is a data-parallel worker.
    public func apply(_ x: UnsafePointer<Float>, rows: Int, bias: UnsafePointer<Float>?, into y: UnsafeMutablePointer<Float>) {
        guard rows > 0 else { return }
        Parallel.chunks(rows, cost: max(1, inputs * outputs / 256), align: 4) { lo, hi in
            if precision == .int8 {
                int8Rows(x + lo * inputs, rows: hi - lo, bias: bias, into: y + lo * outputs)
            } else {
                bf16Rows(x + lo * inputs, rows: hi - lo, bias: bias, into: y + lo * outputs)
            }
        }
    }

    private func run(rows m: Int, src: UnsafeMutableRawPointer, dst: UnsafeMutableRawPointer) {
        let p = OneDNN.primitive(m: m, k: inputs, n: outputs, types: types, weights: layout)
        let scratch = UnsafeMutableRawPointer.allocate(byteCount: max(p.scratchpadBytes, 64), alignment: 64)
        defer { scratch.deallocate() }
        var args: [(Int32, dnnl_memory_desc_t, UnsafeMutableRawPointer)] = [
            (Int32(recalign_dnnl_arg_src()), OneDNN.desc([m, inputs], types.src, dnnl_ab), src),
            (Int32(recalign_dnnl_arg_weights()), layout, packed),
            (Int32(recalign_dnnl_arg_dst()), OneDNN.desc([m, outputs], types.dst, dnnl_ab), dst)]
        if p.scratchpadBytes > 0 {
            args.append((Int32(recalign_dnnl_arg_scratchpad()), OneDNN.desc([p.scratchpadBytes], dnnl_u8, dnnl_a), scratch))
        }
        OneDNN.execute(p.primitive, args)
    }

    /// x quantized per row: x ≈ s·(q − z) with q in 0...255 (z the code of 0.0); the int32 products
    /// Σ q·w are written over y, then y = s·sw·(acc − z·Σw) + b per output.
    private func int8Rows(_ x: UnsafePointer<Float>, rows m: Int, bias: UnsafePointer<Float>?, into y: UnsafeMutablePointer<Float>) {
        let k = inputs, n = outputs
        var scale = [Float](repeating: 0, count: m), zero = [Float](repeating: 0, count: m)
        let q = UnsafeMutablePointer<UInt8>.allocate(capacity: m * k)
        defer { q.deallocate() }
        recalign_quantize_rows_u8(x, m, k, 255, q, &scale, &zero)
        run(rows: m, src: UnsafeMutableRawPointer(q), dst: UnsafeMutableRawPointer(y))
        recalign_dequantize_rows(UnsafeRawPointer(y).assumingMemoryBound(to: Int32.self), m, n, scale, zero, scales, columnSums, bias, y)
    }

    /// x rounded to bf16; oneDNN accumulates in float32 into y; then the bias.
    private func bf16Rows(_ x: UnsafePointer<Float>, rows m: Int, bias: UnsafePointer<Float>?, into y: UnsafeMutablePointer<Float>) {
        let k = inputs, n = outputs
        let h = UnsafeMutablePointer<UInt16>.allocate(capacity: m * k)
        defer { h.deallocate() }
        for i in 0..<(m * k) { h[i] = bfloat16(x[i]) }
        run(rows: m, src: UnsafeMutableRawPointer(h), dst: UnsafeMutableRawPointer(y))
        if let bias { for r in 0..<m { let out = y + r * n; for o in 0..<n { out[o] += bias[o] } } }
    }
}

/// float32 -> bfloat16 bits, rounded to nearest even (NaN stays NaN).
@inline(__always) func bfloat16(_ f: Float) -> UInt16 {
    let b = f.bitPattern
    if f.isNaN { return UInt16(b >> 16) | 0x40 }
    return UInt16((b &+ 0x7FFF &+ ((b >> 16) & 1)) >> 16)
}
