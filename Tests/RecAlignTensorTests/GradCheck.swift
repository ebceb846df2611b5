// GradCheck: compares each op's autograd gradient with central differences of a Double reference forward.
import Foundation
import RecAlignNN
import RecAlignTensor

/// One input of a checked op: values, shape, and whether its gradient is checked.
struct CheckInput {
    var values: [Float]
    var shape: [Int]
    var differentiable = true
}

/// Result of one gradient check.
struct CheckResult: CustomStringConvertible {
    var forwardError: Double      // max |y - yRef| / max(1, max |yRef|)
    var gradErrors: [Double]      // per differentiable input: ‖g - gRef‖ / max(‖gRef‖, 1e-8)
    var description: String { "forward \(forwardError), grads \(gradErrors)" }
    /// Stated bounds: forward within 1e-5 relative, gradients within 1e-3 relative (norm-wise).
    /// The analytic gradients are computed in Float32, the reference in Double; 1e-3 leaves room for
    /// Float32 rounding in long reductions (e.g. softmax over 130 keys) and is far below what a wrong
    /// formula gives (>= 1e-1).
    var passes: Bool { forwardError <= 1e-5 && gradErrors.allSatisfy { $0 <= 1e-3 } }
}

/// Random values in [-1, 1) from a fixed seed.
func randomValues(_ n: Int, seed: UInt64, scale: Float = 1) -> [Float] {
    var rng = SeededRNG(seed: seed)
    return (0..<n).map { _ in (rng.nextFloat() * 2 - 1) * scale }
}

/// Checks `op` (Swift, Float32 with autograd) against `ref` (Double, no autograd) on loss L = Σ w ⊙ y.
func gradCheck(_ inputs: [CheckInput], seed: UInt64 = 7,
               op: ([Tensor]) -> Tensor, ref: ([[Double]]) -> [Double]) -> CheckResult {
    let tensors = inputs.map { Tensor($0.values, shape: $0.shape, requiresGrad: $0.differentiable) }
    let y = op(tensors)
    let w = randomValues(y.count, seed: seed &+ 99)
    let wT = Tensor(w, shape: y.shape)
    let loss = sum(mul(y, wT))
    Autograd.backward(loss)

    let xs = inputs.map { $0.values.map(Double.init) }
    let yRef = ref(xs)
    precondition(yRef.count == y.count, "reference gives \(yRef.count) outputs, op \(y.count)")
    let scaleY = max(1, yRef.map(abs).max() ?? 1)
    var fErr = 0.0
    for i in 0..<y.count { fErr = max(fErr, abs(Double(y[i]) - yRef[i]) / scaleY) }

    func lossRef(_ xs: [[Double]]) -> Double {
        zip(ref(xs), w).reduce(0) { $0 + $1.0 * Double($1.1) }
    }
    var gErrs: [Double] = []
    for (k, inp) in inputs.enumerated() where inp.differentiable {
        let g = tensors[k].grad?.array ?? [Float](repeating: 0, count: inp.values.count)
        var num = 0.0, den = 0.0
        var xp = xs
        for i in 0..<xs[k].count {
            let h = 1e-6 * max(1, abs(xs[k][i]))
            xp[k][i] = xs[k][i] + h
            let lp = lossRef(xp)
            xp[k][i] = xs[k][i] - h
            let lm = lossRef(xp)
            xp[k][i] = xs[k][i]
            let gr = (lp - lm) / (2 * h)
            num += (Double(g[i]) - gr) * (Double(g[i]) - gr)
            den += gr * gr
        }
        gErrs.append(num.squareRoot() / max(den.squareRoot(), 1e-8))
    }
    return CheckResult(forwardError: fErr, gradErrors: gErrs)
}

// MARK: Double references (naive loops, row-major).

/// C = op(A) op(B) in Double.
func refMatmul(_ a: [Double], _ b: [Double], m: Int, k: Int, n: Int, transA: Bool, transB: Bool) -> [Double] {
    var c = [Double](repeating: 0, count: m * n)
    for i in 0..<m { for j in 0..<n {
        var s = 0.0
        for p in 0..<k {
            let av = transA ? a[p * m + i] : a[i * k + p]
            let bv = transB ? b[j * k + p] : b[p * n + j]
            s += av * bv
        }
        c[i * n + j] = s
    } }
    return c
}

func refErf(_ x: Double) -> Double { Foundation.erf(x) }

func refLayerNorm(_ x: [Double], _ g: [Double], _ b: [Double], c: Int, eps: Double) -> [Double] {
    var y = x
    for r in 0..<(x.count / c) {
        let row = Array(x[(r * c)..<((r + 1) * c)])
        let mean = row.reduce(0, +) / Double(c)
        let v = row.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(c)
        for j in 0..<c { y[r * c + j] = (row[j] - mean) / (v + eps).squareRoot() * g[j] + b[j] }
    }
    return y
}

func refSoftmaxRows(_ x: [Double], s: Int, mask: [Double]?, rowsPerBatch: Int) -> [Double] {
    var y = x
    for r in 0..<(x.count / s) {
        var row = (0..<s).map { x[r * s + $0] + (mask?[(r / rowsPerBatch) * s + $0] ?? 0) }
        let mx = row.max()!
        row = row.map { Foundation.exp($0 - mx) }
        let z = row.reduce(0, +)
        for j in 0..<s { y[r * s + j] = row[j] / z }
    }
    return y
}
