// LowPrecisionTests: int8 and bf16 projections through oneDNN against float32, exact where the values are representable.
import Foundation
import Testing
import RecAlignNN
import RecAlignTensor

@Suite("Low-precision projections (oneDNN)")
struct LowPrecisionTests {
    /// y = x·Wᵀ + b in Double.
    func reference(_ x: [Float], _ w: [Float], _ b: [Float]?, rows: Int, k: Int, n: Int) -> [Float] {
        var y = [Float](repeating: 0, count: rows * n)
        for r in 0..<rows {
            for o in 0..<n {
                var s = Double(b?[o] ?? 0)
                for i in 0..<k { s += Double(x[r * k + i]) * Double(w[o * k + i]) }
                y[r * n + o] = Float(s)
            }
        }
        return y
    }

    func apply(_ lp: LowPrecisionWeight, _ x: [Float], rows: Int, bias: [Float]?) -> [Float] {
        var y = [Float](repeating: .nan, count: rows * lp.outputs)
        x.withUnsafeBufferPointer { xp in
            y.withUnsafeMutableBufferPointer { yp in
                if let bias {
                    bias.withUnsafeBufferPointer { lp.apply(xp.baseAddress!, rows: rows, bias: $0.baseAddress!, into: yp.baseAddress!) }
                } else {
                    lp.apply(xp.baseAddress!, rows: rows, bias: nil, into: yp.baseAddress!)
                }
            }
        }
        return y
    }

    /// Weights whole numbers in -127...127 with 127 in every row (channel scale 1) and activations whole numbers
    /// spanning 0...255 (0...127 without VNNI; row scale 1, zero point 0): the int8 product is exact.
    @Test func int8IsExactOnRepresentableValues() throws {
        try #require(Precision.plan(.int8).precision == .int8, "oneDNN's int8 matmul is unavailable")
        let rows = 37, k = 70, n = 29
        var rng = SeededRNG(seed: 3)
        let top = topCode()
        var w = (0..<(n * k)).map { _ in Float(Int(rng.next() % 255) - 127) }
        for o in 0..<n { w[o * k + o % k] = 127 }
        var x = (0..<(rows * k)).map { _ in Float(rng.next() % UInt64(top + 1)) }
        for r in 0..<rows { x[r * k] = 0; x[r * k + 1] = Float(top) }
        let b = (0..<n).map { Float($0) - 10 }
        let lp = try #require(LowPrecisionWeight(Tensor(w, shape: [n, k]), precision: .int8))
        #expect(apply(lp, x, rows: rows, bias: b) == reference(x, w, b, rows: rows, k: k, n: n))
        #expect(apply(lp, x, rows: rows, bias: nil) == reference(x, w, nil, rows: rows, k: k, n: n))
    }

    /// The largest activation code: 255, or 127 without VNNI.
    func topCode() -> Int { Precision.plan(.int8).description.contains("7-bit activations") ? 127 : 255 }

    /// A column far above the threshold (an outlier feature) goes through float32: the remaining columns still
    /// span 0...top exactly, so the result stays exact; quantized with the rest, it would set the row's scale.
    @Test func outlierColumnsRunInFloat32() throws {
        try #require(Precision.plan(.int8).precision == .int8)
        let rows = 9, k = 40, n = 24
        let top = topCode()
        var rng = SeededRNG(seed: 8)
        var w = (0..<(n * k)).map { _ in Float(Int(rng.next() % 255) - 127) }
        for o in 0..<n { w[o * k + (o % (k - 1)) + 1] = 127 }
        var x = (0..<(rows * k)).map { _ in Float(rng.next() % UInt64(top + 1)) }
        for r in 0..<rows { x[r * k + 1] = 0; x[r * k + 2] = Float(top); x[r * k] = 1000 + Float(r) * 0.37 }
        let want = reference(x, w, nil, rows: rows, k: k, n: n)
        let split = try #require(LowPrecisionWeight(Tensor(w, shape: [n, k]), precision: .int8, outlierThreshold: 300))
        let got = apply(split, x, rows: rows, bias: nil)
        #expect(maxRelativeDifference(got, want) <= 1e-5)   // float32 rounding of sums near 10⁵
        let plain = try #require(LowPrecisionWeight(Tensor(w, shape: [n, k]), precision: .int8))
        #expect(maxRelativeDifference(apply(plain, x, rows: rows, bias: nil), want) > 1e-3, "the outlier should cost accuracy without the split")
    }

    /// Real-valued inputs: the error of per-channel weights and per-row activations stays near one part in 100
    /// of the output's scale; rows are quantized independently, so a row's result does not depend on its batch.
    /// The same bound holds with outlier columns (threshold 1.9 on inputs in ±2: more columns than the cap,
    /// so the largest are kept).
    @Test(arguments: [(rows: 5, k: 384, n: 1152, outliers: false), (rows: 600, k: 1536, n: 384, outliers: false),
                      (rows: 5, k: 384, n: 1152, outliers: true), (rows: 600, k: 1536, n: 384, outliers: true)])
    func int8IsCloseAndRowIndependent(_ c: (rows: Int, k: Int, n: Int, outliers: Bool)) throws {
        try #require(Precision.plan(.int8).precision == .int8)
        let w = randomValues(c.n * c.k, seed: 11, scale: 0.1), x = randomValues(c.rows * c.k, seed: 12, scale: 2)
        let b = randomValues(c.n, seed: 13)
        let lp = try #require(LowPrecisionWeight(Tensor(w, shape: [c.n, c.k]), precision: .int8,
                                                 outlierThreshold: c.outliers ? 1.9 : nil))
        let got = apply(lp, x, rows: c.rows, bias: b), want = reference(x, w, b, rows: c.rows, k: c.k, n: c.n)
        let scale = want.map(abs).max()!
        let worst = zip(got, want).map { abs($0 - $1) }.max()!
        #expect(worst <= 0.02 * scale, "int8 error \(worst) against outputs up to \(scale)")
        let last = Array(x[((c.rows - 1) * c.k)...])
        let alone = Parallel.serially { apply(lp, last, rows: 1, bias: b) }
        if !c.outliers {   // with outliers the float32 columns are chosen per call
            #expect(alone == Array(got[((c.rows - 1) * c.n)...]), "a row's int8 result changed with its batch")
        }
    }

    /// bf16 weights and activations with float32 accumulation: exact when every value has 8 significant bits.
    @Test func bf16IsExactOnRepresentableValues() throws {
        guard Precision.plan(.bf16).precision == .bf16 else { return }   // no native bf16 on this CPU
        let rows = 33, k = 64, n = 48
        var rng = SeededRNG(seed: 5)
        let w = (0..<(n * k)).map { _ in Float(Int(rng.next() % 255) - 127) / 64 }
        let x = (0..<(rows * k)).map { _ in Float(Int(rng.next() % 255) - 127) / 32 }
        let b = (0..<n).map { Float($0) / 4 }
        let lp = try #require(LowPrecisionWeight(Tensor(w, shape: [n, k]), precision: .bf16))
        #expect(apply(lp, x, rows: rows, bias: b) == reference(x, w, b, rows: rows, k: k, n: n))
    }

    /// fp32 asks for no low-precision weight; every plan names what runs.
    @Test func planNamesTheKernel() {
        #expect(LowPrecisionWeight(Tensor(zeros: [4, 4]), precision: .fp32) == nil)
        #expect(Precision.plan(.fp32).precision == .fp32)
        for p in Precision.allCases {
            let plan = Precision.plan(p)
            #expect(plan.description.hasPrefix(p.rawValue) || plan.description.contains("running fp32"))
        }
    }
}
