// ExportCommand: `recalign export` — item and user towers as .npy / .fvecs / .safetensors with ids, metadata and candidates.jsonl.
import ArgumentParser
import Foundation
import RecAlignData
import RecAlignFormats
import RecAlignModels
import RecAlignRetrieval
import RecAlignSources
import RecAlignMetrics
import RecAlignTensor

struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Export the item tower and a split's user tower so any other evaluator can score them.",
        discussion: "Writes items.<ext> + items.ids (one item id a line, row order), users.<ext> + users.ids, meta.json, and candidates.jsonl (top --candidates items per user, with texts, for a reranker).")

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var corpusOptions: CorpusOptions
    @Option(help: "warm or cold.") var setting: EvalSetting = .warm
    @Option(help: "valid or test: whose visible history builds the user texts.") var split: EvalStage = .test
    @Option(help: "Token budget of user texts.") var userMaxLength: Int = 128
    @Option(help: "npy, fvecs or safetensors.") var format: MatrixFormat = .npy
    @Flag(help: "Whiten both towers (fitted on the item tower).") var whiten = false
    @OptionGroup(title: "Text popularity prior (one more dimension: users the weight, items the prior, so inner products rank with it)")
    var priorOptions: PriorOptions
    @Option(help: "Candidates per user in candidates.jsonl (0 = none).") var candidates: Int = 50
    @Option(help: "Output folder.") var out: String
    @Option(help: "Export only part i of n of the users (0-based; no MPI): the user tower and candidates as parts with a manifest (part 0 also writes the items and meta.json); `recalign merge --output OUT/users.<ext>` joins them.")
    var shard: String?
    @Flag(help: "Under mpirun: each rank scores every user against its slice of the catalog and the top --candidates are merged (exact); default: each rank scores its share of the users.")
    var shardItems = false
    @Option(help: "A tuned model folder, adapter folder (RecAlign's or PEFT's) or head (adaptor / sequential tower) folder to apply.") var tuned: String?

    func validate() throws {
        try requireCount(userMaxLength, atLeast: 8, "--user-max-length")
        try requireCount(candidates, atLeast: 0, "--candidates")
        if whiten && priorOptions.prior { throw ValidationError("--whiten and --prior are separate variants: choose one") }
        if let shard { _ = try ShardPart.parse(shard) }
        if shard != nil && shardItems { throw ValidationError("--shard splits the users without MPI; --shard-items splits the catalog under mpirun: choose one") }
    }

    func run() throws {
        let corpus = try corpusOptions.load()
        let source = tuned.map { TunedSource(path: $0) }
        let encoder = modelOptions.prepared(try source?.encoder(base: modelOptions.model, maxLength: modelOptions.maxLength)
            ?? SentenceEncoder(path: modelOptions.model, maxLength: modelOptions.maxLength))
        let towers = TextTowers(encoder: encoder, corpus: corpus, userMaxLength: userMaxLength, batchSize: modelOptions.batchSize)
        let itemBar = ProgressBar("items", total: corpus.itemCount, unit: "texts")
        _ = towers.items { done, _ in itemBar.update(done) }
        var users = corpus.split.evaluatedUsers(split, setting)
        let part = try ShardPart(shard, total: users.count)
        if let part { users = Array(users[part.rows]) }
        let v = try sourceVectors(source, base: towers, users: users, stage: split, setting: setting, maxLength: modelOptions.maxLength)
        var items = v.items, userV = v.users, dim = v.dim
        if whiten {
            let w = try Whitening.fit(items, dim: dim)
            items = try w.apply(items); userV = try w.apply(userV); dim = w.outDim
        }
        var priorL2: Double?
        let priorTarget = priorOptions.target(split: corpus.split, setting: setting)
        if let priorTarget {
            let a = try priorTarget.apply(users: userV, items: items, dim: dim)
            items = a.items; userV = a.users; dim = a.dim; priorL2 = a.prior.l2
        }
        // A head's transition term: n more coordinates after the others (see TransitionPrior).
        let priorColumn = dim - 1
        let transitions = v.transitions
        if let t = transitions {
            let a = t.prior.augment(users: userV, items: items, dim: dim, histories: v.histories, weight: t.weight)
            items = a.items; userV = a.users; dim = a.dim
        }
        try requireFinite(items, dim: dim, what: "item vectors") { "item \(corpus.split.itemIds[$0])" }
        try requireFinite(userV, dim: dim, what: "user vectors") { "user \(corpus.split.userIds[Int(users[$0])])" }
        // Every rank takes part in the (user-sharded) top-k; rank 0 alone writes.
        let recs = candidates > 0
            ? try CandidateExport.records(corpus: corpus, users: users, stage: split, setting: setting,
                                          userVectors: userV, itemVectors: items, dim: dim, k: candidates, shardItems: shardItems)
            : nil
        guard Cluster.isRoot else { return }
        let ext = format.rawValue
        func path(_ name: String) -> String { (out as NSString).appendingPathComponent(name) }
        if let part {
            // The user tower and the candidates of this part, then the manifest (a part without one is unfinished).
            let paths = ShardManifest.partPaths(output: path("users.\(ext)"), shard: part.index, shards: part.count)
            try writeMatrix(userV, rows: users.count, dim: dim, format: format, to: paths.matrix)
            try IdsFile.write(users.map { corpus.split.userIds[Int($0)] }, to: paths.matrix + ".ids")
            var texts: [String: String] = [:]
            if let recs {
                let name = (ShardManifest.partPaths(output: "candidates.jsonl", shard: part.index, shards: part.count).matrix as NSString).lastPathComponent
                try AtomicFile.write(CandidatesFile.encode(recs), to: path(name))
                texts["candidates.jsonl"] = name
            }
            try ShardManifest(shard: part.index, shards: part.count, first: part.rows.lowerBound, rows: users.count,
                              totalRows: part.total, dim: dim, format: ext, matrix: (paths.matrix as NSString).lastPathComponent,
                              texts: texts, ids: "users.ids").write(to: paths.manifest)
            note("wrote part \(part.index) of \(part.count): users \(part.rows.lowerBound)..<\(part.rows.upperBound) of \(part.total) to \(paths.matrix)")
            // The item tower and meta.json are the same in every part: part 0 writes them.
            guard part.index == 0 else { return }
        } else {
            try writeMatrix(userV, rows: users.count, dim: dim, format: format, to: path("users.\(ext)"))
            try IdsFile.write(users.map { corpus.split.userIds[Int($0)] }, to: path("users.ids"))
        }
        try writeMatrix(items, rows: corpus.itemCount, dim: dim, format: format, to: path("items.\(ext)"))
        try IdsFile.write(corpus.split.itemIds, to: path("items.ids"))
        let meta: [String: Any] = [
            "model": modelOptions.model, "tuned": tuned ?? "", "pooling": encoder.folder.pooling.modes.map(\.rawValue),
            "normalize": encoder.folder.normalize, "precision": encoder.precision.rawValue, "max_length_items": encoder.maxLength, "max_length_users": userMaxLength,
            "whitening": whiten, "text_prior": priorL2.map { ["weight": priorTarget?.weight ?? 0, "recent": priorTarget?.recent ?? 0, "l2": $0, "column": priorColumn] as [String: Any] } ?? false,
            "transitions": transitions.map { ["weight": $0.weight, "last_items": $0.prior.lastItems, "decay": $0.prior.decay,
                                              "columns": [priorColumn + 1, dim]] as [String: Any] } ?? false,
            "corpus": corpusOptions.corpus, "setting": setting.rawValue, "split": split.rawValue,
            "items": corpus.itemCount, "users": part?.total ?? users.count, "dim": dim, "format": ext,
            "user_text": "most recent up-to-20 history items, oldest first, joined with ' ; ', oldest dropped to fit",
        ]
        try AtomicFile.write(JSONSerialization.data(withJSONObject: meta, options: [.prettyPrinted, .sortedKeys]), to: path("meta.json"))
        if let recs, part == nil { try AtomicFile.write(CandidatesFile.encode(recs), to: path("candidates.jsonl")) }
        if part != nil { return }
        note("wrote \(corpus.itemCount) item and \(users.count) user vectors (dim \(dim), \(ext)) to \(out)")
    }
}
