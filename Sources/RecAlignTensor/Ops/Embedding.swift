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
