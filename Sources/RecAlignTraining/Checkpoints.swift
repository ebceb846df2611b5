// Checkpoints: a tuned model as an HF / sentence-transformers folder, or a small adapter file (prompt, prefix, LoRA).
import Foundation
import RecAlignNN
import RecAlignFormats
import RecAlignModels
import RecAlignTensor

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

/// Writes the adapter of a prompt / prefix / LoRA run into `dir`. Prompt and prefix: `adapter.safetensors` (the
/// method's tensors by name) and `adapter_config.json` (method, sizes, base model path). LoRA: PEFT's layout
/// (`PeftLoRA`), which PEFT and sentence-transformers' `load_adapter` read.
public func saveAdapter(_ tuned: TunedEncoder, to dir: String) throws {
    let params = tuned.adapterParameters
    guard !params.isEmpty else { throw TrainingError.invalid("method \(tuned.method.name) has no adapter (it saves a model folder)") }
    if case let .lora(r, a) = tuned.method { return try PeftLoRA.save(tuned, rank: r, alpha: a, to: dir) }
    var w = SafeTensorsWriter(metadata: ["format": "pt", "recalign_method": tuned.method.name])
    for (name, t) in params { try w.add(name, shape: t.shape, buffer: UnsafeBufferPointer(t.buffer)) }
    try w.write(to: (dir as NSString).appendingPathComponent(AdapterFiles.weights))
    let cfg = tuned.encoder.model.config
    var obj: [String: Any] = ["method": tuned.method.name, "base_model": tuned.encoder.folder.path,
                              "hidden_size": cfg.hiddenSize, "num_hidden_layers": cfg.numHiddenLayers]
    switch tuned.method {
    case let .prompt(n, _): obj["num_virtual_tokens"] = n; obj["pool_virtual_tokens"] = tuned.encoder.prompts.poolVirtualTokens
    case let .prefix(n, _): obj["num_virtual_tokens"] = n
    default: break
    }
    let data = try JSONSerialization.data(withJSONObject: obj, options: [.prettyPrinted, .sortedKeys])
    try AtomicFile.write(data, to: (dir as NSString).appendingPathComponent(AdapterFiles.config))
}

/// Writes the best checkpoint of a run: a model folder (full, top-layers) or an adapter (the others).
public func saveCheckpoint(_ tuned: TunedEncoder, to dir: String) throws {
    if tuned.method.savesWholeModel { try saveModelFolder(tuned.encoder, to: dir) } else { try saveAdapter(tuned, to: dir) }
}

/// Applies an adapter folder to `encoder`, frozen for inference: one written by `saveAdapter` (prompt, prefix,
/// LoRA; also the LoRA layout of earlier RecAlign versions) or a PEFT LoRA adapter on query / value. Throws,
/// naming the file and field or tensor, when a file is missing, the config names another model (hidden_size,
/// num_hidden_layers) or another size than the tensors hold (num_virtual_tokens, r), a tensor is missing, has
/// the wrong shape, or is not used; the encoder is changed only when all of it fits.
public func loadAdapter(_ path: String, into encoder: SentenceEncoder) throws {
    let cfgPath = (path as NSString).appendingPathComponent(AdapterFiles.config)
    guard let data = FileManager.default.contents(atPath: cfgPath),
          let obj = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
        throw TrainingError.file(cfgPath, "cannot read the adapter config (missing or not a JSON object)")
    }
    let method: String
    if let peftType = obj["peft_type"] {
        guard (peftType as? String) == "LORA" else {
            throw TrainingError.file(cfgPath, "peft_type \(peftType): RecAlign reads PEFT's LORA adapters only (its soft prompt sits "
                                     + "after [CLS], PEFT's prompt tuning before it)")
        }
        method = "peft-lora"
    } else {
        guard let m = obj["method"] as? String else { throw TrainingError.file(cfgPath, "field 'method' (or PEFT's 'peft_type') is missing") }
        method = m
    }
    let cfg = encoder.model.config
    let c = cfg.hiddenSize
    /// An optional integer field; when present it must be an integer (and equal `expected` when given).
    func intField(_ key: String, expected: Int? = nil) throws -> Int? {
        guard let v = obj[key] else { return nil }
        guard let n = v as? NSNumber, let i = Int(exactly: n.doubleValue) else {
            throw TrainingError.file(cfgPath, "field '\(key)' must be an integer, got \(v)")
        }
        if let expected, i != expected {
            throw TrainingError.file(cfgPath, "field '\(key)' is \(i) but the base model \(encoder.folder.path) has \(expected)")
        }
        return i
    }
    _ = try intField("hidden_size", expected: c)
    _ = try intField("num_hidden_layers", expected: cfg.numHiddenLayers)
    let file = try SafeTensorsFile(path: (path as NSString).appendingPathComponent(method == "peft-lora" ? PeftLoRA.weights : AdapterFiles.weights))
    var used = Set<String>()
    func tensor(_ name: String, rows: Int? = nil, cols: Int) throws -> Tensor {
        guard let info = file.info(name) else { throw TrainingError.file(file.path, "tensor '\(name)' is missing") }
        guard info.shape.count == 2, info.shape[1] == cols, rows == nil || info.shape[0] == rows else {
            throw TrainingError.file(file.path, "tensor '\(name)' has shape \(info.shape), expected [\(rows.map(String.init) ?? "n"), \(cols)]")
        }
        let t = Tensor(zeros: info.shape)
        try file.copyFloats(name, into: t.buffer)
        used.insert(name)
        return t
    }
    let apply: () -> Void
    switch method {
    case "prompt":
        let n = try intField("num_virtual_tokens")
        // Adapters written before the field existed pooled the virtual tokens.
        var poolVirtual = true
        if let v = obj["pool_virtual_tokens"] {
            guard let b = v as? Bool else { throw TrainingError.file(cfgPath, "field 'pool_virtual_tokens' must be true or false, got \(v)") }
            poolVirtual = b
        }
        let prompt = try tensor("soft_prompt", rows: n, cols: c)
        // The virtual tokens take positions of the model's table: a text needs at least [CLS] and [SEP] beside them.
        guard prompt.shape[0] >= 1, prompt.shape[0] + 2 <= cfg.maxPositionEmbeddings else {
            throw TrainingError.file(file.path, "tensor 'soft_prompt' has \(prompt.shape[0]) virtual tokens; the base model has "
                                     + "\(cfg.maxPositionEmbeddings) positions (at most \(cfg.maxPositionEmbeddings - 2))")
        }
        apply = { encoder.prompts = PromptInputs(softPrompt: prompt, prefixes: nil, poolVirtualTokens: poolVirtual) }
    case "prefix":
        let n = try intField("num_virtual_tokens")
        var pairs: [(key: Tensor, value: Tensor)] = []
        for i in 0..<cfg.numHiddenLayers {
            let k = try tensor("prefix.\(i).key", rows: n, cols: c)
            pairs.append((k, try tensor("prefix.\(i).value", rows: k.shape[0], cols: c)))
        }
        apply = { encoder.prompts = PromptInputs(softPrompt: nil, prefixes: pairs) }
    case "lora", "peft-lora":
        guard let r = try intField("r"), r >= 1, let alpha = (obj["lora_alpha"] as? NSNumber)?.floatValue else {
            throw TrainingError.file(cfgPath, "fields 'r' (an integer >= 1) and 'lora_alpha' are required for a LoRA adapter")
        }
        // PEFT names (with or without the PeftModel wrapper's prefix), or RecAlign's earlier `query_lora.lora_A`.
        let targets = method == "lora" ? PeftLoRA.modules : try PeftLoRA.targets(obj, cfgPath: cfgPath)
        func name(_ layer: Int, _ module: String, _ AorB: String) -> String {
            guard method == "peft-lora" else { return "encoder.layer.\(layer).attention.self.\(module)_lora.lora_\(AorB)" }
            let full = PeftLoRA.tensorName(layer: layer, module: module, AorB), bare = String(full.dropFirst("base_model.model.".count))
            return file.info(full) == nil && file.info(bare) != nil ? bare : full
        }
        var rng = SeededRNG(seed: 0)
        var loras: [[String: LoRA]] = []
        for i in 0..<cfg.numHiddenLayers {
            var layer: [String: LoRA] = [:]
            for module in targets {
                let lora = LoRA(nIn: c, nOut: c, rank: r, alpha: alpha, rng: &rng)
                lora.lora_A.assign(try tensor(name(i, module, "A"), rows: r, cols: c))
                lora.lora_B.assign(try tensor(name(i, module, "B"), rows: c, cols: r))
                lora.freeze()
                layer[module] = lora
            }
            loras.append(layer)
        }
        apply = {
            for (layer, l) in zip(encoder.model.encoder.layer, loras) {
                layer.attention.selfAttention.query_lora = l["query"]
                layer.attention.selfAttention.value_lora = l["value"]
            }
        }
    default:
        throw TrainingError.file(cfgPath, "unknown adapter method '\(method)' (expected prompt, prefix or lora)")
    }
    let unused = file.names.filter { !used.contains($0) }.sorted()
    guard unused.isEmpty else {
        throw TrainingError.file(file.path, "\(unused.count) tensor(s) not used by a \(method) adapter for a \(cfg.numHiddenLayers)-layer model: "
                                 + unused.prefix(5).joined(separator: ", ") + (unused.count > 5 ? ", ..." : ""))
    }
    apply()
}
