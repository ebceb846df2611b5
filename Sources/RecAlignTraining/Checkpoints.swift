// Checkpoints: a tuned model as an HF / sentence-transformers folder, or a small adapter file (prompt, prefix, LoRA).
import Foundation
import RecAlignNN
import RecAlignFormats
import RecAlignModels

/// File names inside an adapter folder.
public enum AdapterFiles {
    public static let weights = "adapter.safetensors"
    public static let config = "adapter_config.json"
}

/// Writes `encoder` as a sentence-transformers folder (model.safetensors, config.json, modules.json,
/// sentence_bert_config.json, 1_Pooling, 2_Normalize, tokenizer files) that Python loads as is.
/// LoRA adapters attached to the model are merged into a copy of the query / value weights (the live
/// model is not changed). The base folder's pooler weights, if it has them, are copied unchanged.
public func saveModelFolder(_ encoder: SentenceEncoder, to dir: String) throws {
    let src = encoder.folder
    let desc = SentenceTransformerFolder(config: src.config, maxSeqLength: encoder.maxLength, doLowerCase: src.doLowerCase,
                                         pooling: src.pooling, normalize: src.normalize)
    try desc.write(to: dir)
    var w = SafeTensorsWriter()
    var merged: [String: Tensor] = [:]
    for (i, layer) in encoder.model.encoder.layer.enumerated() {
        let sa = layer.attention.selfAttention
        if let q = sa.query_lora {
            let t = sa.query.weight.copy(); q.merge(into: t); merged["encoder.layer.\(i).attention.self.query.weight"] = t
        }
        if let v = sa.value_lora {
            let t = sa.value.weight.copy(); v.merge(into: t); merged["encoder.layer.\(i).attention.self.value.weight"] = t
        }
    }
    for (name, t) in encoder.model.namedParameters() where !name.contains("_lora.") {
        let src = merged[name] ?? t
        try w.add(name, shape: src.shape, buffer: UnsafeBufferPointer(src.buffer))
    }
    // The base model's pooler (unused by sentence embeddings, so never tuned) goes along unchanged.
    if let base = src.weightsPath {
        for p in try BertWeights.poolerTensors(in: SafeTensorsFile(path: base)) { try w.add(p.name, shape: p.shape, floats: p.values) }
    }
    try w.write(to: (dir as NSString).appendingPathComponent("model.safetensors"))
    try SentenceTransformerFolder.copyTokenizerFiles(from: src.transformerPath, to: dir)
}

/// Writes the adapter of a prompt / prefix / LoRA run: `adapter.safetensors` (the method's tensors by
/// name) and `adapter_config.json` (method, sizes, base model path).
public func saveAdapter(_ tuned: TunedEncoder, to dir: String) throws {
    let params = tuned.adapterParameters
    guard !params.isEmpty else { throw TrainingError.invalid("method \(tuned.method.name) has no adapter (it saves a model folder)") }
    var w = SafeTensorsWriter(metadata: ["format": "pt", "recalign_method": tuned.method.name])
    for (name, t) in params { try w.add(name, shape: t.shape, buffer: UnsafeBufferPointer(t.buffer)) }
    try w.write(to: (dir as NSString).appendingPathComponent(AdapterFiles.weights))
    let cfg = tuned.encoder.model.config
    var obj: [String: Any] = ["method": tuned.method.name, "base_model": tuned.encoder.folder.path,
                              "hidden_size": cfg.hiddenSize, "num_hidden_layers": cfg.numHiddenLayers]
    switch tuned.method {
    case let .prompt(n, _): obj["num_virtual_tokens"] = n; obj["pool_virtual_tokens"] = tuned.encoder.prompts.poolVirtualTokens
    case let .prefix(n, _): obj["num_virtual_tokens"] = n
    case let .lora(r, a): obj["r"] = r; obj["lora_alpha"] = Double(a); obj["target_modules"] = ["query", "value"]
    default: break
    }
    let data = try JSONSerialization.data(withJSONObject: obj, options: [.prettyPrinted, .sortedKeys])
    try AtomicFile.write(data, to: (dir as NSString).appendingPathComponent(AdapterFiles.config))
}

/// Writes the best checkpoint of a run: a model folder (full, top-layers) or an adapter (the others).
public func saveCheckpoint(_ tuned: TunedEncoder, to dir: String) throws {
    if tuned.method.savesWholeModel { try saveModelFolder(tuned.encoder, to: dir) } else { try saveAdapter(tuned, to: dir) }
}

/// Applies an adapter folder written by `saveAdapter` (prompt, prefix or LoRA) to `encoder`, frozen for
/// inference. Throws when the files are missing, name another shape, or the tensors do not fit.
public func loadAdapter(_ path: String, into encoder: SentenceEncoder) throws {
    let cfgPath = (path as NSString).appendingPathComponent(AdapterFiles.config)
    guard let data = FileManager.default.contents(atPath: cfgPath),
          let obj = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
        throw TrainingError.file(cfgPath, "cannot read the adapter config (missing or not a JSON object)")
    }
    guard let method = obj["method"] as? String else { throw TrainingError.file(cfgPath, "field 'method' is missing") }
    let file = try SafeTensorsFile(path: (path as NSString).appendingPathComponent(AdapterFiles.weights))
    let cfg = encoder.model.config
    let c = cfg.hiddenSize
    func tensor(_ name: String, rows: Int? = nil, cols: Int) throws -> Tensor {
        guard let info = file.info(name) else { throw TrainingError.file(file.path, "tensor '\(name)' is missing") }
        guard info.shape.count == 2, info.shape[1] == cols, rows == nil || info.shape[0] == rows else {
            throw TrainingError.file(file.path, "tensor '\(name)' has shape \(info.shape), expected [\(rows.map(String.init) ?? "n"), \(cols)]")
        }
        let t = Tensor(zeros: info.shape)
        try file.copyFloats(name, into: t.buffer)
        return t
    }
    switch method {
    case "prompt":
        // Adapters written before the field existed pooled the virtual tokens.
        let poolVirtual = (obj["pool_virtual_tokens"] as? NSNumber)?.boolValue ?? true
        encoder.prompts = PromptInputs(softPrompt: try tensor("soft_prompt", cols: c), prefixes: nil, poolVirtualTokens: poolVirtual)
    case "prefix":
        var pairs: [(key: Tensor, value: Tensor)] = []
        for i in 0..<cfg.numHiddenLayers {
            let k = try tensor("prefix.\(i).key", cols: c)
            pairs.append((k, try tensor("prefix.\(i).value", rows: k.shape[0], cols: c)))
        }
        encoder.prompts = PromptInputs(softPrompt: nil, prefixes: pairs)
    case "lora":
        guard let r = obj["r"] as? Int, let alpha = (obj["lora_alpha"] as? NSNumber)?.floatValue else {
            throw TrainingError.file(cfgPath, "fields 'r' and 'lora_alpha' are required for a LoRA adapter")
        }
        var rng = SeededRNG(seed: 0)
        for (i, layer) in encoder.model.encoder.layer.enumerated() {
            let sa = layer.attention.selfAttention
            for which in ["query", "value"] {
                let lora = LoRA(nIn: c, nOut: c, rank: r, alpha: alpha, rng: &rng)
                let base = "encoder.layer.\(i).attention.self.\(which)_lora."
                lora.lora_A.assign(try tensor(base + "lora_A", rows: r, cols: c))
                lora.lora_B.assign(try tensor(base + "lora_B", rows: c, cols: r))
                lora.freeze()
                if which == "query" { sa.query_lora = lora } else { sa.value_lora = lora }
            }
        }
    default:
        throw TrainingError.file(cfgPath, "unknown adapter method '\(method)' (expected prompt, prefix or lora)")
    }
}
