// ModelFolder: a tuned encoder written as a sentence-transformers folder, adapters merged into the base weights.
import Foundation
import RecAlignNN
import RecAlignFormats
import RecAlignTensor

/// The model's parameters under transformers' `BertModel` names, with every adapted projection (LoRA, IA3)
/// replaced by its merged weight and bias (PEFT's `merge_and_unload`) and the adapters' own tensors left out.
/// The live model is not changed.
public func mergedParameters(_ model: BertModel) -> [(name: String, tensor: Tensor)] {
    var adapted: [String: (weight: Tensor, bias: Tensor?)] = [:]
    for (i, layer) in model.encoder.layer.enumerated() {
        for (name, slot) in BertLayer.projections where !(layer[keyPath: slot] is Linear) {
            adapted["encoder.layer.\(i).\(name)."] = Autograd.noGrad { layer[keyPath: slot].merged() }
        }
    }
    guard !adapted.isEmpty else { return model.namedParameters() }
    var out: [(name: String, tensor: Tensor)] = []
    for (name, t) in model.namedParameters() {
        guard let (prefix, m) = adapted.first(where: { name.hasPrefix($0.key) }) else { out.append((name, t)); continue }
        // An adapter wraps its projection as `base_layer` (PEFT's name): emit the merged pair in its place.
        if name == prefix + "base_layer.weight" { out.append((prefix + "weight", m.weight)) }
        if name == prefix + "base_layer.bias", let b = m.bias { out.append((prefix + "bias", b)) }
    }
    return out
}

/// Writes `encoder` as a sentence-transformers folder (model.safetensors, config.json, modules.json,
/// sentence_bert_config.json, 1_Pooling, 2_Normalize, tokenizer files) that Python loads as is. Weight
/// adapters are merged into copies of the weights they adapt; the base folder's pooler weights, if it has
/// them, are copied unchanged.
public func saveModelFolder(_ encoder: SentenceEncoder, to dir: String) throws {
    let src = encoder.folder
    let desc = SentenceTransformerFolder(config: src.config, maxSeqLength: encoder.maxLength, doLowerCase: src.doLowerCase,
                                         pooling: src.pooling, normalize: src.normalize)
    try desc.write(to: dir)
    var w = SafeTensorsWriter()
    for (name, t) in mergedParameters(encoder.model) { try w.add(name, shape: t.shape, buffer: UnsafeBufferPointer(t.buffer)) }
    // The base model's pooler (unused by sentence embeddings, so never tuned) goes along unchanged.
    if let base = src.weightsPath {
        for p in try BertWeights.poolerTensors(in: SafeTensorsFile(path: base)) { try w.add(p.name, shape: p.shape, floats: p.values) }
    }
    try w.write(to: (dir as NSString).appendingPathComponent("model.safetensors"))
    try SentenceTransformerFolder.copyTokenizerFiles(from: src.transformerPath, to: dir)
}
