// Embedding: row gather from a table; its gradient scatters into only the rows used.
import Foundation

/// y[n, :] = table[ids[n], :]. Shapes: table [V, C], ids [N] -> y `shape` (product N) + [C].
/// Backward: dTable[ids[n], :] += dy[n, :] (rows not used stay untouched).
public func embedding(_ table: Tensor, ids: [Int32], shape: [Int]? = nil) -> Tensor {
    precondition(table.rank == 2, "embedding: table must be [V, C], got \(table.shape)")
    let v = table.shape[0], c = table.shape[1]
    let outShape = (shape ?? [ids.count]) + [c]
    precondition(outShape.reduce(1, *) == ids.count * c, "embedding: shape \(shape ?? []) for \(ids.count) ids")
    for id in ids { precondition(id >= 0 && Int(id) < v, "embedding: id \(id) outside the table's \(v) rows") }
    let needs = Autograd.needsGrad(table)
    let y = Tensor.output(outShape, grad: needs)
    let td = table.data, yd = y.data
    ids.withUnsafeBufferPointer { idp in
        for n in 0..<idp.count { (yd + n * c).update(from: td + Int(idp[n]) * c, count: c) }
    }
    if needs {
        Autograd.record {
            y.withIncomingGrad { dY in
                let dT = table.gradData
                for n in 0..<ids.count {
                    let row = dT + Int(ids[n]) * c, g = dY + n * c
                    for j in 0..<c { row[j] += g[j] }
                }
            }
        }
    }
    return y
}

/// y = base with row rows[m] replaced by values[m] (the rest of base copied). Shapes: base [V, C], rows [M]
/// (distinct, in 0..<V), values [M, C] -> y [V, C]. Used to splice freshly encoded rows (with gradients) into a
/// table of cached ones. Backward: dValues[m, :] += dy[rows[m], :]; dBase += dy on the rows not replaced.
public func replacingRows(_ base: Tensor, rows: [Int32], with values: Tensor) -> Tensor {
    precondition(base.rank == 2 && values.rank == 2 && values.shape[1] == base.shape[1] && values.shape[0] == rows.count,
                 "replacingRows: base \(base.shape), \(rows.count) rows, values \(values.shape)")
    let v = base.shape[0], c = base.shape[1]
    var replaced = [Bool](repeating: false, count: v)
    for r in rows {
        precondition(r >= 0 && Int(r) < v && !replaced[Int(r)], "replacingRows: row \(r) outside 0..<\(v) or repeated")
        replaced[Int(r)] = true
    }
    let needs = Autograd.needsGrad(base, values)
    let y = Tensor.output(base.shape, grad: needs)
    y.data.update(from: base.data, count: v * c)
    for (m, r) in rows.enumerated() { (y.data + Int(r) * c).update(from: values.data + m * c, count: c) }
    if needs {
        Autograd.record {
            y.withIncomingGrad { dY in
                if values.requiresGrad {
                    let dV = values.gradData
                    for (m, r) in rows.enumerated() { for j in 0..<c { dV[m * c + j] += dY[Int(r) * c + j] } }
                }
                if base.requiresGrad {
                    let dB = base.gradData
                    for i in 0..<v where !replaced[i] { for j in 0..<c { dB[i * c + j] += dY[i * c + j] } }
                }
            }
        }
    }
    return y
}
