// FullTuning: fine-tuning every encoder weight, or only the last layers; the checkpoint is a whole model folder.
import RecAlignNN
import RecAlignTensor

/// Every encoder weight trains.
public struct FullTuning: TuningMethod {
    public static let name = "full"
    public static let defaultLearningRate: Float = 5e-5
    public static let savesWholeModel = true
    public init(_ options: MethodOptions = MethodOptions()) {}
    public var description: String { "full" }

    public func apply(to encoder: SentenceEncoder, rng: inout SeededRNG) throws -> [(name: String, tensor: Tensor)] {
        encoder.model.unfreeze()
        return encoder.model.trainableParameters()
    }
}

/// The last `layers` encoder layers train; embeddings and lower layers stay frozen.
public struct TopLayersTuning: TuningMethod {
    public static let name = "top-layers"
    public static let defaultLearningRate: Float = 1e-4
    public static let savesWholeModel = true
    public let layers: Int
    public init(_ options: MethodOptions) throws { self.init(layers: options.layers) }
    public init(layers: Int) { self.layers = layers }
    public var description: String { "top-layers(\(layers))" }

    public func apply(to encoder: SentenceEncoder, rng: inout SeededRNG) throws -> [(name: String, tensor: Tensor)] {
        let n = encoder.model.config.numHiddenLayers
        guard layers >= 1 && layers <= n else {
            throw TuningMethodError("top-layers: --layers \(layers) must be in 1...\(n)")
        }
        for layer in encoder.model.encoder.layer.suffix(layers) { layer.unfreeze() }
        return encoder.model.trainableParameters()
    }
}

extension TuningMethod where Self == FullTuning {
    public static var full: FullTuning { FullTuning() }
}

extension TuningMethod where Self == TopLayersTuning {
    public static func topLayers(_ n: Int) -> TopLayersTuning { TopLayersTuning(layers: n) }
}
