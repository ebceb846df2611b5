// UntrustedModelTests: a model folder or training state whose numbers cannot be trusted is refused at load.
import Foundation
import Testing
@testable import RecAlignTraining
import RecAlignNN
import RecAlignModels
import RecAlignFormats
import RecAlignTensor
import RecAlignHeads

@Suite struct UntrustedModelTests {
    /// Rewrites one tensor of a safetensors file with `edit` applied (every other tensor unchanged).
    static func rewrite(_ path: String, tensor: String, _ edit: (inout [Float]) -> Void) throws {
        let f = try SafeTensorsFile(path: path)
        var w = SafeTensorsWriter(metadata: f.metadata)
        for n in f.names {
            var v = try f.floats(n, finite: false)
            if n == tensor { edit(&v) }
            try w.add(n, shape: try f.requireInfo(n).shape, floats: v)
        }
        try w.write(to: path)
    }

    /// Cause 1: a vocabulary with more ids than the model's embedding rows (vocab_size 1000 against the
    /// 30,522-token fixture vocabulary) used to load and then read past the table at encode time.
    @Test func tokenizerIdsBeyondTheEmbeddingRowsAreRefused() throws {
        let dir = try Tiny.model()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var c = try BertConfig.load(dir + "/config.json")
        c.vocabSize = 1000
        try c.write(to: dir + "/config.json")
        try BertWeights.save(BertModel(config: c, seed: 7), to: dir + "/model.safetensors")
        let e = #expect(throws: FormatError.self) { try SentenceEncoder(path: dir) }
        #expect(e?.file.hasSuffix("vocab.txt") == true || e?.file.hasSuffix("tokenizer.json") == true)
        #expect(e?.description.contains("token id 30521 but the model has 1000 embedding rows") == true)
    }

    /// Cause 2: a NaN in one vocabulary row gave NaN embeddings for the texts using that word, exit 0.
    @Test func nonFiniteWeightIsRefusedNamingTheTensor() throws {
        let dir = try Tiny.model()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Self.rewrite(dir + "/model.safetensors", tensor: "embeddings.word_embeddings.weight") { $0[2000 * 32 + 5] = .infinity }
        let e = #expect(throws: SafeTensorsError.self) { try SentenceEncoder(path: dir) }
        #expect(e?.kind == .nonFinite)
        #expect(e?.description.contains("tensor 'embeddings.word_embeddings.weight'") == true)
        #expect(e?.description.contains("row 2000") == true)
    }

    /// Cause 2: a NaN in a resumed state was found only at step 6 and blamed on the learning rate; now the
    /// resume is refused naming the moment tensor, before any weight is overwritten.
    @Test func nonFiniteResumedStateIsRefusedBeforeAnyWeightChanges() throws {
        let dir = try Tiny.model()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let encoder = try SentenceEncoder(path: dir)
        var rng = SeededRNG(seed: 1)
        let tuned = try TunedEncoder(.full, encoder: encoder, rng: &rng)
        let opt = tuned.optimizer(lr: 1e-3, weightDecay: 0)
        let state = TrainingState(step: 3, epoch: 0, batchInEpoch: 3, rngWords: rng.words, best: nil, bestStep: -1,
                                  badValidations: 0, method: tuned.method.name)
        let stateDir = Tiny.tempDir("state")
        defer { try? FileManager.default.removeItem(atPath: stateDir) }
        try state.save(to: stateDir, tuned: tuned, optimizer: opt, hardNegatives: nil)
        let victim = "v." + opt.params[3].name
        try Self.rewrite(stateDir + "/" + TrainingState.weightsFile, tensor: victim) { $0[0] = .nan }
        let before = opt.params[0].tensor.array
        opt.params[0].tensor.buffer[0] += 1   // a change that a partial load would overwrite
        let changed = opt.params[0].tensor.array
        let e = #expect(throws: SafeTensorsError.self) { try TrainingState.load(from: stateDir, optimizer: opt, method: "full") }
        #expect(e?.kind == .nonFinite && e?.tensor == victim)
        #expect(opt.params[0].tensor.array == changed && changed != before)
    }

    /// Sizes read from config.json / head_config.json are allocated before the weights are matched by name:
    /// a crafted size is refused against the weights file's element count instead of allocating terabytes.
    @Test func configSizesBeyondTheWeightsFileAreRefusedBeforeAllocating() throws {
        let dir = try Tiny.model()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for (key, value) in [("vocab_size", 1 << 40), ("intermediate_size", Int.max / 2)] {
            var obj = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/config.json"))) as! [String: Any]
            let original = obj[key]
            obj[key] = value
            try JSONSerialization.data(withJSONObject: obj).write(to: URL(fileURLWithPath: dir + "/config.json"))
            let e = #expect(throws: FormatError.self, "\(key)") { try SentenceEncoder(path: dir) }
            #expect(e?.field == "sizes" && e?.description.contains("holds") == true)
            obj[key] = original
            try JSONSerialization.data(withJSONObject: obj).write(to: URL(fileURLWithPath: dir + "/config.json"))
        }
        #expect(try SentenceEncoder(path: dir).dimension == 32)

        let headDir = Tiny.tempDir("head")
        defer { try? FileManager.default.removeItem(atPath: headDir) }
        try HeadFiles.save(RecHead(config: HeadConfig(adaptor: .moe, tower: .seq, inputDim: 8, experts: 2, hiddenDim: 8)), to: headDir)
        #expect(try loadHead(headDir).config.hiddenDim == 8)
        let cfgPath = headDir + "/" + HeadFiles.configName
        var cfg = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: cfgPath))) as! [String: Any]
        cfg["maxHistory"] = 1 << 40
        try JSONSerialization.data(withJSONObject: cfg).write(to: URL(fileURLWithPath: cfgPath))
        #expect(throws: HeadError.self) { try loadHead(headDir) }
        cfg["maxHistory"] = 50; cfg["experts"] = Int.max / 4
        try JSONSerialization.data(withJSONObject: cfg).write(to: URL(fileURLWithPath: cfgPath))
        #expect(throws: HeadError.self) { try loadHead(headDir) }
    }
}
