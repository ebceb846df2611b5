// Shape: views that need no copy (reshape, batch slices) and copies where data must move (concat, transpose, repeat).
import Foundation

extension Tensor {
    /// The same values under a new shape (no copy; shares gradient memory). One axis may be -1.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        var s = newShape
        if let i = s.firstIndex(of: -1) {
            let known = s.enumerated().filter { $0.offset != i }.map(\.element).reduce(1, *)
            s[i] = known == 0 ? 0 : count / known
        }
        precondition(s.reduce(1, *) == count, "reshape: \(shape) has \(count) elements, not \(s)")
        return Tensor(view: s, of: self, at: 0)
    }

    /// Items `range` along the first axis (no copy; shares gradient memory).
    public func slice(_ range: Range<Int>) -> Tensor {
        precondition(rank >= 1 && range.lowerBound >= 0 && range.upperBound <= shape[0], "slice \(range) of \(shape)")
        let inner = shape.dropFirst().reduce(1, *)
        return Tensor(view: [range.count] + shape.dropFirst(), of: self, at: range.lowerBound * inner)
    }
}

/// Concatenation along `axis`: all inputs agree on every other axis.
/// Backward: each input receives its slab of dy.
public func concat(_ xs: [Tensor], axis: Int) -> Tensor {
    precondition(!xs.isEmpty, "concat: no inputs")
    let r = xs[0].rank
    precondition(axis >= 0 && axis < r, "concat: axis \(axis) for rank \(r)")
    for x in xs {
        precondition(x.rank == r && zip(x.shape, xs[0].shape).enumerated().allSatisfy { $0.offset == axis || $0.element.0 == $0.element.1 },
                     "concat: shapes \(xs.map(\.shape)) differ off axis \(axis)")
    }
    let outer = xs[0].shape.prefix(axis).reduce(1, *), inner = xs[0].shape.suffix(from: axis + 1).reduce(1, *)
    let sizes = xs.map { $0.shape[axis] * inner }
    let total = sizes.reduce(0, +)
    var shape = xs[0].shape
    shape[axis] = xs.map { $0.shape[axis] }.reduce(0, +)
    let needs = xs.contains { Autograd.needsGrad($0) }
    let y = Tensor.output(shape, grad: needs)
    var start = 0
    for (x, size) in zip(xs, sizes) {
        for o in 0..<outer { (y.data + o * total + start).update(from: x.data + o * size, count: size) }
        start += size
    }
    if needs {
        Autograd.record {
            y.withIncomingGrad { dY in
                var start = 0
                for (x, size) in zip(xs, sizes) {
                    if x.requiresGrad {
                        for o in 0..<outer { addInPlace(x.gradData + o * size, dY + o * total + start, size) }
                    }
                    start += size
                }
            }
        }
    }
    return y
}

/// Materialised transpose of a 2-D tensor: y[j, i] = x[i, j]. Backward: dx[i, j] += dy[j, i].
public func transpose(_ x: Tensor) -> Tensor {
    precondition(x.rank == 2, "transpose: needs 2-D, got \(x.shape)")
    let m = x.shape[0], n = x.shape[1]
    let needs = Autograd.needsGrad(x)
    let y = Tensor.output([n, m], grad: needs)
    for i in 0..<m { for j in 0..<n { y.data[j * m + i] = x.data[i * n + j] } }
    if needs {
        Autograd.record {
            y.withIncomingGrad { dY in
                let dX = x.gradData
                for i in 0..<m { for j in 0..<n { dX[i * n + j] += dY[j * m + i] } }
            }
        }
    }
    return y
}

/// Repeats x (any shape S) `times` along a new leading axis: [times] + S. Soft prompts and prefixes use it.
/// Backward: dx += Σ_b dy[b].
public func repeatBatch(_ x: Tensor, _ times: Int) -> Tensor {
    let needs = Autograd.needsGrad(x)
    let y = Tensor.output([times] + x.shape, grad: needs)
    for b in 0..<times { (y.data + b * x.count).update(from: x.data, count: x.count) }
    if needs {
        Autograd.record {
            y.withIncomingGrad { dY in
                for b in 0..<times { addInPlace(x.gradData, dY + b * x.count, x.count) }
            }
        }
    }
    return y
}

/// Elements `start ..< start + length` along `axis` (a copy). Backward: dx[.., start + i, ..] += dy[.., i, ..].
public func narrow(_ x: Tensor, axis: Int, start: Int, length: Int) -> Tensor {
    precondition(axis >= 0 && axis < x.rank && start >= 0 && length >= 0 && start + length <= x.shape[axis],
                 "narrow: \(start)..<\(start + length) on axis \(axis) of \(x.shape)")
    let outer = x.shape.prefix(axis).reduce(1, *), inner = x.shape.suffix(from: axis + 1).reduce(1, *)
    let full = x.shape[axis] * inner, part = length * inner, off = start * inner
    var shape = x.shape
    shape[axis] = length
    let needs = Autograd.needsGrad(x)
    let y = Tensor.output(shape, grad: needs)
    for o in 0..<outer { (y.data + o * part).update(from: x.data + o * full + off, count: part) }
    if needs {
        Autograd.record {
            y.withIncomingGrad { dY in
                for o in 0..<outer { addInPlace(x.gradData + o * full + off, dY + o * part, part) }
            }
        }
    }
    return y
}
