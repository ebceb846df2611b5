// LowPrecisionWeight: a Linear's weight in int8 (per output channel) or bf16, for y = x·Wᵀ + b at inference.
import CDNNL
import CQuantize
import Foundation

/// W [out, in] quantized once (int8: per output channel, symmetric; bf16: rounded to nearest even) and packed
/// in oneDNN's layout. `apply` computes y = x·Wᵀ + b with x quantized per row at run time (int8: asymmetric
/// u8, so post-GELU activations keep their 8 bits; optionally with outlier columns in float32) and
/// accumulation in int32 / float32. No autograd.
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
    /// int8 activations: the largest code, 255 with VNNI; 127 without, where oneDNN sums pairs of u8 × s8
    /// products in int16 (`vpmaddubsw`), which saturates at 32767: 2·127·127 stays below it, 2·255·127 does not
    /// (on the golden sentences 7-bit activations lost less than 7-bit weights).
    let activationMax: Float
    /// int8: input columns whose magnitude passes this in some row of a call skip quantization and go through a
    /// float32 product instead (LLM.int8()'s decomposition: a few outlier features of the LayerNorm outputs
    /// would otherwise set every row's scale); nil: none.
    public let outlierThreshold: Float?
    /// int8 with outliers: W transposed [in, out] in float32, whose rows the outlier columns select.
    let transposed: [Float]
    /// At most this many outlier columns per call (the largest), so that inputs unlike text (random token ids
    /// flag dozens) keep the float32 share small: 4 with VNNI (caps of 4, 8 and 16 gave the golden sentences'
    /// worst cosine within 1e-4 of each other), 16 without, where 7-bit activations need more (0.99906 against
    /// 0.99858 with 4).
    static var maxOutliers: Int { OneDNN.hasVNNI ? 4 : 16 }

    /// Quantizes `weight` [out, in] for `precision` (int8 or bf16); nil for fp32 or when oneDNN lacks the kernel.
    /// `outlierThreshold` (int8): see the property.
    public init?(_ weight: Tensor, precision: Precision, outlierThreshold: Float? = nil) {
        guard precision != .fp32, weight.rank == 2 else { return nil }
        let n = weight.shape[0], k = weight.shape[1]
        let types: OneDNN.Types = precision == .int8 ? .int8 : .bf16
        guard let (layout, _) = OneDNN.preferredWeights(k: k, n: n, types: types) else { return nil }
        self.precision = precision; outputs = n; inputs = k; self.types = types; self.layout = layout
        activationMax = OneDNN.hasVNNI ? 255 : 127
        self.outlierThreshold = precision == .int8 ? outlierThreshold : nil
        var t = [Float](repeating: 0, count: self.outlierThreshold == nil ? 0 : n * k)
        if !t.isEmpty { for o in 0..<n { for i in 0..<k { t[i * n + o] = weight.data[o * k + i] } } }
        transposed = t
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
                let s = m > 0 ? m / 127 : 1
                var sum: Int32 = 0
                for i in 0..<k {
                    let v = Int8(max(-127, min(127, (row[i] / s).rounded(.toNearestOrEven))))
                    q[o * k + i] = v; sum += Int32(v)
                }
                scales[o] = s; sums[o] = Float(sum)
            }
            self.scales = scales; columnSums = sums
            q.withUnsafeBytes { OneDNN.pack($0.baseAddress!, k: k, n: n, type: types.weights, into: packed, layout: layout) }
        } else {
            var h = [UInt16](repeating: 0, count: n * k)
            recalign_to_bf16(w, n * k, &h)
            scales = []; columnSums = []
            h.withUnsafeBytes { OneDNN.pack($0.baseAddress!, k: k, n: n, type: types.weights, into: packed, layout: layout) }
        }
    }

    deinit { packed.deallocate() }

    /// y [rows, out] = x [rows, in] · Wᵀ + b (bias [out] or nil). Rows are split over the cores unless the
    /// calling thread is a data-parallel worker.
    public func apply(_ x: UnsafePointer<Float>, rows: Int, bias: UnsafePointer<Float>?, into y: UnsafeMutablePointer<Float>) {
        guard rows > 0 else { return }
        BLAS.singleThreaded {   // the outliers' float32 product runs inside each share of rows
            Parallel.chunks(rows, cost: max(1, inputs * outputs / 256), align: 4) { lo, hi in
                if precision == .int8 {
                    int8Rows(x + lo * inputs, rows: hi - lo, bias: bias, into: y + lo * outputs)
                } else {
                    bf16Rows(x + lo * inputs, rows: hi - lo, bias: bias, into: y + lo * outputs)
                }
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

    /// x quantized per row: x ≈ s·(q − z) with q in 0...activationMax (z the code of 0.0); the int32 products
    /// Σ q·w are written over y, then y = s·sw·(acc − z·Σw) + b per output.
    private func int8Rows(_ x: UnsafePointer<Float>, rows m: Int, bias: UnsafePointer<Float>?, into y: UnsafeMutablePointer<Float>) {
        let k = inputs, n = outputs
        var scale = [Float](repeating: 0, count: m), zero = [Float](repeating: 0, count: m)
        let q = UnsafeMutablePointer<UInt8>.allocate(capacity: m * k)
        defer { q.deallocate() }
        let acc = UnsafeRawPointer(y).assumingMemoryBound(to: Int32.self)
        guard let threshold = outlierThreshold else {
            recalign_quantize_rows_u8(x, m, k, activationMax, q, &scale, &zero)
            run(rows: m, src: UnsafeMutableRawPointer(q), dst: UnsafeMutableRawPointer(y))
            recalign_dequantize_rows(acc, m, n, scale, zero, scales, columnSums, bias, y)
            return
        }
        // Outlier columns: read as 0 by the quantizer, their float32 product added after the int8 one.
        var outliers = [Int](repeating: 0, count: k)
        let work = UnsafeMutablePointer<Float>.allocate(capacity: k)
        defer { work.deallocate() }
        var count = recalign_outlier_columns(x, m, k, threshold, &outliers, work)
        if count > LowPrecisionWeight.maxOutliers {   // keep the largest: a bounded float32 share
            let top = outliers.prefix(count).sorted { work[$0] > work[$1] }.prefix(LowPrecisionWeight.maxOutliers).sorted()
            count = top.count
            for (i, j) in top.enumerated() { outliers[i] = j }
        }
        let xo = UnsafeMutablePointer<Float>.allocate(capacity: max(1, m * count)), wo = UnsafeMutablePointer<Float>.allocate(capacity: max(1, count * n))
        defer { xo.deallocate(); wo.deallocate() }
        transposed.withUnsafeBufferPointer { t in
            for c in 0..<count { (wo + c * n).update(from: t.baseAddress! + outliers[c] * n, count: n) }
        }
        recalign_quantize_rows_u8_split(x, m, k, outliers, count, activationMax, q, &scale, &zero, xo, work)
        run(rows: m, src: UnsafeMutableRawPointer(q), dst: UnsafeMutableRawPointer(y))
        recalign_dequantize_rows(acc, m, n, scale, zero, scales, columnSums, bias, y)
        if count > 0 { BLAS.gemm(transA: false, transB: false, m: m, n: n, k: count, a: xo, lda: count, b: wo, ldb: n, beta: 1, c: y, ldc: n) }
    }

    /// x rounded to bf16; oneDNN accumulates in float32 into y; then the bias.
    private func bf16Rows(_ x: UnsafePointer<Float>, rows m: Int, bias: UnsafePointer<Float>?, into y: UnsafeMutablePointer<Float>) {
        let k = inputs, n = outputs
        let h = UnsafeMutablePointer<UInt16>.allocate(capacity: m * k)
        defer { h.deallocate() }
        recalign_to_bf16(x, m * k, h)
        run(rows: m, src: UnsafeMutableRawPointer(h), dst: UnsafeMutableRawPointer(y))
        if let bias { for r in 0..<m { let out = y + r * n; for o in 0..<n { out[o] += bias[o] } } }
    }
}
