// TunedSourceTests: a model path is told apart by its files, labelled, and a head's rows come out of the protocol loop.
import Foundation
import Testing
import RecAlignData
import RecAlignFormats
import RecAlignHeads
import RecAlignMetrics
import RecAlignModels
import RecAlignRetrieval
import RecAlignSources
import RecAlignTestSupport

@Suite("Model sources") struct TunedSourceTests {
    /// head_config.json makes a head, adapter_config.json an adapter, anything else a model folder; a folder
    /// holding both config files is a head (its adapter file would be a stray).
    @Test func aFolderIsToldApartByItsFiles() throws {
        let root = TestPaths.tempDir("sources")
        defer { try? FileManager.default.removeItem(atPath: root) }
        func folder(_ name: String, _ files: [String]) throws -> String {
            let dir = root + "/" + name
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            for f in files { try Data("{}".utf8).write(to: URL(fileURLWithPath: dir + "/" + f)) }
            return dir
        }
        let head = try folder("seq", ["head_config.json", "head.safetensors"])
        let adapter = try folder("lora", [AdapterFolder.config, AdapterFolder.peftWeights])
        let model = try folder("full", ["config.json"])
        let both = try folder("both", ["head_config.json", AdapterFolder.config])
        #expect(TunedSource(path: head) == .head(head))
        #expect(TunedSource(path: adapter) == .adapter(adapter))
        #expect(TunedSource(path: model) == .model(model))
        #expect(TunedSource(path: both) == .head(both))
        #expect(TunedSource(path: head).label == "head seq" && TunedSource(path: adapter).label == "adapter lora")
        #expect(TunedSource(path: model).label == "tuned full")
    }

    /// A run's `best/` checkpoint is named with its run folder so that rows of several runs tell apart.
    @Test func bestCheckpointsKeepTheirRunName() {
        #expect(TunedSource.shortName("runs/prompt/best") == "prompt/best")
        #expect(TunedSource.shortName("/tmp/x/runs/lora/best/") == "lora/best")
        #expect(TunedSource.shortName("runs/seq") == "seq")
        #expect(TunedSource.shortName("./runs/../runs/seq") == "seq")
    }

    /// A broken folder is refused by `check` before any work, naming the file.
    @Test func checkRefusesABrokenSourceUpFront() throws {
        let root = TestPaths.tempDir("broken")
        defer { try? FileManager.default.removeItem(atPath: root) }
        try Data("{\"adaptor\": 3}".utf8).write(to: URL(fileURLWithPath: root + "/head_config.json"))
        do {
            try TunedSource(path: root).check(base: TestPaths.modelDir, maxLength: nil)
            Issue.record("a broken head was accepted")
        } catch {
            #expect("\(error)".contains("head_config.json"), "\(error)")
        }
    }

    /// An identity linear adaptor under a mean-of-last-5 tower is the frozen "mean of last 5" user tower:
    /// the head's rows, computed by `headRows` (users, histories, targets and exclusions of each split and
    /// setting), equal the frozen evaluation's rows of that tower on ml-tiny.
    @Test(.enabled(if: TestPaths.hasModel)) func identityHeadRowsEqualTheFrozenMeanTower() throws {
        let corpus = try PreparedCorpus.load(path: TestPaths.corpusFixture("ml-tiny"))
        let towers = TextTowers(encoder: try SentenceEncoder(path: TestPaths.modelDir), corpus: corpus)
        var plan = EvaluationPlan()
        plan.stages = [.valid, .test]; plan.whitening = false; plan.baselines = false; plan.meanOfLast = 5
        let frozen = try TwoTowerEvaluation.run(towers: towers, plan: plan)
        let dir = TestPaths.tempDir("identity-head")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let head = RecHead(config: HeadConfig(adaptor: .linear, tower: .mean, inputDim: towers.encoder.dimension, maxHistory: 5, dropout: 0))
        try HeadFiles.save(head, to: dir)
        let rows = try headRows(dir, towers: towers, plan: plan, label: "head").rows
        #expect(rows.count == 4)
        for row in rows {
            let reference = try #require(frozen.rows.first { $0.method == "frozen (mean of last 5)" && $0.setting == row.setting && $0.split == row.split })
            #expect(row.metrics.users == reference.metrics.users)
            #expect(abs(row.metrics.recall10 - reference.metrics.recall10) < 1e-9 && abs(row.metrics.ndcg10 - reference.metrics.ndcg10) < 1e-6,
                    "\(row.setting) \(row.split): head \(row.metrics) vs frozen \(reference.metrics)")
        }
    }

    /// A head trained on another corpus (its provenance names it) is scored zero-shot: its ID table, sized for the
    /// other corpus's items, is left out and every item is scored from text, so an identity adaptor with random ID
    /// vectors still equals the frozen mean tower; the same head claiming this corpus is refused (the table's size
    /// does not match).
    @Test(.enabled(if: TestPaths.hasModel)) func aHeadFromAnotherCorpusIsScoredFromTextAlone() throws {
        let corpus = try PreparedCorpus.load(path: TestPaths.corpusFixture("ml-tiny"))
        let towers = TextTowers(encoder: try SentenceEncoder(path: TestPaths.modelDir), corpus: corpus)
        var plan = EvaluationPlan()
        plan.stages = [.test]; plan.settings = [.warm]; plan.whitening = false; plan.baselines = false; plan.meanOfLast = 5
        let frozen = try TwoTowerEvaluation.run(towers: towers, plan: plan)
        let dir = TestPaths.tempDir("transfer-head")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let head = RecHead(config: HeadConfig(adaptor: .linear, tower: .mean, inputDim: towers.encoder.dimension, maxHistory: 5,
                                              dropout: 0, itemInput: .textAndID, itemCount: corpus.itemCount + 7), seed: 3)
        try HeadFiles.save(head, to: dir)
        try Provenance(setting: "warm", corpus: "ml-other", method: "head mean").write(to: dir)
        #expect(try TunedSource.head(dir).transferredFrom(to: corpus.dataset.name) == "ml-other")
        let rows = try headRows(dir, towers: towers, plan: plan, label: "head").rows
        let reference = try #require(frozen.rows.first { $0.method == "frozen (mean of last 5)" })
        let row = try #require(rows.first)
        #expect(abs(row.metrics.recall10 - reference.metrics.recall10) < 1e-9 && abs(row.metrics.ndcg10 - reference.metrics.ndcg10) < 1e-6,
                "transferred head \(row.metrics) vs frozen \(reference.metrics)")
        try Provenance(setting: "warm", corpus: corpus.dataset.name, method: "head mean").write(to: dir)
        #expect(throws: HeadError.self) { try headRows(dir, towers: towers, plan: plan, label: "head") }
    }

    /// A head with a transition term scores the same through `headRows` (evaluate), `sourceVectors` (export's
    /// widened files, retrieve's term) and `HeadEvaluation` (train-head's test).
    @Test(.enabled(if: TestPaths.hasModel)) func aTransitionTermReachesEveryWayIn() throws {
        let corpus = try PreparedCorpus.load(path: TestPaths.corpusFixture("ml-tiny"))
        let towers = TextTowers(encoder: try SentenceEncoder(path: TestPaths.modelDir), corpus: corpus)
        var plan = EvaluationPlan()
        plan.stages = [.test]; plan.settings = [.warm]; plan.whitening = false; plan.baselines = false; plan.meanOfLast = 5
        var config = HeadConfig(adaptor: .linear, tower: .mean, inputDim: towers.encoder.dimension, maxHistory: 5, dropout: 0)
        config.transitionWeight = 0.2
        let head = RecHead(config: config)
        let dir = TestPaths.tempDir("transition-head")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try HeadFiles.save(head, to: dir)
        let row = try #require(try headRows(dir, towers: towers, plan: plan, label: "head").rows.first)
        let split = corpus.split
        let trained = try HeadEvaluation.evaluate(head, itemEmbeddings: towers.items().values, split: split, stage: .test, setting: .warm)
        let users = split.evaluatedUsers(.test, .warm)
        let v = try sourceVectors(.head(dir), base: towers, users: users, stage: .test, setting: .warm, maxLength: nil)
        #expect(v.dim == towers.encoder.dimension)
        let t = try #require(v.transitions)
        #expect(t.weight == 0.2)
        let hist = users.map { split.history(user: Int($0), stage: .test, setting: .warm) }
        #expect(v.histories == hist)
        let wide = t.prior.augment(users: v.users, items: v.items, dim: v.dim, histories: hist, weight: t.weight)
        #expect(wide.dim == towers.encoder.dimension + corpus.itemCount)
        let exported = MetricSummary(ranks: HeadEvaluation.ranks(itemVectors: wide.items, userVectors: wide.users, dim: wide.dim,
                                                                 users: users, split: split, stage: .test))
        let (targets, exclude) = corpus.targetsAndExclusions(users, .test)
        let termed = MetricSummary(ranks: try Evaluator.ranks(users: v.users, items: v.items, dim: v.dim, targets: targets,
                                                              exclude: exclude, term: v.term))
        for m in [row.metrics, exported, termed] {
            #expect(m.users == trained.users && abs(m.recall10 - trained.recall10) < 1e-9 && abs(m.ndcg10 - trained.ndcg10) < 1e-6,
                    "\(m.line) vs train-head's \(trained.line)")
        }
        // Retrieve's top-k with the term: the term's best item for a user is first when its weight dominates.
        let records = try CandidateExport.records(corpus: corpus, users: users, stage: .test, setting: .warm, userVectors: v.users,
                                                  itemVectors: v.items, dim: v.dim, k: 5,
                                                  term: t.prior.scoreTerm(histories: hist, weight: 1e6))
        var out = [Float](repeating: 0, count: corpus.itemCount), checked = 0
        for (q, r) in records.enumerated() {
            out.withUnsafeMutableBufferPointer { o in
                for i in 0..<o.count { o[i] = 0 }
                t.prior.scoreTerm(histories: hist, weight: 1)(q, o.baseAddress!)
            }
            let excluded = Set(exclude[q])
            let open = out.indices.filter { !excluded.contains(Int32($0)) }
            let top = open.map { out[$0] }.max()!
            let best = open.filter { out[$0] == top }
            if top > 0 && best.count == 1 {
                #expect(r.candidates.first?.itemId == split.itemIds[best[0]], "user \(r.userId)")
                checked += 1
            }
        }
        #expect(checked > 0)
    }
}
