// InferenceWeights: a BERT model's projections prepared once for a run of inference batches (merged, stacked, packed).
import RecAlignNN
import RecAlignTensor

/// The weights an inference forward pass uses, prepared from a model once per `encode` call rather than once
/// per batch per layer: each projection with its adapter merged in (`LinearLayer.merged`, so LoRA and IA3 cost
/// nothing at inference), Q, K and V stacked [3C, C] so one GEMM computes all three, and every matrix packed
/// for OpenBLAS's kernel (`PackedWeight`; skipped where the kernels are unavailable), or, at int8 / bf16
/// precision, quantized once for oneDNN (`LowPrecisionWeight`; attention, LayerNorm, GELU and pooling stay
/// float32). A snapshot: the model's weights must not change while it is in use.
public final class InferenceWeights: @unchecked Sendable {
    /// y = x Wᵀ + b with W packed.
    public struct Projection {
        public let weight: Tensor
        public let bias: Tensor?
        public let packed: PackedWeight?
        public let lowPrecision: LowPrecisionWeight?

        init(_ weight: Tensor, _ bias: Tensor?, precision: Precision, outlierThreshold: Float? = nil) {
            self.weight = weight; self.bias = bias
            lowPrecision = LowPrecisionWeight(weight, precision: precision, outlierThreshold: outlierThreshold)
            packed = lowPrecision == nil ? PackedWeight(weight) : nil
        }

        /// x [..., in] -> [..., out], no autograd.
        func callAsFunction(_ x: Tensor) -> Tensor {
            guard let lowPrecision else { return Autograd.noGrad { linear(x, weight: weight, bias: bias, packed: packed) } }
            precondition(x.lastDim == lowPrecision.inputs, "projection: input \(x.shape) for \(weight.shape)")
            let y = Tensor(uninitialized: Array(x.shape.dropLast()) + [lowPrecision.outputs])
            lowPrecision.apply(x.data, rows: x.rows, bias: bias?.data, into: y.data)
            return y
        }
    }

    /// One layer's projections.
    public struct Layer {
        /// Q, K, V stacked: weight [3C, C], bias [3C].
        public let qkv: Projection
        public let attentionOutput: Projection
        public let intermediate: Projection
        public let output: Projection
    }

    public let layers: [Layer]
    /// The precision the projections run at (`Precision.plan` of the one asked for).
    public let precision: Precision

    /// `precision`: as asked when this CPU has it, else fp32 (see `Precision.plan`).
    public init(_ model: BertModel, precision requested: Precision = .fp32) {
        let precision = Precision.plan(requested).precision
        self.precision = precision
        // int8: outlier input columns (|x| > 3) in float32; the FFN's output projection (K = 1536, the largest
        // int8 weight error) in bf16 where the CPU has it, else float32. Chosen on the golden sentences' cosine.
        let outliers: Float? = precision == .int8 ? 3 : nil
        let ffnOutput: Precision = precision != .int8 ? precision : Precision.plan(.bf16).precision
        layers = Autograd.noGrad {
            model.encoder.layer.map { l in
                let sa = l.attention.selfAttention
                let (q, k, v) = (sa.query.merged(), sa.key.merged(), sa.value.merged())
                let biases = [q.bias, k.bias, v.bias].compactMap { $0 }
                precondition(biases.isEmpty || biases.count == 3, "InferenceWeights: Q, K and V must all have a bias or none")
                let bias = biases.isEmpty ? nil : concat(biases, axis: 0)
                func prepared(_ layer: any LinearLayer, _ precision: Precision) -> Projection {
                    let m = layer.merged(); return Projection(m.weight, m.bias, precision: precision, outlierThreshold: outliers)
                }
                return Layer(qkv: Projection(concat([q.weight, k.weight, v.weight], axis: 0), bias, precision: precision,
                                             outlierThreshold: outliers),
                             attentionOutput: prepared(l.attention.output.dense, precision),
                             intermediate: prepared(l.intermediate.dense, precision),
                             output: prepared(l.output.dense, ffnOutput))
            }
        }
    }
}
