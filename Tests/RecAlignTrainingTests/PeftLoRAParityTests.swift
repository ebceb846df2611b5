// PeftLoRAParityTests: a LoRA adapter written by PEFT loads and encodes as sentence-transformers encodes with it (golden fixture).
import Foundation
import Testing
import RecAlignTraining
import RecAlignNN
import RecAlignModels
import RecAlignFormats
import RecAlignTensor
import RecAlignTestSupport

private let modelDir = TestPaths.modelDir
private let golden = TestPaths.fixtures.appendingPathComponent("golden")
private let hasModel = FileManager.default.fileExists(atPath: modelDir + "/model.safetensors")

/// `Scripts/make_peft_golden.py`'s output: texts and their embeddings under the adapter in `peft_lora/`.
private struct PeftGolden: Decodable { let texts: [String]; let embeddings: [[Double]] }

@Suite("PEFT LoRA adapters", .serialized, .enabled(if: hasModel))
struct PeftLoRAParityTests {
    /// PEFT's folder (r 2, alpha 6, query and value of every layer) gives sentence-transformers' embeddings.
    @Test func peftAdapterMatchesSentenceTransformers() throws {
        let g = try JSONDecoder().decode(PeftGolden.self, from: Data(contentsOf: golden.appendingPathComponent("peft_lora.json")))
        let enc = try SentenceEncoder(path: modelDir)
        let base = enc.encode(g.texts).values
        try loadAdapter(golden.appendingPathComponent("peft_lora").path, into: enc)
        let got = enc.encode(g.texts).values
        let want = g.embeddings.flatMap { $0 }
        let worst = zip(got, want).map { abs(Double($0) - $1) }.max()!
        let moved = zip(base, want).map { abs(Double($0) - $1) }.max()!
        #expect(worst < 1e-5, "max |swift - sentence-transformers| \(worst)")
        #expect(moved > 1e-2, "the fixture's adapter should move the embeddings (moved \(moved))")
    }

    /// RecAlign writes its LoRA adapter in PEFT's layout, and reads back both it and the layout it wrote before
    /// (adapter.safetensors, `query_lora.lora_A` names, config with `method`) to the same embeddings.
    @Test func loraAdapterIsAPeftFolderAndTheOldLayoutStillLoads() throws {
        let texts = ["toy story ; heat", "fargo (1996) crime drama"]
        let enc = try SentenceEncoder(path: modelDir)
        var rng = SeededRNG(seed: 3)
        let tuned = try TunedEncoder(.lora(rank: 2, alpha: 4), encoder: enc, rng: &rng)
        for (k, (_, t)) in tuned.trainable.enumerated() { for i in 0..<t.count { t.data[i] = 0.05 * sin(Float(i) * 0.37 + Float(k)) } }
        tuned.train(false)
        let want = tuned.encoder.encode(texts).values
        let dir = TestPaths.tempDir("peft")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try tuned.save(to: dir)

        let cfg = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/adapter_config.json"))) as! [String: Any]
        #expect(cfg["peft_type"] as? String == "LORA" && cfg["r"] as? Int == 2 && cfg["target_modules"] as? [String] == ["query", "value"])
        #expect(cfg["method"] == nil, "PEFT warns about fields it does not know")
        let file = try SafeTensorsFile(path: dir + "/" + AdapterFolder.peftWeights)
        #expect(file.names.count == 6 * 2 * 2)
        #expect(file.info("base_model.model.encoder.layer.5.attention.self.value.lora_B.weight")?.shape == [384, 2])

        let fresh = try SentenceEncoder(path: modelDir)
        try loadAdapter(dir, into: fresh)
        #expect(fresh.encode(texts).values == want)

        // The earlier layout of the same matrices.
        var w = SafeTensorsWriter()
        for n in file.names {
            let old = n.replacingOccurrences(of: "base_model.model.", with: "").replacingOccurrences(of: ".lora_", with: "_lora.lora_")
                .replacingOccurrences(of: ".weight", with: "")
            try w.add(old, shape: file.requireInfo(n).shape, floats: file.floats(n))
        }
        let oldDir = dir + "/old"
        try FileManager.default.createDirectory(atPath: oldDir, withIntermediateDirectories: true)
        try w.write(to: oldDir + "/adapter.safetensors")
        try JSONSerialization.data(withJSONObject: ["method": "lora", "r": 2, "lora_alpha": 4.0, "hidden_size": 384, "num_hidden_layers": 6])
            .write(to: URL(fileURLWithPath: oldDir + "/adapter_config.json"))
        let older = try SentenceEncoder(path: modelDir)
        try loadAdapter(oldDir, into: older)
        #expect(older.encode(texts).values == want)
    }
}
