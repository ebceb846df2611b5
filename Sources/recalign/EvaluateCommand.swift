// EvaluateCommand: `recalign evaluate` — frozen text towers, whitening and baselines under the protocol, one table.
import ArgumentParser
import Foundation
import RecAlignData
import RecAlignFormats
import RecAlignModels
import RecAlignRetrieval
import RecAlignSources
import RecAlignTensor

struct Evaluate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Evaluate an encoder's text towers (and whitening, popularity, item-kNN) under the protocol.",
        discussion: "Prints a Markdown table (one row per method, setting and split) and writes it as results.md and results.json (protocol metric names) under --out.")

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var corpusOptions: CorpusOptions

    @Option(help: "Settings to evaluate: warm, cold (repeatable).") var setting: [EvalSetting] = [.warm, .cold]
    @Option(help: "Splits: valid, test (repeatable).") var split: [EvalStage] = [.test]
    @Option(help: "Token budget of user texts.") var userMaxLength: Int = 128
    @Option(help: "User tower from the mean of the last N history item vectors (0 = off).") var meanOfLast: Int = 5
    @Flag(help: "Skip the whitened towers.") var noWhitening = false
    @Option(help: "Keep this many whitened dimensions (default: all).") var whiteningDim: Int?
    @Flag(help: "Skip popularity and item-kNN.") var noBaselines = false
    @OptionGroup(title: "Text popularity prior (adds rows scored with it)") var priorOptions: PriorOptions
    @Option(help: "Folder for results.md / results.json.") var out: String = "runs/evaluate"
    @Option(help: "Also write the protocol's split files and user texts to this folder.") var writeSplit: String?
    @Option(parsing: .upToNextOption,
            help: "Tuned representations to add as rows: model folders, adapter folders (any `recalign train` adapter, or PEFT's) or head folders.")
    var compare: [String] = []
    @Option(help: "Row every other row is compared with (paired bootstrap over users); default: the first row of each setting and split.")
    var reference: String?
    @Option(help: "Bootstrap draws of the intervals (0: no intervals).") var bootstrapDraws: Int = 1000
    @Option(help: "Seed of the bootstrap draws.") var bootstrapSeed: UInt64 = 42

    func validate() throws {
        try requireCount(userMaxLength, atLeast: 8, "--user-max-length")
        try requireCount(meanOfLast, atLeast: 0, "--mean-of-last")
        if let d = whiteningDim { try requireCount(d, atLeast: 1, "--whitening-dim") }
        try requireCount(bootstrapDraws, atLeast: 0, "--bootstrap-draws")
        for path in compare {
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir), isDir.boolValue else {
                throw ValidationError("--compare: \(path) is not a folder")
            }
        }
    }

    func run() throws {
        let t0 = Date()
        // Every --compare source loads (and fits the base model) before the first encoder pass, not after it.
        for path in compare { try TunedSource(path: path).check(base: modelOptions.model, maxLength: modelOptions.maxLength) }
        let corpus = try corpusOptions.load()
        let encoder = modelOptions.prepared(try SentenceEncoder(path: modelOptions.model, maxLength: modelOptions.maxLength))
        let towers = TextTowers(encoder: encoder, corpus: corpus, userMaxLength: userMaxLength, batchSize: modelOptions.batchSize)
        if let dir = writeSplit, Cluster.isRoot {
            try SplitFiles.write(corpus.split, itemTexts: corpus.itemTexts, to: dir)
            for stage in EvalStage.allCases { _ = try towers.builder.writeUserTexts(split: corpus.split, stage: stage, setting: .warm, to: dir) }
            note("wrote split files and user texts to \(dir)")
        }
        var plan = EvaluationPlan()
        plan.stages = split; plan.settings = setting
        plan.meanOfLast = meanOfLast > 0 ? meanOfLast : nil
        plan.whitening = !noWhitening; plan.whiteningDim = whiteningDim; plan.baselines = !noBaselines
        plan.priorWeight = priorOptions.weight(); plan.priorRecent = priorOptions.priorRecent
        var table = try TwoTowerEvaluation.run(towers: towers, plan: plan, log: note)
        var tunedPlan = plan
        tunedPlan.whitening = false; tunedPlan.baselines = false; tunedPlan.meanOfLast = nil
        for path in compare {
            let source = TunedSource(path: path)
            var sourcePlan = tunedPlan
            var label = source.label
            if let other = try source.transferredFrom(to: corpus.dataset.name) {
                // Zero-shot transfer: trained on another corpus, so nothing of this one leaks; a head's ID vectors
                // index the other corpus's items and are left out.
                label += " (from \(other))"
                note("\(source.label): trained on \(other), evaluated zero-shot on \(corpus.dataset.name)")
            } else if try Provenance.read(path)?.setting == EvalSetting.warm.rawValue, sourcePlan.settings.contains(.cold) {
                // A run trained on the warm split has seen the cold items' interactions: no cold rows for it.
                sourcePlan.settings.removeAll { $0 == .cold }
                note("\(source.label): trained on the warm split, which holds the cold items' interactions; its cold rows are left out")
            }
            if sourcePlan.settings.isEmpty { continue }
            if case let .head(dir) = source {
                table.rows += try headRows(dir, towers: towers, plan: sourcePlan, label: label).rows
            } else if let enc = try source.encoder(base: modelOptions.model, maxLength: modelOptions.maxLength) {
                let t = TextTowers(encoder: modelOptions.prepared(enc), corpus: corpus, userMaxLength: userMaxLength, batchSize: modelOptions.batchSize)
                table.rows += try TwoTowerEvaluation.run(towers: t, plan: sourcePlan, label: label, log: note).rows
            }
        }
        table.comparison = RowComparison(reference: reference, draws: bootstrapDraws, seed: bootstrapSeed)
        try table.checkReference()
        // Every rank scored its share of the users; rank 0 alone writes.
        guard Cluster.isRoot else { return }
        let markdown = try table.markdown()
        try table.writeMarkdown(to: (out as NSString).appendingPathComponent("results.md"))
        try table.writeJSON(to: (out as NSString).appendingPathComponent("results.json"))
        let split = corpus.split
        try AtomicFile.write(table.ranksTSV { setting, stage in split.evaluatedUsers(stage, setting).map { split.userIds[Int($0)] } },
                             to: (out as NSString).appendingPathComponent("ranks.tsv"))
        print(markdown)
        note(String(format: "evaluate: %.1f s; wrote %@/results.md, results.json and ranks.tsv", Date().timeIntervalSince(t0), out))
    }
}
