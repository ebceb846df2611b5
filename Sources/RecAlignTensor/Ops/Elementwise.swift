// Elementwise: add / sub / mul / scale, with broadcasting of a bias row over the leading axes.
import Foundation

/// How the second operand of a binary op lines up with the first.
enum Broadcast {
    case same                 // identical element counts
    case periodic(Int)        // b matches a's trailing axes (a bias row, a [T, C] table, a scalar): b[i % period]

    init(_ a: Tensor, _ b: Tensor, op: String) {
        if b.count == a.count { self = .same; return }
        let bShape = Array(b.shape.drop { $0 == 1 })
        if b.count == 1 || (b.count > 0 && a.count % b.count == 0 && Array(a.shape.suffix(bShape.count)) == bShape) {
            self = .periodic(b.count)
        } else {
            preconditionFailure("\(op): cannot broadcast \(b.shape) onto \(a.shape)")
        }
    }
}

@inline(__always)
func binaryForward(_ a: Tensor, _ b: Tensor, _ mode: Broadcast, _ out: Tensor, _ fs: (Float, Float) -> Float) {
    let ad = a.data, bd = b.data, od = out.data, n = a.count
    switch mode {
    case .same:
        Parallel.chunks(n) { lo, hi in for i in lo..<hi { od[i] = fs(ad[i], bd[i]) } }
    case .periodic(let c):
        let rows = n / c
        Parallel.chunks(rows, cost: c, align: 1) { lo, hi in
            for r in lo..<hi { for j in 0..<c { od[r * c + j] = fs(ad[r * c + j], bd[j]) } }
        }
    }
}

/// Accumulates Σ over broadcast repeats of `g(i)` (i over a's `n` elements) into the gradient `db` of b.
@inline(__always)
func reduceIntoB(_ n: Int, _ db: UnsafeMutablePointer<Float>, _ mode: Broadcast, _ g: (Int) -> Float) {
    switch mode {
    case .same: for i in 0..<n { db[i] += g(i) }
    case .periodic(let c):
        for r in 0..<(n / c) { for j in 0..<c { db[j] += g(r * c + j) } }
    }
}

@inline(__always) func bIndex(_ mode: Broadcast, _ i: Int) -> Int {
    switch mode { case .same: return i; case .periodic(let c): return i % c }
}

/// C = A + B (B same shape, or A's trailing axes repeated: a bias row, a [T, C] table, a scalar). Backward: dA += dC; dB += Σ_broadcast dC.
public func add(_ a: Tensor, _ b: Tensor) -> Tensor {
    let mode = Broadcast(a, b, op: "add")
    let needs = Autograd.needsGrad(a, b)
    let out = Tensor.output(a.shape, grad: needs)
    binaryForward(a, b, mode, out) { $0 + $1 }
    if needs {
        let ga = GradRef(a), gb = GradRef(b), gout = GradRef(out), n = a.count   // no values needed backward
        Autograd.record {
            gout.withIncoming { dC in
                if ga.requiresGrad { addInPlace(ga.data, dC, n) }
                if gb.requiresGrad {
                    if case .same = mode { addInPlace(gb.data, dC, n) } else { reduceIntoB(n, gb.data, mode) { dC[$0] } }
                }
            }
        }
    }
    return out
}

/// C = A - B. Backward: dA += dC; dB -= Σ_broadcast dC.
public func sub(_ a: Tensor, _ b: Tensor) -> Tensor {
    let mode = Broadcast(a, b, op: "sub")
    let needs = Autograd.needsGrad(a, b)
    let out = Tensor.output(a.shape, grad: needs)
    binaryForward(a, b, mode, out) { $0 - $1 }
    if needs {
        let ga = GradRef(a), gb = GradRef(b), gout = GradRef(out), n = a.count
        Autograd.record {
            gout.withIncoming { dC in
                if ga.requiresGrad { addInPlace(ga.data, dC, n) }
                if gb.requiresGrad { reduceIntoB(n, gb.data, mode) { -dC[$0] } }
            }
        }
    }
    return out
}

/// C = A ⊙ B. Backward: dA += dC ⊙ B; dB += Σ_broadcast dC ⊙ A.
public func mul(_ a: Tensor, _ b: Tensor) -> Tensor {
    let mode = Broadcast(a, b, op: "mul")
    let needs = Autograd.needsGrad(a, b)
    let out = Tensor.output(a.shape, grad: needs)
    binaryForward(a, b, mode, out) { $0 * $1 }
    if needs {
        Autograd.record {
            out.withIncomingGrad { dC in
                let ad = a.data, bd = b.data
                if a.requiresGrad {
                    let dA = a.gradData
                    for i in 0..<a.count { dA[i] += dC[i] * bd[bIndex(mode, i)] }
                }
                if b.requiresGrad { reduceIntoB(a.count, b.gradData, mode) { dC[$0] * ad[$0] } }
            }
        }
    }
    return out
}

/// C = s · A. Backward: dA += s · dC.
public func scale(_ a: Tensor, _ s: Float) -> Tensor {
    let needs = Autograd.needsGrad(a)
    let out = Tensor.output(a.shape, grad: needs)
    let ad = a.data, od = out.data
    Parallel.chunks(a.count) { lo, hi in for i in lo..<hi { od[i] = s * ad[i] } }
    if needs {
        Autograd.record {
            out.withIncomingGrad { dC in
                let dA = a.gradData
                for i in 0..<a.count { dA[i] += s * dC[i] }
            }
        }
    }
    return out
}

/// dst[i] += src[i] for n elements (vectorised, split over cores when large).
@inline(__always)
public func addInPlace(_ dst: UnsafeMutablePointer<Float>, _ src: UnsafePointer<Float>, _ n: Int) {
    Parallel.chunks(n) { lo, hi in for i in lo..<hi { dst[i] += src[i] } }
}
