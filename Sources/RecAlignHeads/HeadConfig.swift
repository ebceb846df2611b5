// HeadConfig: the shape of a recommendation head trained on cached text embeddings (saved as head_config.json).
import Foundation

/// Which adaptor maps a frozen text embedding to an item vector.
public enum AdaptorKind: String, Codable, CaseIterable, Sendable {
    /// y = normalize(x Wᵀ + b), W initialised to the identity (the frozen scores at step 0).
    case linear
    /// UniSRec's MoE adaptor: K whitened experts (x - b_k) W_k mixed by a softmax gate of x, normalised.
    case moe
    /// No adaptor: item vectors are the frozen (normalised) embeddings; only the user tower (and the seq
    /// tower's projection) trains, so warm and cold items stay in one space.
    case none
}

/// How a user vector is made from the adapted item vectors of the user's history.
public enum UserTowerKind: String, Codable, CaseIterable, Sendable {
    /// Normalised mean of the last `maxHistory` adapted item vectors.
    case mean
    /// A small transformer over the last `maxHistory` item vectors (with positions); the output at the
    /// most recent position (UniSRec / SASRec style).
    case seq
}

/// Everything needed to rebuild a head before its weights are loaded.
public struct HeadConfig: Codable, Equatable, Sendable {
    public var adaptor: AdaptorKind
    public var tower: UserTowerKind
    /// Size of the frozen text embeddings (384 for all-MiniLM-L6-v2).
    public var inputDim: Int
    /// Output size of the adaptor (the linear adaptor keeps `inputDim`).
    public var adaptorDim: Int
    /// MoE experts.
    public var experts: Int
    /// Transformer width (seq tower); the adaptor output is projected to it when it differs.
    public var hiddenDim: Int
    public var layers: Int
    public var heads: Int
    /// Feed-forward width of a transformer layer, as a multiple of `hiddenDim`.
    public var ffnMultiplier: Int
    /// History items the user tower reads (mean: averaged; seq: attended).
    public var maxHistory: Int
    public var dropout: Float
    /// Cosine-similarity scale of the training softmax (MNRL's 20).
    public var scale: Float

    public init(adaptor: AdaptorKind, tower: UserTowerKind, inputDim: Int, adaptorDim: Int? = nil, experts: Int = 8,
                hiddenDim: Int = 128, layers: Int = 2, heads: Int = 2, ffnMultiplier: Int = 2, maxHistory: Int = 50,
                dropout: Float = 0.1, scale: Float = 20) {
        self.adaptor = adaptor; self.tower = tower; self.inputDim = inputDim
        self.adaptorDim = adaptor == .moe ? (adaptorDim ?? inputDim) : inputDim
        self.experts = experts; self.hiddenDim = hiddenDim; self.layers = layers; self.heads = heads
        self.ffnMultiplier = ffnMultiplier; self.maxHistory = maxHistory; self.dropout = dropout; self.scale = scale
    }

    /// A lower bound on the head's parameters (its largest matrices), nil on overflow: `loadHead` compares it
    /// with the weights file before allocating, so sizes read from a file cannot ask for terabytes.
    public var minimumParameters: Int? {
        func mul(_ xs: Int...) -> Int? {
            var p = 1
            for x in xs { let (q, o) = p.multipliedReportingOverflow(by: x); if o { return nil }; p = q }
            return p
        }
        func add(_ xs: Int?...) -> Int? {
            var s = 0
            for x in xs { guard let x else { return nil }; let (t, o) = s.addingReportingOverflow(x); if o { return nil }; s = t }
            return s
        }
        let adaptorPart: Int? = switch adaptor {
        case .linear: mul(inputDim, inputDim)
        case .moe: add(mul(experts, adaptorDim, inputDim), mul(experts, inputDim))
        case .none: 0
        }
        // Per layer: query, key, value, output (dim x dim) and the feed-forward pair (dim x ffn·dim, twice).
        let towerPart: Int? = tower != .seq ? 0
            : add(mul(maxHistory, hiddenDim), mul(layers, 4, hiddenDim, hiddenDim), mul(layers, 2, ffnMultiplier, hiddenDim, hiddenDim))
        return add(adaptorPart, towerPart)
    }

    /// Size of the item and user vectors the head produces.
    public var outputDim: Int { tower == .seq ? hiddenDim : adaptorDim }

    /// Throws a `HeadError` naming the first field out of range.
    public func validate() throws {
        func check(_ ok: Bool, _ field: String, _ why: String) throws {
            if !ok { throw HeadError.badConfig("\(field): \(why)") }
        }
        try check(inputDim > 0, "inputDim", "must be positive, got \(inputDim)")
        try check(adaptorDim > 0, "adaptorDim", "must be positive, got \(adaptorDim)")
        try check(adaptor == .moe || adaptorDim == inputDim, "adaptorDim", "the \(adaptor.rawValue) adaptor keeps inputDim (\(inputDim))")
        try check(experts >= 1, "experts", "must be at least 1, got \(experts)")
        try check(maxHistory >= 1, "maxHistory", "must be at least 1, got \(maxHistory)")
        try check(dropout >= 0 && dropout < 1, "dropout", "must be in [0, 1), got \(dropout)")
        try check(scale > 0 && scale.isFinite, "scale", "must be a positive number, got \(scale)")
        if tower == .seq {
            try check(hiddenDim > 0 && heads > 0 && hiddenDim % heads == 0, "hiddenDim",
                      "\(hiddenDim) does not split into \(heads) heads")
            try check(layers >= 0, "layers", "must be >= 0, got \(layers)")
            try check(ffnMultiplier >= 1, "ffnMultiplier", "must be >= 1, got \(ffnMultiplier)")
        }
    }
}

/// Errors of head training, saving and loading.
public enum HeadError: Error, CustomStringConvertible {
    case badConfig(String)
    case badFile(path: String, detail: String)
    case badInput(String)
    case nonFiniteLoss(step: Int, value: Float)

    public var description: String {
        switch self {
        case .badConfig(let s): return "head config: \(s)"
        case .badFile(let p, let d): return "\(p): \(d)"
        case .badInput(let s): return "head input: \(s)"
        case .nonFiniteLoss(let step, let v): return "training stopped: loss \(v) at step \(step)"
        }
    }
}
