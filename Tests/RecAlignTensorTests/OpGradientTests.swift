// OpGradientTests: a finite-difference gradient check for every differentiable op, on odd shapes and batch 1.
import Foundation
import Testing
import RecAlignNN
import RecAlignTensor

private func inp(_ shape: [Int], _ seed: UInt64, scale: Float = 1, diff: Bool = true) -> CheckInput {
    CheckInput(values: randomValues(shape.reduce(1, *), seed: seed, scale: scale), shape: shape, differentiable: diff)
}

@Suite("Gradient checks (Float32 autograd vs Double central differences)")
struct OpGradientTests {
    @Test(arguments: [(false, false), (false, true), (true, false), (true, true)])
    func matmulTransposes(ta: Bool, tb: Bool) {
        for (m, k, n) in [(1, 3, 2), (5, 7, 3), (17, 4, 9)] {
            let a = inp(ta ? [k, m] : [m, k], 1), b = inp(tb ? [n, k] : [k, n], 2)
            let r = gradCheck([a, b], op: { matmul($0[0], $0[1], transA: ta, transB: tb) },
                              ref: { refMatmul($0[0], $0[1], m: m, k: k, n: n, transA: ta, transB: tb) })
            #expect(r.passes, "matmul ta=\(ta) tb=\(tb) \(m)x\(k)x\(n): \(r)")
        }
    }

    @Test func linearWithBiasAndBatchAxes() {
        for (shape, nOut) in [([1, 1, 5], 3), ([2, 3, 7], 4), ([3, 17], 2)] {
            let nIn = shape.last!, rows = shape.reduce(1, *) / nIn
            let r = gradCheck([inp(shape, 3), inp([nOut, nIn], 4), inp([nOut], 5)],
                              op: { linear($0[0], weight: $0[1], bias: $0[2]) },
                              ref: { xs in
                                  var y = refMatmul(xs[0], xs[1], m: rows, k: nIn, n: nOut, transA: false, transB: true)
                                  for i in 0..<y.count { y[i] += xs[2][i % nOut] }
                                  return y })
            #expect(r.passes, "linear \(shape)->\(nOut): \(r)")
        }
    }

    @Test(arguments: [(false, false), (false, true), (true, false), (true, true)])
    func batchedMatmul(ta: Bool, tb: Bool) {
        for (bt, m, k, n) in [(1, 2, 3, 4), (3, 5, 2, 7)] {
            let a = inp(ta ? [bt, k, m] : [bt, m, k], 6), b = inp(tb ? [bt, n, k] : [bt, k, n], 7)
            let r = gradCheck([a, b], op: { bmm($0[0], $0[1], transA: ta, transB: tb) }, ref: { xs in
                (0..<bt).flatMap { i in
                    refMatmul(Array(xs[0][(i * m * k)..<((i + 1) * m * k)]), Array(xs[1][(i * k * n)..<((i + 1) * k * n)]),
                              m: m, k: k, n: n, transA: ta, transB: tb)
                } })
            #expect(r.passes, "bmm ta=\(ta) tb=\(tb): \(r)")
        }
    }

    @Test func attentionProducts() {
        for (b, t, s, h, d) in [(1, 1, 1, 1, 3), (2, 3, 5, 2, 3), (1, 4, 6, 3, 2)] {
            let c = h * d
            let scale: Float = 0.37
            let rs = gradCheck([inp([b, t, c], 8), inp([b, s, c], 9)],
                               op: { attentionScores($0[0], $0[1], heads: h, scale: scale) }, ref: { xs in
                var y = [Double](repeating: 0, count: b * h * t * s)
                for bi in 0..<b { for hi in 0..<h { for ti in 0..<t { for si in 0..<s {
                    var acc = 0.0
                    for di in 0..<d { acc += xs[0][(bi * t + ti) * c + hi * d + di] * xs[1][(bi * s + si) * c + hi * d + di] }
                    y[((bi * h + hi) * t + ti) * s + si] = Double(scale) * acc
                } } } }
                return y })
            #expect(rs.passes, "attentionScores \(b),\(t),\(s),\(h),\(d): \(rs)")
            let rc = gradCheck([inp([b, h, t, s], 10), inp([b, s, c], 11)],
                               op: { attentionContext($0[0], $0[1]) }, ref: { xs in
                var y = [Double](repeating: 0, count: b * t * c)
                for bi in 0..<b { for hi in 0..<h { for ti in 0..<t { for di in 0..<d {
                    var acc = 0.0
                    for si in 0..<s { acc += xs[0][((bi * h + hi) * t + ti) * s + si] * xs[1][(bi * s + si) * c + hi * d + di] }
                    y[(bi * t + ti) * c + hi * d + di] = acc
                } } } }
                return y })
            #expect(rc.passes, "attentionContext: \(rc)")
        }
    }

    /// The fused training attention equals the composite of the grad-checked ops above (scores, masked
    /// softmax, dropout, context): outputs, the gradients of Q, K and V, and the draws taken from the RNG.
    @Test(arguments: [Float(0), 0.1])
    func fusedAttentionEqualsComposite(p: Float) {
        for (b, t, s, h, d) in [(1, 1, 1, 1, 3), (2, 5, 5, 2, 4), (3, 4, 7, 3, 2)] {
            let c = h * d
            var maskValues = [Float](repeating: 0, count: b * s)
            for bi in 1..<max(b, 1) where s > 2 { maskValues[bi * s + s - bi] = -Float.greatestFiniteMagnitude }   // padding
            let mask = Tensor(maskValues, shape: [b, s])
            let upstream = Tensor(randomValues(b * t * c, seed: 60), shape: [b, t, c])
            func run(fused: Bool) -> (out: [Float], grads: [[Float]], rngAfter: UInt64) {
                let q = Tensor(randomValues(b * t * c, seed: 61, scale: 2), shape: [b, t, c], requiresGrad: true)
                let k = Tensor(randomValues(b * s * c, seed: 62, scale: 2), shape: [b, s, c], requiresGrad: true)
                let v = Tensor(randomValues(b * s * c, seed: 63), shape: [b, s, c], requiresGrad: true)
                var rng = SeededRNG(seed: 7)
                let o: Tensor
                if fused {
                    o = attention(q, k, v, mask: mask, heads: h, scale: 0.37, dropout: p, rng: &rng)
                } else {
                    var probs = softmax(attentionScores(q, k, heads: h, scale: 0.37), mask: mask)
                    if p > 0 { probs = dropout(probs, p: p, rng: &rng) }
                    o = attentionContext(probs, v)
                }
                Autograd.backward(sum(mul(o, upstream)))
                return (o.array, [q, k, v].map { $0.grad!.array }, rng.next())
            }
            let f = run(fused: true), r = run(fused: false)
            #expect(f.rngAfter == r.rngAfter, "same draws from the RNG")
            let outDiff = zip(f.out, r.out).map { abs($0 - $1) }.max() ?? 0
            #expect(outDiff <= 1e-6, "output \(b),\(t),\(s),\(h),\(d) p \(p): max diff \(outDiff)")
            for (name, (gf, gr)) in zip(["Q", "K", "V"], zip(f.grads, r.grads)) {
                let scaleRef = max(gr.map { abs($0) }.max() ?? 0, 1e-3)
                let diff = zip(gf, gr).map { abs($0 - $1) }.max() ?? 0
                #expect(diff <= 1e-5 * scaleRef, "d\(name) \(b),\(t),\(s),\(h),\(d) p \(p): max diff \(diff) of \(scaleRef)")
                #expect(gf.contains { $0 != 0 } || b * t == 1, "d\(name) is not all zero")
            }
        }
    }

    /// Causal attention (query t sees keys up to t + S - T) equals the composite with the causal mask added to
    /// the scores: outputs and the gradients of Q, K and V, with and without dropout and padding.
    @Test(arguments: [Float(0), 0.1])
    func causalAttentionEqualsCompositeWithMask(p: Float) {
        for (b, t, s, h, d) in [(1, 1, 1, 1, 3), (2, 5, 5, 2, 4), (2, 3, 6, 3, 2)] {
            let c = h * d
            var maskValues = [Float](repeating: 0, count: b * s)
            if b > 1 { maskValues[s] = -Float.greatestFiniteMagnitude }   // left padding of the second row
            let mask = Tensor(maskValues, shape: [b, s])
            var causal = [Float](repeating: 0, count: t * s)
            for i in 0..<t { for j in 0..<s where j > i + s - t { causal[i * s + j] = -1e9 } }
            let causalMask = Tensor(causal, shape: [t, s])
            let upstream = Tensor(randomValues(b * t * c, seed: 70), shape: [b, t, c])
            func run(fused: Bool) -> (out: [Float], grads: [[Float]]) {
                let q = Tensor(randomValues(b * t * c, seed: 71, scale: 2), shape: [b, t, c], requiresGrad: true)
                let k = Tensor(randomValues(b * s * c, seed: 72, scale: 2), shape: [b, s, c], requiresGrad: true)
                let v = Tensor(randomValues(b * s * c, seed: 73), shape: [b, s, c], requiresGrad: true)
                var rng = SeededRNG(seed: 8)
                let o: Tensor
                if fused {
                    o = attention(q, k, v, mask: mask, heads: h, scale: 0.37, causal: true, dropout: p, rng: &rng)
                } else {
                    var probs = softmax(add(attentionScores(q, k, heads: h, scale: 0.37), causalMask), mask: mask)
                    if p > 0 { probs = dropout(probs, p: p, rng: &rng) }
                    o = attentionContext(probs, v)
                }
                Autograd.backward(sum(mul(o, upstream)))
                return (o.array, [q, k, v].map { $0.grad!.array })
            }
            let f = run(fused: true), r = run(fused: false)
            // Rows whose visible keys are all padding are excluded: there the two differ by design (the
            // composite falls back to the future keys, the fused op to the visible padding), and no caller
            // reads them.
            var rowOK = [Bool](repeating: true, count: b * t)
            for bi in 0..<b { for i in 0..<t { rowOK[bi * t + i] = (0...min(s - 1, i + s - t)).contains { maskValues[bi * s + $0] == 0 } } }
            var outDiff: Float = 0
            for (n, (x, y)) in zip(f.out, r.out).enumerated() where rowOK[n / c] { outDiff = max(outDiff, abs(x - y)) }
            #expect(outDiff <= 1e-6, "causal output \(b),\(t),\(s),\(h),\(d) p \(p): max diff \(outDiff)")
            if rowOK.allSatisfy({ $0 }) {
                for (name, (gf, gr)) in zip(["Q", "K", "V"], zip(f.grads, r.grads)) {
                    let scaleRef = max(gr.map { abs($0) }.max() ?? 0, 1e-3)
                    let diff = zip(gf, gr).map { abs($0 - $1) }.max() ?? 0
                    #expect(diff <= 1e-5 * scaleRef, "causal d\(name) \(b),\(t),\(s),\(h),\(d) p \(p): max diff \(diff) of \(scaleRef)")
                }
            }
        }
    }

    @Test func elementwiseWithBroadcast() {
        let shape = [2, 3, 17]
        for bShape in [[2, 3, 17], [17], [1]] {
            let c = 17
            func bi(_ i: Int) -> Int { bShape == [1] ? 0 : (bShape == [17] ? i % c : i) }
            let ra = gradCheck([inp(shape, 12), inp(bShape, 13)], op: { add($0[0], $0[1]) },
                               ref: { xs in xs[0].indices.map { xs[0][$0] + xs[1][bi($0)] } })
            let rs = gradCheck([inp(shape, 14), inp(bShape, 15)], op: { sub($0[0], $0[1]) },
                               ref: { xs in xs[0].indices.map { xs[0][$0] - xs[1][bi($0)] } })
            let rm = gradCheck([inp(shape, 16), inp(bShape, 17)], op: { mul($0[0], $0[1]) },
                               ref: { xs in xs[0].indices.map { xs[0][$0] * xs[1][bi($0)] } })
            #expect(ra.passes && rs.passes && rm.passes, "broadcast \(bShape): add \(ra) sub \(rs) mul \(rm)")
        }
        // A [T, C] table broadcast over the batch (position embeddings).
        let rt = gradCheck([inp([3, 4, 5], 42), inp([4, 5], 43)], op: { add($0[0], $0[1]) },
                           ref: { xs in xs[0].indices.map { xs[0][$0] + xs[1][$0 % 20] } })
        #expect(rt.passes, "add [T, C] table: \(rt)")
        let rsc = gradCheck([inp([1, 5], 18)], op: { scale($0[0], -2.5) }, ref: { $0[0].map { -2.5 * $0 } })
        #expect(rsc.passes, "scale: \(rsc)")
    }

    @Test func activations() {
        for shape in [[1, 1], [3, 7], [2, 33]] {
            let rg = gradCheck([inp(shape, 19, scale: 4)], op: { gelu($0[0]) },
                               ref: { $0[0].map { 0.5 * $0 * (1 + refErf($0 / 2.0.squareRoot())) } })
            #expect(rg.passes, "gelu \(shape): \(rg)")
            let rt = gradCheck([inp(shape, 20, scale: 3)], op: { tanh($0[0]) }, ref: { $0[0].map { Foundation.tanh($0) } })
            #expect(rt.passes, "tanh \(shape): \(rt)")
        }
    }

    @Test func layerNormAllInputs() {
        for shape in [[1, 1, 3], [2, 5, 17], [4, 33]] {
            let c = shape.last!
            let r = gradCheck([inp(shape, 21, scale: 2), inp([c], 22), inp([c], 23)],
                              op: { layerNorm($0[0], gamma: $0[1], beta: $0[2], eps: 1e-5) },
                              ref: { refLayerNorm($0[0], $0[1], $0[2], c: c, eps: 1e-5) })
            #expect(r.passes, "layerNorm \(shape): \(r)")
        }
    }

    @Test func softmaxWithAndWithoutMask() {
        for (b, h, t, s) in [(1, 1, 1, 3), (2, 3, 2, 5), (2, 1, 3, 19)] {
            let r = gradCheck([inp([b, h, t, s], 24, scale: 3)], op: { softmax($0[0]) },
                              ref: { refSoftmaxRows($0[0], s: s, mask: nil, rowsPerBatch: h * t) })
            #expect(r.passes, "softmax: \(r)")
            // Additive mask: last key of batch item 0 is padding.
            var m = [Float](repeating: 0, count: b * s)
            m[s - 1] = -1e4
            let maskT = Tensor(m, shape: [b, s])
            let rm = gradCheck([inp([b, h, t, s], 25, scale: 3)], op: { softmax($0[0], mask: maskT) },
                               ref: { refSoftmaxRows($0[0], s: s, mask: m.map(Double.init), rowsPerBatch: h * t) })
            #expect(rm.passes, "masked softmax: \(rm)")
        }
    }

    @Test func poolingAndNormalisation() {
        for (b, t, c) in [(1, 1, 3), (3, 4, 17)] {
            var maskV = [Float](repeating: 1, count: b * t)
            if b > 1 { maskV[t - 1] = 0; maskV[2 * t - 1] = 0; maskV[2 * t - 2] = 0 }
            let mask = Tensor(maskV, shape: [b, t])
            let rp = gradCheck([inp([b, t, c], 26)], op: { meanPool($0[0], mask: mask) }, ref: { xs in
                var y = [Double](repeating: 0, count: b * c)
                for bi in 0..<b {
                    let n = (0..<t).reduce(0.0) { $0 + Double(maskV[bi * t + $1]) }
                    for ti in 0..<t { for j in 0..<c { y[bi * c + j] += Double(maskV[bi * t + ti]) * xs[0][(bi * t + ti) * c + j] / n } }
                }
                return y })
            #expect(rp.passes, "meanPool: \(rp)")
            let rc = gradCheck([inp([b, t, c], 27)], op: { selectToken($0[0], index: 0) }, ref: { xs in
                (0..<b).flatMap { bi in (0..<c).map { xs[0][(bi * t) * c + $0] } } })
            #expect(rc.passes, "selectToken: \(rc)")
            let rx = gradCheck([inp([b, t, c], 28)], op: { maxPool($0[0], mask: mask) }, ref: { xs in
                (0..<b).flatMap { bi in (0..<c).map { j in
                    (0..<t).filter { maskV[bi * t + $0] != 0 }.map { xs[0][(bi * t + $0) * c + j] }.max()! } } })
            #expect(rx.passes, "maxPool: \(rx)")
        }
        for shape in [[1, 3], [4, 17]] {
            let c = shape.last!
            let r = gradCheck([inp(shape, 29)], op: { l2Normalize($0[0]) }, ref: { xs in
                var y = xs[0]
                for r in 0..<(y.count / c) {
                    let n = (0..<c).reduce(0.0) { $0 + xs[0][r * c + $1] * xs[0][r * c + $1] }.squareRoot()
                    for j in 0..<c { y[r * c + j] /= max(n, 1e-12) }
                }
                return y })
            #expect(r.passes, "l2Normalize \(shape): \(r)")
        }
    }

    @Test func crossEntropyLoss() {
        for (n, k) in [(1, 2), (5, 7), (3, 33)] {
            let targets = (0..<n).map { ($0 * 5 + 1) % k }
            let r = gradCheck([inp([n, k], 30, scale: 5)], op: { crossEntropy($0[0], targets: targets) }, ref: { xs in
                var total = 0.0
                for i in 0..<n {
                    let row = Array(xs[0][(i * k)..<((i + 1) * k)])
                    let mx = row.max()!
                    let lse = mx + Foundation.log(row.reduce(0) { $0 + Foundation.exp($1 - mx) })
                    total += lse - row[targets[i]]
                }
                return [total / Double(n)] })
            #expect(r.passes, "crossEntropy \(n)x\(k): \(r)")
        }
    }

    @Test func shapeOps() {
        let rc = gradCheck([inp([2, 3, 5], 31), inp([2, 1, 5], 32), inp([2, 4, 5], 33)],
                           op: { concat([$0[0], $0[1], $0[2]], axis: 1) }, ref: { xs in
            var y: [Double] = []
            for b in 0..<2 {
                y += xs[0][(b * 15)..<((b + 1) * 15)]
                y += xs[1][(b * 5)..<((b + 1) * 5)]
                y += xs[2][(b * 20)..<((b + 1) * 20)]
            }
            return y })
        #expect(rc.passes, "concat: \(rc)")
        let rt = gradCheck([inp([3, 5], 34)], op: { transpose($0[0]) }, ref: { xs in
            (0..<5).flatMap { j in (0..<3).map { xs[0][$0 * 5 + j] } } })
        #expect(rt.passes, "transpose: \(rt)")
        let rn = gradCheck([inp([2, 5, 3], 44)], op: { narrow($0[0], axis: 1, start: 1, length: 3) }, ref: { xs in
            var y: [Double] = []
            for b in 0..<2 { y += xs[0][(b * 15 + 3)..<(b * 15 + 12)] }
            return y })
        #expect(rn.passes, "narrow: \(rn)")
        let rr = gradCheck([inp([2, 3], 35)], op: { repeatBatch($0[0], 4) }, ref: { xs in (0..<4).flatMap { _ in xs[0] } })
        #expect(rr.passes, "repeatBatch: \(rr)")
        let rs = gradCheck([inp([3, 7], 36)], op: { sum($0[0]) }, ref: { [$0[0].reduce(0, +)] })
        let rm = gradCheck([inp([1, 7], 37)], op: { mean($0[0]) }, ref: { [$0[0].reduce(0, +) / 7] })
        #expect(rs.passes && rm.passes, "sum \(rs) mean \(rm)")
        // Views: a reshape and a batch slice route gradients into the parent's buffer.
        let rv = gradCheck([inp([4, 6], 38)], op: { gelu($0[0].reshaped([2, 12]).slice(1..<2)) }, ref: { xs in
            Array(xs[0][12..<24]).map { 0.5 * $0 * (1 + refErf($0 / 2.0.squareRoot())) } })
        #expect(rv.passes, "reshape+slice view: \(rv)")
    }

    @Test func embeddingScattersOnlyUsedRows() {
        let ids: [Int32] = [3, 0, 3, 5]
        let r = gradCheck([inp([7, 5], 39)], op: { embedding($0[0], ids: ids, shape: [2, 2]) }, ref: { xs in
            ids.flatMap { id in (0..<5).map { xs[0][Int(id) * 5 + $0] } } })
        #expect(r.passes, "embedding: \(r)")
        let table = Tensor(randomValues(35, seed: 40), shape: [7, 5], requiresGrad: true)
        Autograd.backward(sum(embedding(table, ids: ids, shape: [4])))
        let g = table.grad!.array
        for row in [1, 2, 4, 6] { #expect(g[(row * 5)..<(row * 5 + 5)].allSatisfy { $0 == 0 }, "row \(row) untouched") }
        #expect(g[15] == 2 && g[0] == 1 && g[25] == 1, "row 3 used twice, rows 0 and 5 once")
    }

    @Test func replacingRowsRoutesGradientsToTheSplicedRows() {
        let rows: [Int32] = [4, 1]
        let r = gradCheck([inp([6, 3], 44), inp([2, 3], 45)], op: { replacingRows($0[0], rows: rows, with: $0[1]) }, ref: { xs in
            var y = xs[0]
            for (m, row) in rows.enumerated() { for j in 0..<3 { y[Int(row) * 3 + j] = xs[1][m * 3 + j] } }
            return y
        })
        #expect(r.passes, "replacingRows: \(r)")
    }

    @Test func dropoutMaskIsSeededAndRoutesGradient() {
        let n = 20_000
        var rng = SeededRNG(seed: 11)
        let x = Tensor(randomValues(n, seed: 41).map { $0 + 2 }, shape: [n], requiresGrad: true)
        let y = dropout(x, p: 0.1, rng: &rng)
        Autograd.backward(sum(y))
        let kept = (0..<n).filter { y[$0] != 0 }.count
        #expect(abs(Double(kept) / Double(n) - 0.9) < 0.01, "kept fraction \(Double(kept) / Double(n))")
        let g = x.grad!
        for i in 0..<n {
            let expected: Float = y[i] == 0 ? 0 : 1 / 0.9
            #expect(abs(g[i] - expected) < 1e-6)
            if y[i] != 0 { #expect(abs(y[i] - x[i] / 0.9) < 1e-5) }
        }
        var rng2 = SeededRNG(seed: 11)
        let y2 = Autograd.noGrad { dropout(x, p: 0.1, rng: &rng2) }
        #expect(y2.array == y.array, "same seed, same mask")
    }
}
