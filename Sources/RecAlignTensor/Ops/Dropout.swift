// Dropout: zeroes each element with probability p (seeded) and scales the rest by 1/(1-p).
import Foundation

/// y = x ⊙ m / (1 - p), m ~ Bernoulli(1 - p) drawn from `rng`. p = 0 returns x itself.
/// Backward: dx += dy ⊙ m / (1 - p).
/// The mask is kept as one byte per element (a quarter of a Float mask); backward keeps neither x nor y.
public func dropout(_ x: Tensor, p: Float, rng: inout SeededRNG) -> Tensor {
    precondition(p >= 0 && p < 1, "dropout: p = \(p) must be in [0, 1)")
    if p == 0 { return x }
    let keep = 1 / (1 - p)
    let n = x.count
    let mask = dropoutMask(n, p: p, rng: &rng)
    let needs = Autograd.needsGrad(x)
    let y = Tensor.output(x.shape, grad: needs)
    let xd = x.data, yd = y.data
    Parallel.chunks(n) { lo, hi in applyKeepMask(xd, mask, keep, yd, lo, hi) }
    guard needs else { mask.deallocate(); return y }
    let owner = ByteMask(mask)
    let gx = GradRef(x), gy = GradRef(y)
    Autograd.record {
        gy.withIncoming { dY in
            let dX = gx.data, md = owner.bytes
            Parallel.chunks(n) { lo, hi in for j in lo..<hi { dX[j] += dY[j] * (md[j] != 0 ? keep : 0) } }
        }
    }
    return y
}

/// A freshly allocated keep-mask of `n` bytes (1 = keep, with probability 1 - p), drawn in order from `rng`:
/// a threshold on 24 random bits, two draws per 64-bit output. The caller deallocates it.
func dropoutMask(_ n: Int, p: Float, rng: inout SeededRNG) -> UnsafeMutablePointer<UInt8> {
    let mask = UnsafeMutablePointer<UInt8>.allocate(capacity: max(n, 1))
    let threshold = UInt64(Double(p) * 16_777_216.0)
    var i = 0
    while i < n {
        let r = rng.next()
        mask[i] = (r >> 40) >= threshold ? 1 : 0
        if i + 1 < n { mask[i + 1] = ((r >> 8) & 0xFFFFFF) >= threshold ? 1 : 0 }
        i += 2
    }
    return mask
}

/// y[j] = x[j] · keep where the mask keeps j, else x[j] · 0 (NaN stays NaN, as in PyTorch), for j in lo..<hi
/// (x and y may be the same buffer).
@inline(__always)
func applyKeepMask(_ x: UnsafePointer<Float>, _ mask: UnsafePointer<UInt8>, _ keep: Float, _ y: UnsafeMutablePointer<Float>,
                   _ lo: Int, _ hi: Int) {
    for j in lo..<hi { y[j] = x[j] * (mask[j] != 0 ? keep : 0) }
}

/// Owns a byte mask for as long as a backward closure holds it.
final class ByteMask: @unchecked Sendable {
    let bytes: UnsafeMutablePointer<UInt8>
    init(_ bytes: UnsafeMutablePointer<UInt8>) { self.bytes = bytes }
    deinit { bytes.deallocate() }
}
