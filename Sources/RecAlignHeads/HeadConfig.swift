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

/// What an item vector is made from: its text, a learned per-item vector, or both (the ID part added to the
/// text part). An item never seen in training keeps a zero ID vector, so it is scored from its text alone.
public enum ItemInput: String, Codable, CaseIterable, Sendable {
    /// The text embedding through the adaptor (inductive: every item, seen or not, the same way).
    case text
    /// The text part plus a trainable ID embedding (rows of unseen items stay zero).
    case textAndID = "text+id"
    /// The ID embedding only (SASRec's item table; unseen items score 0).
    case id
}

/// Everything needed to rebuild a head before its weights are loaded.
public struct HeadConfig: Codable, Equatable, Sendable {
    public var adaptor: AdaptorKind
    public var tower: UserTowerKind
    /// Text, ID or both (heads saved before this field read as `text`).
    public var itemInput: ItemInput
    /// Rows of the ID embedding (the corpus's item count; 0 when `itemInput` is `text`).
    public var itemCount: Int
    /// Probability that an item's whole ID vector is dropped in a training step (the item is then seen by
    /// its text alone, as a cold item is).
    public var idDropout: Float
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
    /// Weight of the train sequences' transition term in the scores (`TransitionPrior`; 0: none, as heads saved
    /// before it). Chosen on validation after training; applies on the corpus the head was trained on.
    public var transitionWeight: Float = 0
    /// The transition term reads the user's last `transitionItems` history items, the j-th most recent weighted
    /// `transitionDecay`^j.
    public var transitionItems: Int = 3
    public var transitionDecay: Float = 0.5
    /// Seq tower: add a gated mean of the visible history's item vectors to each state (`SequentialTower`'s bag
    /// path; false for heads saved before it).
    public var bag: Bool = false

    public init(adaptor: AdaptorKind, tower: UserTowerKind, inputDim: Int, adaptorDim: Int? = nil, experts: Int = 8,
                hiddenDim: Int = 128, layers: Int = 2, heads: Int = 2, ffnMultiplier: Int = 2, maxHistory: Int = 50,
                dropout: Float = 0.1, scale: Float = 20, itemInput: ItemInput = .text, itemCount: Int = 0,
                idDropout: Float = 0) {
        self.adaptor = adaptor; self.tower = tower; self.inputDim = inputDim
        self.itemInput = itemInput; self.itemCount = itemInput == .text ? 0 : itemCount; self.idDropout = idDropout
        self.adaptorDim = adaptor == .moe ? (adaptorDim ?? inputDim) : inputDim
        self.experts = experts; self.hiddenDim = hiddenDim; self.layers = layers; self.heads = heads
        self.ffnMultiplier = ffnMultiplier; self.maxHistory = maxHistory; self.dropout = dropout; self.scale = scale
    }

    enum CodingKeys: String, CodingKey {
        case adaptor, tower, itemInput, itemCount, idDropout, inputDim, adaptorDim, experts, hiddenDim, layers, heads,
             ffnMultiplier, maxHistory, dropout, scale, transitionWeight, transitionItems, transitionDecay, bag
    }

    /// Decodes a saved config; the item-input and transition fields are optional (older heads are text-only and
    /// have no transition term).
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        adaptor = try c.decode(AdaptorKind.self, forKey: .adaptor)
        tower = try c.decode(UserTowerKind.self, forKey: .tower)
        itemInput = try c.decodeIfPresent(ItemInput.self, forKey: .itemInput) ?? .text
        itemCount = try c.decodeIfPresent(Int.self, forKey: .itemCount) ?? 0
        idDropout = try c.decodeIfPresent(Float.self, forKey: .idDropout) ?? 0
        inputDim = try c.decode(Int.self, forKey: .inputDim)
        adaptorDim = try c.decode(Int.self, forKey: .adaptorDim)
        experts = try c.decode(Int.self, forKey: .experts)
        hiddenDim = try c.decode(Int.self, forKey: .hiddenDim)
        layers = try c.decode(Int.self, forKey: .layers)
        heads = try c.decode(Int.self, forKey: .heads)
        ffnMultiplier = try c.decode(Int.self, forKey: .ffnMultiplier)
        maxHistory = try c.decode(Int.self, forKey: .maxHistory)
        dropout = try c.decode(Float.self, forKey: .dropout)
        scale = try c.decode(Float.self, forKey: .scale)
        transitionWeight = try c.decodeIfPresent(Float.self, forKey: .transitionWeight) ?? 0
        transitionItems = try c.decodeIfPresent(Int.self, forKey: .transitionItems) ?? 3
        transitionDecay = try c.decodeIfPresent(Float.self, forKey: .transitionDecay) ?? 0.5
        bag = try c.decodeIfPresent(Bool.self, forKey: .bag) ?? false
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
        let adaptorPart: Int? = switch itemInput == .id ? .none : adaptor {
        case .linear: mul(inputDim, inputDim)
        case .moe: add(mul(experts, adaptorDim, inputDim), mul(experts, inputDim))
        case .none: 0
        }
        // Per layer: query, key, value, output (dim x dim) and the feed-forward pair (dim x ffn·dim, twice).
        let towerPart: Int? = tower != .seq ? 0
            : add(mul(maxHistory, hiddenDim), mul(layers, 4, hiddenDim, hiddenDim), mul(layers, 2, ffnMultiplier, hiddenDim, hiddenDim))
        return add(adaptorPart, towerPart, mul(itemCount, stateDim))
    }

    /// Size of the item and user vectors the head produces.
    public var outputDim: Int { tower == .seq ? hiddenDim : adaptorDim }
    /// Width of the item states (and of the ID embedding): the tower's width, or the adaptor's.
    public var stateDim: Int { outputDim }
    /// True when item vectors carry a text part (the adaptor and the item embeddings are used).
    public var usesText: Bool { itemInput != .id }

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
        try check(itemInput == .text ? itemCount == 0 : itemCount >= 1, "itemCount",
                  itemInput == .text ? "must be 0 for text items, got \(itemCount)" : "must be at least 1 with ID items, got \(itemCount)")
        try check(idDropout >= 0 && idDropout < 1, "idDropout", "must be in [0, 1), got \(idDropout)")
        try check(itemInput != .id || tower == .seq, "itemInput", "ID-only items need the seq tower")
        try check(!bag || tower == .seq, "bag", "the bag path is part of the seq tower")
        try check(transitionWeight >= 0 && transitionWeight.isFinite, "transitionWeight", "must be >= 0, got \(transitionWeight)")
        try check(transitionItems >= 1, "transitionItems", "must be at least 1, got \(transitionItems)")
        try check(transitionDecay > 0 && transitionDecay <= 1, "transitionDecay", "must be in (0, 1], got \(transitionDecay)")
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
