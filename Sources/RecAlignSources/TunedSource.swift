// TunedSource: what a model path named on the command line holds (model folder, adapter, head) and its vectors.
import Foundation
import RecAlignModels
import RecAlignRetrieval
import RecAlignHeads
import RecAlignData
import RecAlignMetrics
import RecAlignFormats

/// What a path given to `--compare` or `--tuned` holds: every command that reads a model takes these three the
/// same way, told apart by the files inside.
public enum TunedSource: Equatable, Sendable {
    case model(String)      // an HF / sentence-transformers folder (full or top-layer fine-tuning)
    case adapter(String)    // adapter_config.json + adapter.safetensors (prompt, prefix) or PEFT's adapter_model.safetensors (LoRA)
    case head(String)       // head.safetensors + head_config.json (adaptor, sequential tower)

    public init(path: String) {
        let fm = FileManager.default
        if fm.fileExists(atPath: (path as NSString).appendingPathComponent("head_config.json")) { self = .head(path) }
        else if fm.fileExists(atPath: (path as NSString).appendingPathComponent(AdapterFolder.config)) { self = .adapter(path) }
        else { self = .model(path) }
    }

    /// The row label in result tables.
    public var label: String {
        switch self {
        case let .model(p): return "tuned \(TunedSource.shortName(p))"
        case let .adapter(p): return "adapter \(TunedSource.shortName(p))"
        case let .head(p): return "head \(TunedSource.shortName(p))"
        }
    }

    /// The folder's name, with its parent's for a run's `best/` checkpoint (`runs/prompt/best` -> `prompt/best`),
    /// so that rows of several runs tell apart.
    public static func shortName(_ path: String) -> String {
        let url = URL(fileURLWithPath: path).standardizedFileURL
        let name = url.lastPathComponent
        guard name == "best" else { return name }
        return url.deletingLastPathComponent().lastPathComponent + "/" + name
    }

    /// An encoder for this source's text towers (nil for a head, which works on the base encoder's vectors).
    public func encoder(base: String, maxLength: Int?) throws -> SentenceEncoder? {
        switch self {
        case let .model(p): return try SentenceEncoder(path: p, maxLength: maxLength)
        case let .adapter(p):
            let e = try SentenceEncoder(path: base, maxLength: maxLength)
            try loadAdapter(p, into: e)
            return e
        case .head: return nil
        }
    }

    /// Loads the source once and drops it: throws what `encoder` / `loadHead` would, before any work is done.
    public func check(base: String, maxLength: Int?) throws {
        if case let .head(dir) = self {
            _ = try loadHead(dir)
            _ = try TunedSource.headEncoder(dir).map { try $0.encoder(base: base, maxLength: maxLength) }
        } else {
            _ = try encoder(base: base, maxLength: maxLength)
        }
    }

    /// The corpus the source was trained on when it is not `corpus` (its `recalign_training.json` names
    /// another): it is then evaluated zero-shot, a head's ID vectors unused. nil for a source without provenance.
    public func transferredFrom(to corpus: String) throws -> String? {
        let dir: String
        switch self { case let .model(p), let .adapter(p), let .head(p): dir = p }
        guard let p = try Provenance.read(dir), p.corpus != corpus else { return nil }
        return p.corpus
    }

    /// The encoder a head's item embeddings come from when it is not the base model: the `encoder/` folder a
    /// joint or stacked run saves beside the head (a model or adapter folder); nil when there is none.
    public static func headEncoder(_ dir: String) -> TunedSource? {
        let sub = (dir as NSString).appendingPathComponent(HeadFiles.encoderFolder)
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: sub, isDirectory: &isDir), isDir.boolValue else { return nil }
        return TunedSource(path: sub)
    }
}

/// The item embeddings a head reads: from its own `encoder/` when it has one, else the base towers' items.
public func headItemEmbeddings(_ dir: String, towers: TextTowers) throws -> [Float] {
    guard let source = TunedSource.headEncoder(dir),
          let encoder = try source.encoder(base: towers.encoder.folder.path, maxLength: towers.encoder.maxLength) else {
        return towers.items().values
    }
    return TextTowers(encoder: encoder, corpus: towers.corpus, userMaxLength: towers.userMaxLength,
                      batchSize: towers.batchSize).items().values
}

/// Rows of a head (adaptor / sequential tower) over the item embeddings of its encoder; with the plan's prior
/// weight also the head's scores plus the text popularity prior fitted on the head's item vectors (its rows
/// labelled with `EvaluationPlan.priorLabel`).
public func headRows(_ dir: String, towers: TextTowers, plan: EvaluationPlan, label: String) throws -> ResultTable {
    let head = try loadHead(dir)
    let corpus = towers.corpus
    let useIDs = try TunedSource.head(dir).transferredFrom(to: corpus.dataset.name) == nil
    let items = try headItemEmbeddings(dir, towers: towers)
    var table = ResultTable()
    for setting in plan.settings {
        var prior: TextPopularityPrior?
        let transitions = try head.transitions(train: corpus.split.trainSequences(setting), itemCount: corpus.itemCount, useIDs: useIDs)
        for stage in plan.stages {
            let users = corpus.split.evaluatedUsers(stage, setting)
            if users.isEmpty { continue }
            let hist = users.map { corpus.split.history(user: Int($0), stage: stage, setting: setting) }
            let v = try head.vectors(itemEmbeddings: items, itemCount: corpus.itemCount, histories: hist, useIDs: useIDs)
            let (targets, exclude) = corpus.targetsAndExclusions(users, stage)
            // The head's transition term (when it has one) is added to every row's scores, with or without the text prior.
            let term = transitions?.scoreTerm(histories: hist, weight: head.config.transitionWeight)
            let ranks = try Evaluator.ranks(users: v.users, items: v.items, dim: v.dim, targets: targets, exclude: exclude, term: term)
            table.append(method: label, setting: setting, split: stage, ranks: ranks)
            if let weight = plan.priorWeight {
                // The prior depends on the setting's train counts and the item vectors only: one fit per setting.
                if prior == nil { prior = try plan.priorTarget(corpus.split, setting)?.fit(items: v.items, dim: v.dim) }
                let a = try prior!.augment(users: v.users, items: v.items, weight: weight)
                let r = try Evaluator.ranks(users: a.users, items: a.items, dim: a.dim, targets: targets, exclude: exclude, term: term)
                table.append(method: label + plan.priorLabel, setting: setting, split: stage, ranks: r)
            }
        }
    }
    return table
}

/// Item and user vectors of a source for one split, and a head's transition term with its weight (nil for other
/// sources, a head without one, or a head trained on another corpus). The term is not in the vectors: retrieve adds
/// it to the scores (`term`), export widens its files with it (`TransitionPrior.augment`).
public struct SourceVectors {
    public var items: [Float]
    public var users: [Float]
    public var dim: Int
    public var transitions: (prior: TransitionPrior, weight: Float)?
    /// The users' visible histories (what the term reads).
    public var histories: [[Int32]]

    /// The transition term as an additive score term over the users, or nil.
    public var term: ScoreTerm? { transitions.map { $0.prior.scoreTerm(histories: histories, weight: $0.weight) } }
}

/// The vectors and transition term of `source` for `users` at one split and setting (export, retrieve).
public func sourceVectors(_ source: TunedSource?, base: TextTowers, users: [Int32], stage: EvalStage, setting: EvalSetting,
                          maxLength: Int?) throws -> SourceVectors {
    let corpus = base.corpus
    let hist = users.map { corpus.split.history(user: Int($0), stage: stage, setting: setting) }
    switch source {
    case let .head(dir)?:
        let head = try loadHead(dir)
        let useIDs = try TunedSource.head(dir).transferredFrom(to: corpus.dataset.name) == nil
        let items = try headItemEmbeddings(dir, towers: base)
        let v = try head.vectors(itemEmbeddings: items, itemCount: corpus.itemCount, histories: hist, useIDs: useIDs)
        let t = try head.weightedTransitions(train: corpus.split.trainSequences(setting), itemCount: corpus.itemCount, useIDs: useIDs)
        return SourceVectors(items: v.items, users: v.users, dim: v.dim, transitions: t, histories: hist)
    default:
        let items = base.items(), u = base.users(users, stage, setting)
        return SourceVectors(items: items.values, users: u.values, dim: items.dim, transitions: nil, histories: hist)
    }
}
