// TuningMethod: the registry of tuning methods (full, top layers, soft prompt, prefix, LoRA, IA3) and what each provides.
import Foundation
import RecAlignNN
import RecAlignFormats
import RecAlignTensor

/// Options of the tuning methods as the command line gives them; each method reads its own.
public struct MethodOptions: Sendable {
    /// top-layers: how many of the last layers train.
    public var layers = 2
    /// prompt / prefix: virtual tokens.
    public var promptLength = 20
    /// prompt: initialise from this text's token embeddings (nil: random vocabulary rows).
    public var promptInit: String? = nil
    /// prompt: count the virtual tokens in mean pooling.
    public var poolVirtualTokens = false
    /// prefix: initialise from the key / value projections of random vocabulary rows (else Normal(0, 0.02)).
    public var prefixFromVocabulary = false
    /// LoRA rank and alpha.
    public var rank = 8
    public var alpha: Float = 16
    /// LoRA: adapt only the last this many layers (nil: every layer).
    public var loraLayers: Int? = nil
    public init() {}
}

/// A tuning method's option that does not fit the model (e.g. more top layers than it has).
public struct TuningMethodError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// A way of tuning an encoder: what it adds or unfreezes, its defaults, and how its checkpoint is saved and
/// loaded. Each method is one type in its own file, listed once in `TuningMethods.all`.
public protocol TuningMethod: Sendable, CustomStringConvertible {
    /// Name on the command line and in `adapter_config.json`'s `method` field.
    static var name: String { get }
    /// PEFT's `peft_type` for this method when PEFT has it (its adapter folders then load by that key).
    static var peftType: String? { get }
    /// Peak learning rate when the command line gives none.
    static var defaultLearningRate: Float { get }
    /// AdamW weight decay when the command line gives none (PROTOCOL section 6: 0.01 fine-tuning, 0 adapters).
    static var defaultWeightDecay: Float { get }
    /// True when a checkpoint is a whole model folder (full, top layers); the others save an adapter folder.
    static var savesWholeModel: Bool { get }
    /// True for weight adapters that a merged model folder can express (LoRA, IA3).
    static var mergesIntoWeights: Bool { get }
    /// The method with the command line's options.
    init(_ options: MethodOptions) throws
    /// Adds the method's parameters to `encoder`, whose own weights are frozen, and returns those that train.
    func apply(to encoder: SentenceEncoder, rng: inout SeededRNG) throws -> [(name: String, tensor: Tensor)]
    /// Writes the adapter folder of an encoder this method was applied to (adapter methods only).
    func save(_ encoder: SentenceEncoder, to dir: String) throws
    /// Reads an adapter folder of this method for `encoder` and returns what attaches it, frozen. Nothing
    /// changes before the returned closure runs, so a refused folder leaves the encoder as it was.
    static func load(_ folder: AdapterFolder, for encoder: SentenceEncoder) throws -> () -> Void
}

extension TuningMethod {
    public static var peftType: String? { nil }
    public static var savesWholeModel: Bool { false }
    public static var mergesIntoWeights: Bool { false }
    public static var defaultWeightDecay: Float { savesWholeModel ? 0.01 : 0 }
    public var name: String { Self.name }
    public var savesWholeModel: Bool { Self.savesWholeModel }
    public var defaultLearningRate: Float { Self.defaultLearningRate }
    public var defaultWeightDecay: Float { Self.defaultWeightDecay }
    public func save(_ encoder: SentenceEncoder, to dir: String) throws { try saveModelFolder(encoder, to: dir) }
    public static func load(_ folder: AdapterFolder, for encoder: SentenceEncoder) throws -> () -> Void {
        throw FormatError(.unsupported, file: folder.configPath, field: "method", "method '\(name)' saves a model folder, not an adapter")
    }
}

/// The registry: every method RecAlign has.
public enum TuningMethods {
    public static let all: [any TuningMethod.Type] = [
        FullTuning.self, TopLayersTuning.self, SoftPromptTuning.self, PrefixTuning.self, LoRATuning.self, IA3Tuning.self,
    ]

    /// The names, for help texts and errors.
    public static var names: [String] { all.map { $0.name } }

    /// The method called `name`, or nil.
    public static func named(_ name: String) -> (any TuningMethod.Type)? { all.first { $0.name == name } }

    /// Method `name` built from `options`.
    public static func make(_ name: String, _ options: MethodOptions) throws -> any TuningMethod {
        guard let type = named(name) else {
            throw TuningMethodError("unknown method '\(name)' (one of \(names.joined(separator: ", ")))")
        }
        return try type.init(options)
    }
}

/// Applies the adapter folder at `path` to `encoder`, frozen for inference: one a RecAlign method wrote
/// (prompt, prefix, LoRA, IA3) or a PEFT adapter folder (LoRA, IA3), found by the config's `method` or
/// `peft_type` in the registry. Throws, naming the file and field or tensor, when the folder does not fit the
/// encoder; the encoder is changed only when all of it fits.
public func loadAdapter(_ path: String, into encoder: SentenceEncoder) throws {
    let folder = try AdapterFolder(path)
    let cfg = encoder.model.config
    try folder.checkModel(hiddenSize: cfg.hiddenSize, layers: cfg.numHiddenLayers, base: encoder.folder.path)
    let type: (any TuningMethod.Type)?
    if let peft = folder.peftType {
        type = TuningMethods.all.first { $0.peftType == peft }
        guard type != nil else {
            let known = TuningMethods.all.compactMap { $0.peftType }.joined(separator: ", ")
            throw FormatError(.unsupported, file: folder.configPath, field: "peft_type",
                              "peft_type \(peft): RecAlign reads PEFT's \(known) adapters only (its soft prompt sits after [CLS], PEFT's prompt tuning before it)")
        }
    } else {
        type = TuningMethods.all.first { !$0.savesWholeModel && $0.name == folder.method }
        guard type != nil else {
            let known = TuningMethods.all.filter { !$0.savesWholeModel }.map { $0.name }.joined(separator: ", ")
            throw FormatError(.badValue, file: folder.configPath, field: "method", "unknown adapter method '\(folder.method ?? "")' (expected \(known))")
        }
    }
    let attach = try type!.load(folder, for: encoder)
    attach()
}

/// A tuning method applied to an encoder: its own weights frozen, the method's parameters trainable.
public final class TunedEncoder {
    public let method: any TuningMethod
    public let encoder: SentenceEncoder
    /// The parameters that train, by name (model paths; `soft_prompt`, `prefix.i.key` for input adapters).
    public let trainable: [(name: String, tensor: Tensor)]

    /// Freezes `encoder` and applies `method`. Random initialisation draws from `rng`.
    public init(_ method: some TuningMethod, encoder: SentenceEncoder, rng: inout SeededRNG) throws {
        self.method = method
        self.encoder = encoder
        encoder.model.freeze()
        trainable = try method.apply(to: encoder, rng: &rng)
        encoder.model.packFrozenWeights()
    }

    /// AdamW over the trainable parameters (no decay on biases and LayerNorm weights).
    public func optimizer(lr: Float, weightDecay: Float) -> AdamW {
        AdamW(trainable.map { p in
            let noDecay = p.name.hasSuffix("bias") || p.name.contains("LayerNorm.")
            return ParamGroupEntry(name: p.name, tensor: p.tensor, weightDecay: noDecay ? 0 : weightDecay)
        }, lr: lr)
    }

    /// Writes the checkpoint: a model folder (full, top layers) or the method's adapter folder.
    public func save(to dir: String) throws { try method.save(encoder, to: dir) }

    /// Turns dropout on or off in the encoder.
    public func train(_ on: Bool) { encoder.model.train(on) }
}
