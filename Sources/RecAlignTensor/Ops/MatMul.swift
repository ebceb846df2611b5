// MatMul: matrix products (either operand transposed), the linear layer's x·Wᵀ + b, and batched matmul.
import Foundation

/// C = op(A) · op(B) for 2-D operands; A may carry leading batch axes when not transposed ([..., K]).
///
/// Shapes: op(A) is [M, K], op(B) is [K, N], C is [M, N] (or A's leading axes + [N]).
/// Backward (dC given):
///   C = A B    : dA += dC Bᵀ,   dB += Aᵀ dC
///   C = A Bᵀ   : dA += dC B,    dB += dCᵀ A
///   C = Aᵀ B   : dA += B dCᵀ,   dB += A dC
///   C = Aᵀ Bᵀ  : dA += Bᵀ dCᵀ,  dB += dCᵀ Aᵀ
public func matmul(_ a: Tensor, _ b: Tensor, transA: Bool = false, transB: Bool = false) -> Tensor {
    precondition(b.rank == 2, "matmul: B must be 2-D, got \(b.shape)")
    precondition(!transA || a.rank == 2, "matmul: a transposed A must be 2-D, got \(a.shape)")
    let aRows = a.rows, aCols = a.lastDim
    let m = transA ? aCols : aRows, k = transA ? aRows : aCols
    let bk = transB ? b.shape[1] : b.shape[0], n = transB ? b.shape[0] : b.shape[1]
    precondition(k == bk, "matmul: inner sizes differ: \(a.shape)\(transA ? "ᵀ" : "") · \(b.shape)\(transB ? "ᵀ" : "")")
    let outShape = transA ? [m, n] : Array(a.shape.dropLast()) + [n]
    let needs = Autograd.needsGrad(a, b)
    let c = Tensor.output(outShape, grad: needs)
    BLAS.gemm(transA: transA, transB: transB, m: m, n: n, k: k, a: a.data, lda: aCols, b: b.data,
              ldb: b.shape[1], beta: 0, c: c.data, ldc: n)
    if needs {
        Autograd.record {
            c.withIncomingGrad { dC in
                let ldb = b.shape[1]
                if a.requiresGrad {
                    switch (transA, transB) {
                    case (false, false): BLAS.gemm(transA: false, transB: true, m: m, n: k, k: n, a: dC, lda: n, b: b.data, ldb: ldb, beta: 1, c: a.gradData, ldc: aCols)
                    case (false, true): BLAS.gemm(transA: false, transB: false, m: m, n: k, k: n, a: dC, lda: n, b: b.data, ldb: ldb, beta: 1, c: a.gradData, ldc: aCols)
                    case (true, false): BLAS.gemm(transA: false, transB: true, m: k, n: m, k: n, a: b.data, lda: ldb, b: dC, ldb: n, beta: 1, c: a.gradData, ldc: aCols)
                    case (true, true): BLAS.gemm(transA: true, transB: true, m: k, n: m, k: n, a: b.data, lda: ldb, b: dC, ldb: n, beta: 1, c: a.gradData, ldc: aCols)
                    }
                }
                if b.requiresGrad {
                    switch (transA, transB) {
                    case (false, false): BLAS.gemm(transA: true, transB: false, m: k, n: n, k: m, a: a.data, lda: aCols, b: dC, ldb: n, beta: 1, c: b.gradData, ldc: ldb)
                    case (false, true): BLAS.gemm(transA: true, transB: false, m: n, n: k, k: m, a: dC, lda: n, b: a.data, ldb: aCols, beta: 1, c: b.gradData, ldc: ldb)
                    case (true, false): BLAS.gemm(transA: false, transB: false, m: k, n: n, k: m, a: a.data, lda: aCols, b: dC, ldb: n, beta: 1, c: b.gradData, ldc: ldb)
                    case (true, true): BLAS.gemm(transA: true, transB: true, m: n, n: k, k: m, a: dC, lda: n, b: a.data, ldb: aCols, beta: 1, c: b.gradData, ldc: ldb)
                    }
                }
            }
        }
    }
    return c
}

/// The linear layer: Y[..., out] = X[..., in] · Wᵀ + b, with W stored [out, in] as in PyTorch / HF.
///
/// Backward: dX += dY W;  dW += dYᵀ X;  db += Σ_rows dY.
/// `packed` / `packedForInputGradient`: copies of W packed for OpenBLAS's kernel (`PackedWeight`) for x·Wᵀ
/// and dY·W, used when W cannot have changed since they were made: when no gradient is needed (an
/// inference scope) or when W is frozen.
public func linear(_ x: Tensor, weight w: Tensor, bias b: Tensor?, packed: PackedWeight? = nil,
                   packedForInputGradient: PackedWeight? = nil) -> Tensor {
    precondition(w.rank == 2 && x.lastDim == w.shape[1], "linear: input \(x.shape) vs weight \(w.shape)")
    let rows = x.rows, nIn = w.shape[1], nOut = w.shape[0]
    if let b { precondition(b.count == nOut, "linear: bias \(b.shape) for \(nOut) outputs") }
    let needs = Autograd.needsGrad(x, w, b)
    let y = Tensor.output(Array(x.shape.dropLast()) + [nOut], grad: needs)
    let yd = y.data
    if let b {
        let bd = b.data
        for r in 0..<rows { (yd + r * nOut).update(from: bd, count: nOut) }
    }
    if let packed, !needs || !w.requiresGrad {
        precondition(packed.outputs == nOut && packed.inputs == nIn, "linear: packed weight \(packed.outputs)x\(packed.inputs) for \(w.shape)")
        if b == nil { yd.update(repeating: 0, count: rows * nOut) }
        BLAS.gemmPacked(x.data, rows: rows, packed, into: yd)
    } else {
        BLAS.gemm(transA: false, transB: true, m: rows, n: nOut, k: nIn, a: x.data, lda: nIn, b: w.data, ldb: nIn,
                  beta: b == nil ? 0 : 1, c: yd, ldc: nOut)
    }
    if !needs { return y }
    let packedT = w.requiresGrad ? nil : packedForInputGradient
    if let packedT { precondition(packedT.outputs == nIn && packedT.inputs == nOut, "linear: packed input-gradient weight for \(w.shape)") }
    // dX needs only W: X's values are kept for dW alone, so with a frozen W they can be freed early.
    let gy = GradRef(y), gx = GradRef(x), xKept: Tensor? = w.requiresGrad ? x : nil
    Autograd.record {
        gy.withIncoming { dY in
            if gx.requiresGrad {
                if let packedT {
                    BLAS.gemmPacked(dY, rows: rows, packedT, into: gx.data)
                } else {
                    BLAS.gemm(transA: false, transB: false, m: rows, n: nIn, k: nOut, a: dY, lda: nOut, b: w.data, ldb: nIn, beta: 1, c: gx.data, ldc: nIn)
                }
            }
            if let xKept {
                BLAS.gemm(transA: true, transB: false, m: nOut, n: nIn, k: rows, a: dY, lda: nOut, b: xKept.data, ldb: nIn, beta: 1, c: w.gradData, ldc: nIn)
            }
            if let b, b.requiresGrad { BLAS.addColumnSums(dY, rows: rows, cols: nOut, into: b.gradData) }
        }
    }
    return y
}

/// Batched matmul: C[i] = op(A[i]) · op(B[i]) for i in 0..<batch, A [batch, ·, ·], B [batch, ·, ·].
/// Leading axes before the last two are flattened into the batch. Backward as `matmul`, per batch item.
public func bmm(_ a: Tensor, _ b: Tensor, transA: Bool = false, transB: Bool = false) -> Tensor {
    precondition(a.rank >= 3 && b.rank == a.rank, "bmm: ranks \(a.shape) · \(b.shape)")
    let batch = a.shape.dropLast(2).reduce(1, *)
    precondition(b.shape.dropLast(2).reduce(1, *) == batch, "bmm: batch axes differ: \(a.shape) · \(b.shape)")
    let ar = a.shape[a.rank - 2], ac = a.shape[a.rank - 1], br = b.shape[b.rank - 2], bc = b.shape[b.rank - 1]
    let m = transA ? ac : ar, k = transA ? ar : ac, n = transB ? br : bc
    precondition(k == (transB ? bc : br), "bmm: inner sizes differ: \(a.shape) · \(b.shape)")
    let needs = Autograd.needsGrad(a, b)
    let c = Tensor.output(Array(a.shape.dropLast(2)) + [m, n], grad: needs)
    let sa = ar * ac, sb = br * bc, sc = m * n
    for i in 0..<batch {
        BLAS.gemm(transA: transA, transB: transB, m: m, n: n, k: k, a: a.data + i * sa, lda: ac,
                  b: b.data + i * sb, ldb: bc, beta: 0, c: c.data + i * sc, ldc: n)
    }
    if needs {
        Autograd.record {
            c.withIncomingGrad { dC in
                for i in 0..<batch {
                    let dCi = dC + i * sc, ai = a.data + i * sa, bi = b.data + i * sb
                    if a.requiresGrad {
                        let dA = a.gradData + i * sa
                        if !transA {
                            BLAS.gemm(transA: false, transB: !transB, m: m, n: k, k: n, a: dCi, lda: n, b: bi, ldb: bc, beta: 1, c: dA, ldc: ac)
                        } else {
                            BLAS.gemm(transA: transB, transB: true, m: k, n: m, k: n, a: bi, lda: bc, b: dCi, ldb: n, beta: 1, c: dA, ldc: ac)
                        }
                    }
                    if b.requiresGrad {
                        let dB = b.gradData + i * sb
                        if !transB {
                            BLAS.gemm(transA: !transA, transB: false, m: k, n: n, k: m, a: ai, lda: ac, b: dCi, ldb: n, beta: 1, c: dB, ldc: bc)
                        } else {
                            BLAS.gemm(transA: true, transB: transA, m: n, n: k, k: m, a: dCi, lda: n, b: ai, ldb: ac, beta: 1, c: dB, ldc: bc)
                        }
                    }
                }
            }
        }
    }
    return c
}
