// HeadShapeOptions: the architecture options of `recalign train-head` (adaptor, sequential tower), one group.
import ArgumentParser
import RecAlignHeads

/// The shape of a head: its adaptor (linear / MoE / none) and its sequential user tower. `HeadConfig.validate`
/// checks every field and the combination once the embedding size is known (`train-head` reports its error).
struct HeadShapeOptions: ParsableArguments {
    @Option(help: "Adaptor under the seq tower: linear, moe or none (frozen item vectors; best for cold items).")
    var adaptor: AdaptorKind = .moe
    @Option(help: "MoE experts.")
    var experts: Int = 8
    @Option(help: "MoE output size (default: the embedding size).")
    var adaptorDim: Int?
    @Option(help: "Transformer layers (seq).")
    var layers: Int = 2
    @Option(help: "Attention heads (seq).")
    var heads: Int = 2
    @Option(help: "Transformer width (seq).")
    var dim: Int = 128
    @Option(help: "Feed-forward width as a multiple of --dim (seq).")
    var ffn: Int = 2
    @Option(help: "History items the user tower reads (default: 50 for seq, 5 for the adaptors).")
    var maxHistory: Int?
    @Option(help: "Dropout.")
    var dropout: Float = 0.1
    @Option(help: "Cosine scale of the training softmax.")
    var scale: Float = 20
    @Option(help: "Item vectors from: text (the adaptor's output), text+id (plus a learned vector per item seen in training; unseen items keep text alone) or id (SASRec's item table, no text).")
    var items: ItemInput = .text
    @Option(help: "Probability of dropping an item's whole ID vector in a training step (text+id).")
    var idDropout: Float = 0
    @Flag(help: "Seq tower: add a learned, gated mean of the history's item vectors to its output (for corpora whose order may carry little).")
    var bag = false
}
