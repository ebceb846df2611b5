// PeftIA3ParityTests: an (IA)^3 adapter written by PEFT loads and encodes as PEFT encodes; RecAlign's IA3 is PEFT's layout.
import Foundation
import Testing
import RecAlignNN
import RecAlignModels
import RecAlignFormats
import RecAlignTensor

private let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
private let modelDir = repo.appendingPathComponent("checkpoints/all-MiniLM-L6-v2").path
private let golden = repo.appendingPathComponent("Tests/Fixtures/golden")
private let hasModel = FileManager.default.fileExists(atPath: modelDir + "/model.safetensors")

/// `Scripts/make_peft_golden.py --only ia3`: texts, their embeddings under `peft_ia3/`, and the tensor shapes.
private struct IA3Golden: Decodable { let texts: [String]; let embeddings: [[Double]]; let tensors: [String: [Int]] }

@Suite("PEFT IA3 adapters", .serialized, .enabled(if: hasModel))
struct PeftIA3ParityTests {
    fileprivate let g: IA3Golden
    init() throws { g = try JSONDecoder().decode(IA3Golden.self, from: Data(contentsOf: golden.appendingPathComponent("peft_ia3.json"))) }

    /// PEFT's default IA3 for BERT (key, value scaled at the output; both output.dense scaled at the input),
    /// vectors set to 1 + 0.3 N(0, 1), gives PEFT's embeddings through `encode` (weights merged) and through the
    /// training path (the wrapped modules, unmerged).
    @Test func peftAdapterMatchesPeft() throws {
        let enc = try SentenceEncoder(path: modelDir)
        let base = enc.encode(g.texts).values
        try loadAdapter(golden.appendingPathComponent("peft_ia3").path, into: enc)
        let want = g.embeddings.flatMap { $0 }
        let got = enc.encode(g.texts).values
        let worst = zip(got, want).map { abs(Double($0) - $1) }.max()!
        let moved = zip(base, want).map { abs(Double($0) - $1) }.max()!
        #expect(worst < 1e-5, "max |swift - peft| \(worst)")
        #expect(moved > 1e-2, "the fixture's adapter should move the embeddings (moved \(moved))")
        #expect(enc.model.encoder.layer.allSatisfy { $0.attention.selfAttention.key is IA3Linear && $0.output.dense is IA3Linear })
        // The unmerged modules (what training runs) agree with the merged inference weights.
        let ids = enc.tokenize(g.texts).ids
        var rng = SeededRNG(seed: 0)
        let unmerged = Autograd.noGrad { enc.embed(SentenceEncoder.pad(ids, padID: enc.tokenizer.padID), rng: &rng) }.array
        let gap = zip(unmerged, got).map { abs($0 - $1) }.max()!
        #expect(gap < 1e-5, "merged vs unmerged \(gap)")
    }

    /// An IA3 run saves what PEFT saved: the same tensor names and shapes and a config PEFT reads (peft_type,
    /// target and feed-forward modules); the folder reloads to identical embeddings.
    @Test func ia3RunSavesAPeftFolder() throws {
        let enc = try SentenceEncoder(path: modelDir)
        var rng = SeededRNG(seed: 3)
        let tuned = try TunedEncoder(IA3Tuning(), encoder: enc, rng: &rng)
        #expect(tuned.trainable.count == 6 * 4)
        for (k, (_, t)) in tuned.trainable.enumerated() { for i in 0..<t.count { t.data[i] = 1 + 0.2 * sin(Float(i) * 0.31 + Float(k)) } }
        tuned.train(false)
        let texts = ["toy story ; heat", "fargo (1996) crime drama"]
        let want = tuned.encoder.encode(texts).values
        let dir = NSTemporaryDirectory() + "ia3-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try tuned.save(to: dir)
        let file = try SafeTensorsFile(path: dir + "/" + AdapterFolder.peftWeights)
        #expect(Dictionary(uniqueKeysWithValues: file.names.map { ($0, try! file.requireInfo($0).shape) }) == g.tensors)
        let cfg = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/" + AdapterFolder.config))) as! [String: Any]
        #expect(cfg["peft_type"] as? String == "IA3")
        #expect(Set(cfg["target_modules"] as? [String] ?? []) == ["key", "value", "output.dense"])
        #expect(cfg["feedforward_modules"] as? [String] == ["output.dense"])
        #expect(cfg["method"] == nil, "PEFT warns about fields it does not know")
        let fresh = try SentenceEncoder(path: modelDir)
        try loadAdapter(dir, into: fresh)
        #expect(fresh.encode(texts).values == want)
        // The merged model folder encodes to the same vectors up to rounding.
        let merged = dir + "/merged"
        try saveModelFolder(fresh, to: merged)
        let m = try SentenceEncoder(path: merged).encode(texts).values
        #expect(zip(m, want).map { abs($0 - $1) }.max()! < 1e-5)
    }

    /// Fields IA3 cannot honour are refused with the file and field named, and the encoder is unchanged.
    @Test func unsupportedIA3ConfigIsRefused() throws {
        let dir = NSTemporaryDirectory() + "ia3bad-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.copyItem(atPath: golden.appendingPathComponent("peft_ia3").path, toPath: dir)
        let url = URL(fileURLWithPath: dir + "/adapter_config.json")
        var obj = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        obj["fan_in_fan_out"] = true
        try JSONSerialization.data(withJSONObject: obj).write(to: url)
        let enc = try SentenceEncoder(path: modelDir)
        let error = #expect(throws: FormatError.self) { try loadAdapter(dir, into: enc) }
        #expect(error?.field == "fan_in_fan_out" && error?.file.hasSuffix("adapter_config.json") == true)
        #expect(enc.model.encoder.layer.allSatisfy { $0.attention.selfAttention.key is Linear })
    }
}
