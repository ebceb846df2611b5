// PeftLoRA: LoRA adapters in PEFT's folder layout, so that PEFT and sentence-transformers load RecAlign's and back.
import Foundation
import RecAlignNN
import RecAlignFormats
import RecAlignModels

/// PEFT's layout of a LoRA adapter on a BertModel: what `PeftModel.save_pretrained` writes and
/// `PeftModel.from_pretrained` / `SentenceTransformer.load_adapter` read.
///
/// `adapter_model.safetensors` holds, per layer i and adapted projection m (query, value),
/// `base_model.model.encoder.layer.i.attention.self.m.lora_A.weight` [r, in] and `...lora_B.weight` [out, r];
/// `adapter_config.json` holds `peft_type` "LORA", `r`, `lora_alpha`, `target_modules` and the fields that
/// must keep PEFT's defaults for the adapter to mean y = W x + (α/r) B A x.
public enum PeftLoRA {
    public static let weights = "adapter_model.safetensors"
    /// The projections RecAlign's LoRA can adapt (BertSelfAttention's submodule names).
    public static let modules = ["query", "value"]

    /// The tensor name PEFT gives matrix `AorB` ("A" or "B") of `module` in layer `layer`.
    public static func tensorName(layer: Int, module: String, _ AorB: String) -> String {
        "base_model.model.encoder.layer.\(layer).attention.self.\(module).lora_\(AorB).weight"
    }

    /// `adapter_config.json` as PEFT's LoraConfig writes it (only fields PEFT knows, so it loads without warnings).
    static func config(rank: Int, alpha: Float, baseModel: String) -> [String: Any] {
        ["peft_type": "LORA", "task_type": NSNull(), "base_model_name_or_path": baseModel, "inference_mode": true,
         "r": rank, "lora_alpha": Double(alpha), "lora_dropout": 0.0, "target_modules": modules, "bias": "none",
         "fan_in_fan_out": false, "use_rslora": false, "use_dora": false, "init_lora_weights": true,
         "layers_to_transform": NSNull(), "modules_to_save": NSNull(), "rank_pattern": [String: Any](), "alpha_pattern": [String: Any]()]
    }

    /// Writes `tuned`'s LoRA matrices and config into `dir` in PEFT's layout.
    static func save(_ tuned: TunedEncoder, rank: Int, alpha: Float, to dir: String) throws {
        var w = SafeTensorsWriter(metadata: ["format": "pt"])
        for (i, layer) in tuned.encoder.model.encoder.layer.enumerated() {
            let sa = layer.attention.selfAttention
            for (module, lora) in [("query", sa.query_lora), ("value", sa.value_lora)] {
                guard let lora else { continue }
                try w.add(tensorName(layer: i, module: module, "A"), shape: lora.lora_A.shape, buffer: UnsafeBufferPointer(lora.lora_A.buffer))
                try w.add(tensorName(layer: i, module: module, "B"), shape: lora.lora_B.shape, buffer: UnsafeBufferPointer(lora.lora_B.buffer))
            }
        }
        try w.write(to: (dir as NSString).appendingPathComponent(weights))
        let obj = config(rank: rank, alpha: alpha, baseModel: tuned.encoder.folder.path)
        let data = try JSONSerialization.data(withJSONObject: obj, options: [.prettyPrinted, .sortedKeys])
        try AtomicFile.write(data, to: (dir as NSString).appendingPathComponent(AdapterFiles.config))
    }

    /// The adapted projections named by PEFT's `target_modules` (a list of names or one name), refusing what
    /// RecAlign's LoRA cannot express.
    static func targets(_ obj: [String: Any], cfgPath: String) throws -> [String] {
        let names: [String]
        switch obj["target_modules"] {
        case let list as [String]: names = list
        case let one as String: names = [one]
        default: throw TrainingError.file(cfgPath, "field 'target_modules' must be a list of module names")
        }
        let unsupported = names.filter { !modules.contains($0) }
        guard unsupported.isEmpty, !names.isEmpty else {
            throw TrainingError.file(cfgPath, "target_modules \(names): RecAlign's LoRA adapts only query and value, not "
                                     + (unsupported.isEmpty ? "an empty list" : unsupported.joined(separator: ", ")))
        }
        // Options that change what the matrices mean must keep PEFT's defaults.
        let defaults: [(String, (Any) -> Bool)] = [
            ("bias", { ($0 as? String) == "none" }), ("fan_in_fan_out", { ($0 as? Bool) == false }),
            ("use_rslora", { ($0 as? Bool) == false }), ("use_dora", { ($0 as? Bool) == false }),
            ("layers_to_transform", { $0 is NSNull }), ("modules_to_save", { $0 is NSNull }),
            ("rank_pattern", { ($0 as? [String: Any])?.isEmpty == true }), ("alpha_pattern", { ($0 as? [String: Any])?.isEmpty == true }),
        ]
        for (key, isDefault) in defaults {
            if let v = obj[key], !isDefault(v) {
                throw TrainingError.file(cfgPath, "field '\(key)' is \(v); RecAlign reads LoRA adapters with PEFT's default for it only")
            }
        }
        return modules.filter(names.contains)
    }
}
