// GradientAllReduce: sums the parameter gradients of data-parallel ranks (MPI) before the optimizer step.
import RecAlignTensor

/// The one exchange of a data-parallel step (PyTorch DDP's allreduce, as a single bucket). Every rank has
/// back-propagated its share of the global batch, its loss scaled so that the ranks' losses add up to the whole
/// batch's loss; `reduce` packs every trainable gradient into one contiguous buffer, sums it over the ranks
/// (MPI_Allreduce) and unpacks it, so every rank takes the same step and keeps the same weights. On one
/// process both calls return at once. The buffer is kept between steps (no allocation per step).
public final class GradientAllReduce {
    private var buffer: [Float] = []
    public init() {}

    /// Floats one `reduce` of `params` sends (the trainable parameter count).
    public static func count(_ params: [Tensor]) -> Int { params.reduce(0) { $0 + $1.count } }

    /// Replaces each parameter's gradient with its sum over the ranks.
    public func reduce(_ params: [Tensor]) {
        guard Cluster.isDistributed else { return }
        let total = GradientAllReduce.count(params)
        if buffer.count != total { buffer = [Float](repeating: 0, count: total) }
        buffer.withUnsafeMutableBufferPointer { b in
            let base = b.baseAddress!
            var o = 0
            for p in params { (base + o).update(from: p.gradData, count: p.count); o += p.count }
            Cluster.allReduceSum(base, count: total)
            o = 0
            for p in params { p.gradData.update(from: base + o, count: p.count); o += p.count }
        }
    }

    /// The sum over the ranks of a scalar (the step's loss).
    public func sum(_ value: Float) -> Float {
        Cluster.isDistributed ? Float(Cluster.allReduceSum([Double(value)])[0]) : value
    }
}
