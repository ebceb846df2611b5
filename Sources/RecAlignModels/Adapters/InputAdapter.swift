// InputAdapter: what prompt methods change at the encoder's input (inserted tokens, per-layer extra keys / values).
import RecAlignNN
import RecAlignTensor

/// An adapter that works on the encoder's inputs rather than its weights: it may insert P vectors after [CLS]
/// (soft prompt) and give each layer extra keys and values that every token attends to (prefix tuning).
/// `BertModel` calls these and nothing else; the defaults do nothing.
public protocol InputAdapter: Module {
    /// Tokens `insert` adds after [CLS] (P).
    var insertedTokens: Int { get }
    /// Whether the inserted tokens count in the pooling mask.
    var poolsInsertedTokens: Bool { get }
    /// Word vectors [B, T, C] -> [B, T + P, C].
    func insert(into words: Tensor) -> Tensor
    /// Extra keys per layer (P_k).
    var extraKeyCount: Int { get }
    /// Layer `i`'s extra keys and values, each [P_k, C]; nil for none.
    func extraKeysValues(layer i: Int) -> (key: Tensor, value: Tensor)?
}

extension InputAdapter {
    public var insertedTokens: Int { 0 }
    public var poolsInsertedTokens: Bool { false }
    public func insert(into words: Tensor) -> Tensor { words }
    public var extraKeyCount: Int { 0 }
    public func extraKeysValues(layer i: Int) -> (key: Tensor, value: Tensor)? { nil }
}

extension SentenceEncoder {
    /// Makes `adapter` the encoder's input adapter; returns its parameters by name (what a prompt method trains).
    func attach(_ adapter: some InputAdapter) -> [(name: String, tensor: Tensor)] {
        inputAdapter = adapter
        return adapter.namedParameters()
    }
}
