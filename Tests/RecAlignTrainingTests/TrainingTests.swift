// TrainingTests: methods touch only their parameters, hand-computed loss, batching, resume, NaN, checkpoints, learning.
import Foundation
import Testing
import RecAlignTraining
import RecAlignNN
import RecAlignModels
import RecAlignFormats
import RecAlignData
import RecAlignRetrieval
import RecAlignTensor

/// Builds an encoder, applies `method`, and a trainer on the ml-tiny warm pairs writing into a temp folder.
func makeTrainer(_ model: String, _ method: any TuningMethod, epochs: Int = 1, batch: Int = 8, lr: Float = 1e-2,
                 validate: Bool = false, genre: Bool = false, configure: (inout TrainerConfig) -> Void = { _ in }) throws -> (Trainer, Tiny.Corpus) {
    let enc = try SentenceEncoder(path: model)
    let corpus = try genre ? Tiny.genreCorpus(enc) : Tiny.corpus(enc)
    var rng = SeededRNG(seed: 3)
    let tuned = try TunedEncoder(method, encoder: enc, rng: &rng)
    var cfg = TrainerConfig(outputDir: Tiny.tempDir("run"))
    cfg.epochs = epochs; cfg.batchSize = batch; cfg.lr = lr
    configure(&cfg)
    let v = validate ? RetrievalValidation(split: corpus.split, builder: corpus.builder, setting: .warm).closure : nil
    return (try Trainer(tuned: tuned, pairs: corpus.pairs, builder: corpus.builder, config: cfg, rng: rng, validate: v), corpus)
}

@Suite(.serialized) struct TrainingTests {
    let model: String
    init() throws { model = try Tiny.model() }

    @Test(arguments: [FullTuning() as any TuningMethod, TopLayersTuning(layers: 1), SoftPromptTuning(length: 4, initText: "the movie"), SoftPromptTuning(length: 3, initText: nil),
                      PrefixTuning(length: 3, fromVocabulary: false), PrefixTuning(length: 2, fromVocabulary: true), LoRATuning(rank: 4, alpha: 8), IA3Tuning()])
    func methodChangesOnlyItsOwnParameters(_ method: any TuningMethod) throws {
        let (trainer, _) = try makeTrainer(model, method)
        let tuned = trainer.tuned
        let before = Tiny.snapshot(tuned.encoder, extra: tuned.encoder.inputAdapter)
        let trainableNames = Set(tuned.trainable.map { tuned.encoder.inputAdapter == nil ? $0.name : "prompt." + $0.name })
        #expect(!trainableNames.isEmpty)
        _ = try trainer.run()
        let after = Tiny.snapshot(tuned.encoder, extra: tuned.encoder.inputAdapter)
        #expect(before.keys.sorted() == after.keys.sorted())
        var changed = 0
        for (name, values) in before {
            if trainableNames.contains(name) {
                if values != after[name]! { changed += 1 }
            } else {
                #expect(values == after[name]!, "frozen parameter \(name) changed under \(method)")
            }
        }
        #expect(changed > 0, "no trainable parameter of \(method) changed")
        // The expected trainable sets.
        switch method {
        case is FullTuning: #expect(trainableNames.count == tuned.encoder.model.namedParameters().count)
        case is TopLayersTuning: #expect(trainableNames.allSatisfy { $0.hasPrefix("encoder.layer.1.") })
        case is LoRATuning: #expect(trainableNames.allSatisfy { $0.contains(".lora_") } && trainableNames.count == 8)
        case is IA3Tuning: #expect(trainableNames.allSatisfy { $0.hasSuffix(".ia3_l") } && trainableNames.count == 8)
        case is SoftPromptTuning: #expect(trainableNames == ["prompt.soft_prompt"])
        case is PrefixTuning: #expect(trainableNames.count == 4)
        default: Issue.record("no expected trainable set for \(method)")
        }
    }

    /// Identical texts are encoded once: bit-identical vectors even where the batching would pad the copies
    /// differently (one copy beside a long text, one alone), and every copy counts in progress.
    @Test func identicalTextsGetIdenticalVectors() throws {
        let enc = try SentenceEncoder(path: model)
        let texts = ["fargo", "a long user history of many films ; fargo ; the rock ; twister ; heat ; casino", "fargo", "babe"]
        var seen: [Int] = []
        let m = enc.encode(texts, batchSize: 2) { done, _ in seen.append(done) }
        #expect(Array(m.row(0)) == Array(m.row(2)))
        #expect(Array(m.row(0)) != Array(m.row(3)))
        #expect(seen.last == texts.count)
        let alone = enc.encode(["fargo"], batchSize: 1)
        let worst = zip(m.row(0), alone.row(0)).map { abs($0 - $1) }.max()!
        #expect(worst < 1e-5)
    }

    /// A soft prompt's virtual tokens come on top of the text's budget: the text keeps every token it has
    /// without the prompt (a user text built to fit max length keeps its most recent items), unless text +
    /// prompt would pass the position table; and the longer sequence encodes.
    @Test func softPromptDoesNotEatTheTextBudget() throws {
        let enc = try SentenceEncoder(path: model)
        let long = (0..<150).map { ["toy", "story", "heat", "fargo", "babe"][$0 % 5] }.joined(separator: " ; ")
        let texts = ["toy story ; heat ; fargo", long]
        let plain = enc.tokenize(texts)
        var rng = SeededRNG(seed: 2)
        let tuned = try TunedEncoder(SoftPromptTuning(length: 20, initText: nil), encoder: enc, rng: &rng)
        let prompted = tuned.encoder.tokenize(texts)
        #expect(prompted.ids == plain.ids && plain.ids[1].count == enc.maxLength && prompted.truncated == 1)
        let e = tuned.encoder.encode(texts)
        #expect(e.values.allSatisfy { $0.isFinite })
        // At the position table's length (192 here) the text gives way to the 20 virtual tokens.
        tuned.encoder.maxLength = enc.model.config.maxPositionEmbeddings
        #expect(tuned.encoder.tokenize([long]).ids[0].count == enc.model.config.maxPositionEmbeddings - 20)
        #expect(tuned.encoder.encode([long]).values.allSatisfy { $0.isFinite })
    }

    /// The data-parallel step (rows split over the cores, one tape and gradient slot per worker, loss on all
    /// rows) computes the same loss and gradients as the single graph. Dropout off, so both paths compute
    /// the same function; uneven row counts and several batches per tower exercise the row bookkeeping.
    @Test(arguments: [FullTuning() as any TuningMethod, SoftPromptTuning(length: 3, initText: nil), PrefixTuning(length: 2, fromVocabulary: false),
                      LoRATuning(rank: 4, alpha: 8), IA3Tuning()])
    func dataParallelGradientsMatchOneGraph(_ method: any TuningMethod) throws {
        try #require(Parallel.workers > 1, "the data-parallel path needs more than one worker")
        let enc = try SentenceEncoder(path: model)
        var rng = SeededRNG(seed: 5)
        let tuned = try TunedEncoder(method, encoder: enc, rng: &rng)
        tuned.train(false)
        func batches(_ texts: [String], _ sizes: [Int]) -> [TokenBatch] {
            let ids = enc.tokenize(texts).ids
            var out: [TokenBatch] = [], at = 0
            for n in sizes { out.append(SentenceEncoder.pad(Array(ids[at..<(at + n)]), padID: enc.tokenizer.padID)); at += n }
            return out
        }
        let users = batches(["toy story ; heat ; casino", "a long user history of many films ; fargo ; the rock ; twister",
                             "babe", "star wars ; return of the jedi", "the godfather ; scream ; contact ; air force one",
                             "titanic", "men in black ; liar liar", "the english patient ; evita ; jerry maguire"], [5, 3])
        let items = batches(["toy story (1995) animation", "heat (1995) action crime", "fargo (1996) crime drama",
                             "babe (1995) children comedy", "star wars (1977) action adventure sci-fi", "scream (1996) horror",
                             "contact (1997) drama sci-fi", "evita (1996) drama musical", "twister (1996) action", "casino (1995) drama"],
                            [6, 4])
        let params = tuned.trainable.map(\.tensor)
        func run(_ dataParallel: Bool) throws -> (Float, [[Float]]) {
            for p in params { p.zeroGrad() }
            var r = SeededRNG(seed: 9)
            let v = try contrastiveGradients(tuned: tuned, parameters: params, users: users, items: items,
                                             loss: MultipleNegativesRankingLoss(), rng: &r, dataParallel: dataParallel)
            return (v, params.map { $0.grad?.array ?? [] })
        }
        let (l1, g1) = try run(false), (l2, g2) = try run(true)
        #expect(abs(l1 - l2) <= 1e-5 * max(1, abs(l1)), "loss \(l1) vs \(l2)")
        var compared = 0
        for (i, (a, b)) in zip(g1, g2).enumerated() {
            #expect(a.count == b.count, "\(tuned.trainable[i].name): gradient present in one path only")
            guard a.count == b.count, !a.isEmpty else { continue }
            let scale = max(1e-3, a.map { abs($0) }.max()!)
            let diff = zip(a, b).map { abs($0 - $1) }.max()!
            #expect(diff <= 1e-4 * scale, "\(tuned.trainable[i].name): max |dp - single| \(diff), max |g| \(scale)")
            compared += 1
        }
        #expect(compared > 0)
    }

    /// With a soft prompt whose virtual tokens are not pooled, the last layer computes only the text rows:
    /// they equal the text rows of the whole computation, and so does the prompt's gradient through them.
    @Test func textOnlyLastLayerEqualsTheFullLayer() {
        var c = BertConfig()
        c.hiddenSize = 32; c.numHiddenLayers = 2; c.numAttentionHeads = 4; c.intermediateSize = 64; c.maxPositionEmbeddings = 64
        let model = BertModel(config: c, seed: 3)
        model.freeze()
        model.train(false)
        let b = 2, t = 6, p = 3, dim = 32
        let ids: [Int32] = [101, 2023, 3185, 2003, 2204, 102, 101, 2307, 102, 0, 0, 0]
        let mask: [Float] = [1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0]
        let batch = TokenBatch(ids: ids, mask: mask, batch: b, length: t)
        var init_ = SeededRNG(seed: 5)
        let promptValues = Tensor.uniform([p, dim], -1, 1, rng: &init_).array
        let upstream = Tensor.uniform([b, t, dim], -1, 1, rng: &init_)
        func run(poolVirtual: Bool) -> (text: [Float], poolMask: [Float], grad: [Float]) {
            let prompt = Tensor(promptValues, shape: [p, dim], requiresGrad: true)
            var rng = SeededRNG(seed: 1)
            let (h, m) = model(batch, adapter: SoftPrompt(prompt, pooled: poolVirtual), rng: &rng)
            let text = poolVirtual ? concat([narrow(h, axis: 1, start: 0, length: 1), narrow(h, axis: 1, start: 1 + p, length: t - 1)], axis: 1) : h
            let all = m.array
            var textMask: [Float] = []
            for bi in 0..<b {
                let row = bi * all.count / b
                textMask.append(all[row])
                textMask += all[(row + all.count / b - (t - 1))..<(row + all.count / b)]
            }
            Autograd.backward(sum(mul(text, upstream)))
            return (text.array, textMask, prompt.grad!.array)
        }
        let textOnly = run(poolVirtual: false), whole = run(poolVirtual: true)
        #expect(textOnly.text.count == b * t * dim)
        #expect(textOnly.poolMask == mask && whole.poolMask == mask)
        let dh = zip(textOnly.text, whole.text).map { abs($0 - $1) }.max() ?? 0
        let dg = zip(textOnly.grad, whole.grad).map { abs($0 - $1) }.max() ?? 0
        let gScale = whole.grad.map { abs($0) }.max() ?? 0
        #expect(dh <= 1e-5, "text rows differ by \(dh)")
        #expect(gScale > 0 && dg <= 1e-5 * max(gScale, 1), "prompt gradients differ by \(dg) of \(gScale)")
    }

    @Test func lossEqualsHandComputedValue() {
        // Unit anchors a0 = (1, 0), a1 = (0, 1); candidates c0 = (2, 0) (cos 1 with a0, 0 with a1) and
        // c1 = (0.6, 0.8) (cos 0.6 with a0, 0.8 with a1). Scale 20:
        // row 0 logits (20, 12) -> log(1 + e^-8); row 1 logits (0, 16) -> log(1 + e^-16).
        let a = Tensor([1, 0, 0, 1], shape: [2, 2]), c = Tensor([2, 0, 0.6, 0.8], shape: [2, 2])
        let forward = (log1p(exp(-8.0)) + log1p(exp(-16.0))) / 2
        #expect(abs(Double(MultipleNegativesRankingLoss()(anchors: a, candidates: c)[0]) - forward) < 1e-6)
        // Symmetric: column 0 logits (20, 0) -> log(1 + e^-20); column 1 (12, 16) -> log(1 + e^-4).
        let backward = (log1p(exp(-20.0)) + log1p(exp(-4.0))) / 2
        let sym = MultipleNegativesRankingLoss(scale: 20, symmetric: true)(anchors: a, candidates: c)[0]
        #expect(abs(Double(sym) - (forward + backward) / 2) < 1e-6)
    }

    @Test func batchesHoldNoTargetTwiceAndCoverEveryPair() throws {
        let (trainer, corpus) = try makeTrainer(model, SoftPromptTuning(length: 2, initText: nil), epochs: 2, batch: 8)
        let targets = corpus.pairs.targets
        for epoch in 0..<2 {
            let batches = trainer.batches(epoch: epoch)
            #expect(batches.flatMap { $0 }.sorted() == Array(0..<corpus.pairs.count))
            for b in batches { #expect(Set(b.map { targets[$0] }).count == b.count) }
        }
        #expect(trainer.batches(epoch: 0) != trainer.batches(epoch: 1))
        #expect(trainer.totalSteps == trainer.batches(epoch: 0).count + trainer.batches(epoch: 1).count)
    }

    @Test(arguments: [FullTuning() as any TuningMethod, SoftPromptTuning(length: 3, initText: nil)])
    func resumedRunEndsWithTheSameWeights(_ method: any TuningMethod) throws {
        // Bit-level equivalence is asserted at a fixed thread layout: OpenBLAS's thread count is process-wide,
        // and suites running side by side (data-parallel encoding, top-k) set it to 1 for their sections.
        try BLAS.singleThreaded { try Parallel.serially { try resumeEquivalence(method) } }
    }

    func resumeEquivalence(_ method: any TuningMethod) throws {
        let (whole, _) = try makeTrainer(model, method, epochs: 2, lr: 1e-3, validate: true) { $0.evalEvery = 3 }
        let full = try whole.run()
        #expect(full.reason == "completed")
        let (first, _) = try makeTrainer(model, method, epochs: 2, lr: 1e-3, validate: true) { $0.evalEvery = 3; $0.stopAfterSteps = 4 }
        let part = try first.run()
        #expect(part.steps == 4 && part.reason.hasPrefix("stopped"))
        let (second, _) = try makeTrainer(model, method, epochs: 2, lr: 1e-3, validate: true) { $0.evalEvery = 3 }
        let rest = try second.run(resume: first.stateDir)
        #expect(rest.steps == full.steps)
        let a = whole.tuned.trainable, b = second.tuned.trainable
        #expect(a.map(\.name) == b.map(\.name))
        var maxDiff: Float = 0
        for (x, y) in zip(a, b) { for i in 0..<x.tensor.count { maxDiff = max(maxDiff, abs(x.tensor[i] - y.tensor[i])) } }
        #expect(maxDiff <= 1e-6, "resumed weights differ by \(maxDiff)")
        #expect(rest.best?.recall10 == full.best?.recall10 && rest.bestStep == full.bestStep)
    }

    /// A state folder of another method, or one whose tensors do not fit, is refused by name before any weight
    /// of the new run is touched.
    @Test func resumeRefusesAStateThatDoesNotFit() throws {
        let (first, _) = try makeTrainer(model, SoftPromptTuning(length: 3, initText: nil)) { $0.stopAfterSteps = 2 }
        _ = try first.run()
        func weights(_ t: Trainer) -> [[Float]] { t.tuned.trainable.map { $0.tensor.array } }
        let (lora, _) = try makeTrainer(model, LoRATuning(rank: 2, alpha: 4))
        let before = weights(lora)
        #expect { _ = try lora.run(resume: first.stateDir) } throws: { "\($0)".contains("state is of method 'prompt', this run is 'lora'") }
        #expect(weights(lora) == before)
        let (longer, _) = try makeTrainer(model, SoftPromptTuning(length: 5, initText: nil))
        let start = weights(longer)
        #expect { _ = try longer.run(resume: first.stateDir) } throws: { "\($0)".contains("'param.soft_prompt' is missing or has the wrong size") }
        #expect(weights(longer) == start)
    }

    /// A resume that cannot load leaves no output folder behind (it used to create an empty --out), and the next
    /// run removes a killed run's temporary checkpoint folders.
    @Test func failedResumeCreatesNothingAndStaleFoldersAreCleaned() throws {
        let (first, _) = try makeTrainer(model, SoftPromptTuning(length: 3, initText: nil)) { $0.stopAfterSteps = 2 }
        _ = try first.run()
        let (lora, _) = try makeTrainer(model, LoRATuning(rank: 2, alpha: 4)) { $0.outputDir = Tiny.tempDir("failed") + "/out" }
        #expect(throws: TrainingError.self) { _ = try lora.run(resume: first.stateDir) }
        #expect(!FileManager.default.fileExists(atPath: lora.config.outputDir))
        let dead = first.config.outputDir + "/best.tmp-4000000"
        try FileManager.default.createDirectory(atPath: dead, withIntermediateDirectories: true)
        let (again, _) = try makeTrainer(model, SoftPromptTuning(length: 3, initText: nil)) { $0.outputDir = first.config.outputDir }
        _ = try again.run(resume: first.stateDir)
        #expect(!FileManager.default.fileExists(atPath: dead))
        let left = try FileManager.default.contentsOfDirectory(atPath: first.config.outputDir).filter { $0.contains(".tmp-") || $0.contains(".old-") }
        #expect(left.isEmpty)
    }

    @Test func nonFiniteLossStopsAndKeepsLastGoodCheckpoint() throws {
        let (trainer, corpus) = try makeTrainer(model, .full, lr: 1e-3, validate: true) { $0.evalEvery = 2 }
        trainer.lossObserver = { step, v in step == 3 ? .nan : v }
        var caught: Error? = nil
        do { _ = try trainer.run() } catch { caught = error }
        let err = try #require(caught as? TrainingError)
        #expect("\(err)".contains("step 4") && "\(err)".contains("not finite") && "\(err)".contains(trainer.bestDir))
        // The kept checkpoint loads and encodes to finite vectors.
        let enc = try SentenceEncoder(path: trainer.bestDir)
        let m = enc.encode(Array(corpus.builder.itemTexts.prefix(5)))
        #expect(m.values.allSatisfy { $0.isFinite })
        #expect(FileManager.default.fileExists(atPath: trainer.stateDir + "/state.json"))
    }

    @Test func hugeLearningRateIsCaught() throws {
        let (trainer, _) = try makeTrainer(model, .full, epochs: 2, lr: 1e30, validate: false)
        #expect(throws: TrainingError.self) { _ = try trainer.run() as TrainResult }
        #expect(FileManager.default.fileExists(atPath: trainer.bestDir + "/model.safetensors"))
    }

    @Test(arguments: [FullTuning() as any TuningMethod, TopLayersTuning(layers: 1), SoftPromptTuning(length: 3, initText: "movie"), PrefixTuning(length: 2, fromVocabulary: false),
                      LoRATuning(rank: 2, alpha: 4), IA3Tuning()])
    func savedCheckpointReloadsToIdenticalEmbeddings(_ method: any TuningMethod) throws {
        let (trainer, corpus) = try makeTrainer(model, method, lr: 1e-2)
        _ = try trainer.run()
        let texts = Array(corpus.builder.itemTexts.prefix(6)) + ["a longer user text ; with two items"]
        let expected = trainer.tuned.encoder.encode(texts)
        let reloaded: SentenceEncoder
        if method.savesWholeModel {
            reloaded = try SentenceEncoder(path: trainer.bestDir)
        } else {
            let weights: String
            weights = method is LoRATuning || method is IA3Tuning ? AdapterFolder.peftWeights : AdapterFolder.recAlignWeights
            #expect(FileManager.default.fileExists(atPath: trainer.bestDir + "/" + weights))
            reloaded = try SentenceEncoder(path: model)
            try loadAdapter(trainer.bestDir, into: reloaded)
        }
        let got = reloaded.encode(texts)
        #expect(got.values == expected.values)
        if method is LoRATuning || method is IA3Tuning {
            // The merged model folder encodes to the same vectors up to rounding.
            let dir = Tiny.tempDir("merged")
            try saveModelFolder(trainer.tuned.encoder, to: dir)
            let merged = try SentenceEncoder(path: dir).encode(texts)
            let d = zip(merged.values, expected.values).map { abs($0 - $1) }.max() ?? 0
            #expect(d < 1e-5)
        }
    }

    /// A damaged adapter folder is refused with the file and the field or tensor named, and leaves the encoder
    /// as it was: a config that names another model or size than the tensors hold, a tensor the method does not
    /// use, a missing tensor (LoRA: the last layer's, after the first layers' loaded).
    @Test func badAdapterIsRefusedAndChangesNothing() throws {
        let enc = try SentenceEncoder(path: model)
        let texts = ["toy story ; heat", "fargo (1996) crime drama"]
        let plain = enc.encode(texts)
        func adapter(_ method: any TuningMethod) throws -> String {
            let e = try SentenceEncoder(path: model)
            var rng = SeededRNG(seed: 4)
            let dir = Tiny.tempDir("adapter")
            try TunedEncoder(method, encoder: e, rng: &rng).save(to: dir)
            return dir
        }
        func editConfig(_ dir: String, _ edit: (inout [String: Any]) -> Void) throws {
            let url = URL(fileURLWithPath: dir + "/adapter_config.json")
            var obj = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
            edit(&obj)
            try JSONSerialization.data(withJSONObject: obj).write(to: url)
        }
        func editTensors(_ dir: String, file: String = "adapter.safetensors", drop: String? = nil, add: String? = nil) throws {
            let path = dir + "/" + file
            let f = try SafeTensorsFile(path: path)
            var w = SafeTensorsWriter()
            for n in f.names where n != drop { try w.add(n, shape: f.requireInfo(n).shape, floats: f.floats(n)) }
            if let add { try w.add(add, shape: [2, 32], floats: [Float](repeating: 0.5, count: 64)) }
            try w.write(to: path)
        }
        func refused(_ dir: String, mentions: [String]) {
            do {
                try loadAdapter(dir, into: enc)
                Issue.record("\(dir) loaded")
            } catch {
                let text = "\(error)"
                for m in mentions { #expect(text.contains(m), "error '\(text)' does not mention '\(m)'") }
            }
            #expect(enc.encode(texts).values == plain.values, "a refused adapter changed the encoder")
        }
        let prompt = try adapter(SoftPromptTuning(length: 3, initText: nil))
        try editConfig(prompt) { $0["num_virtual_tokens"] = 5 }
        refused(prompt, mentions: ["soft_prompt", "[5, 32]", "adapter.safetensors"])
        let wide = try adapter(SoftPromptTuning(length: 3, initText: nil))
        try editConfig(wide) { $0["hidden_size"] = 384 }
        refused(wide, mentions: ["hidden_size", "adapter_config.json"])
        let layers = try adapter(PrefixTuning(length: 2, fromVocabulary: false))
        try editTensors(layers, add: "prefix.2.key")
        refused(layers, mentions: ["prefix.2.key", "not used"])
        let lora = try adapter(LoRATuning(rank: 2, alpha: 4))
        let lastB = LoRATuning.tensorName(layer: 1, module: "value", "B")
        try editTensors(lora, file: AdapterFolder.peftWeights, drop: lastB)
        refused(lora, mentions: [lastB, "missing"])
        let dora = try adapter(LoRATuning(rank: 2, alpha: 4))
        try editConfig(dora) { $0["use_dora"] = true }
        refused(dora, mentions: ["use_dora", "adapter_config.json"])
        let keys = try adapter(LoRATuning(rank: 2, alpha: 4))
        try editConfig(keys) { $0["target_modules"] = ["query", "key", "value"] }
        refused(keys, mentions: ["key", "target_modules"])
        #expect(enc.model.encoder.layer.allSatisfy { $0.attention.selfAttention.query is Linear })
        // The untouched adapters still load.
        try loadAdapter(try adapter(LoRATuning(rank: 2, alpha: 4)), into: enc)
        #expect(enc.model.encoder.layer.allSatisfy { $0.attention.selfAttention.query is LoRALinear })
    }

    @Test func savedFolderKeepsTheBasePooler() throws {
        // A base whose file carries a pooler under the `bert.` prefix (as BertForPreTraining checkpoints name it).
        let base = try Tiny.model()
        let file = try SafeTensorsFile(path: base + "/model.safetensors")
        var w = SafeTensorsWriter()
        for n in file.names { try w.add(n, shape: file.requireInfo(n).shape, floats: file.floats(n)) }
        let h = 32
        let poolW = (0..<(h * h)).map { Float($0 % 7) * 0.25 - 0.5 }, poolB = (0..<h).map { Float($0) / 8 }
        try w.add("bert.pooler.dense.weight", shape: [h, h], floats: poolW)
        try w.add("bert.pooler.dense.bias", shape: [h], floats: poolB)
        try w.write(to: base + "/model.safetensors")
        let encoder = try SentenceEncoder(path: base)
        let dir = Tiny.tempDir("pooler")
        try saveModelFolder(encoder, to: dir)
        let saved = try SafeTensorsFile(path: dir + "/model.safetensors")
        #expect(try saved.floats("pooler.dense.weight") == poolW)
        #expect(try saved.floats("pooler.dense.bias") == poolB)
        #expect(try saved.requireInfo("pooler.dense.weight").shape == [h, h])
        #expect(!saved.names.contains { $0.hasPrefix("bert.") })
        // A base without a pooler saves none.
        let plain = Tiny.tempDir("plain")
        try saveModelFolder(try SentenceEncoder(path: try Tiny.model()), to: plain)
        #expect(!(try SafeTensorsFile(path: plain + "/model.safetensors")).names.contains { $0.hasPrefix("pooler.") })
    }

    @Test func shortTrainingLowersHeldOutLoss() throws {
        let (trainer, corpus) = try makeTrainer(model, .full, epochs: 4, batch: 16, lr: 2e-3, genre: true)
        let users = (0..<corpus.split.userCount).map { corpus.builder.text(split: corpus.split, user: $0, stage: .valid, setting: .warm).text }
        let items = (0..<corpus.split.userCount).map { corpus.builder.itemTexts[Int(corpus.split.valid[$0].itemRow)] }
        let before = heldOutLoss(trainer.tuned.encoder, userTexts: users, itemTexts: items, batchSize: 16)
        _ = try trainer.run()
        let after = heldOutLoss(trainer.tuned.encoder, userTexts: users, itemTexts: items, batchSize: 16)
        #expect(after < before - 0.05, "held-out loss \(before) -> \(after)")
    }

    @Test func logAndCurveAreWritten() throws {
        let origin = Provenance(setting: "warm", corpus: "ml-tiny", method: "prompt")
        let (trainer, _) = try makeTrainer(model, SoftPromptTuning(length: 2, initText: nil), lr: 1e-2, validate: true) {
            $0.evalEvery = 2; $0.provenance = origin
        }
        let r = try trainer.run()
        // The checkpoint says which split it was trained on (evaluate --compare keeps warm runs off the cold rows).
        #expect(try Provenance.read(trainer.bestDir) == origin)
        // One epoch is exactly the planned number of steps (an epoch that never ended hung this suite once).
        #expect(r.steps == trainer.totalSteps && r.reason == "completed")
        let text = try String(contentsOfFile: trainer.log.path, encoding: .utf8)
        let rows = text.split(separator: "\n").compactMap { LogRow(json: String($0)) }
        #expect(rows.filter { if case .train = $0 { return true }; return false }.count == r.steps)
        #expect(rows.contains { if case .valid = $0 { return true }; return false })
        let svg = try String(contentsOfFile: trainer.config.outputDir + "/curve.svg", encoding: .utf8)
        #expect(svg.hasPrefix("<svg") && svg.contains("Recall@10") && svg.contains("polyline"))
    }
}

