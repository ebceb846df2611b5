// ResultTable: metric rows (method, setting, split) rendered as an aligned Markdown table and as JSON.
import Foundation
import RecAlignFormats
import RecAlignData
import RecAlignMetrics

/// Validation or test targets (the data layer's stage).
public typealias EvalSplit = EvalStage

/// One line of a results table.
public struct ResultRow: Equatable, Sendable {
    public var method: String
    public var setting: EvalSetting
    public var split: EvalSplit
    public var metrics: MetricSummary
    /// The target rank of every evaluated user, in the split's user order (what paired intervals resample).
    public var ranks: [Int]
    public init(method: String, setting: EvalSetting, split: EvalSplit, metrics: MetricSummary, ranks: [Int] = []) {
        self.method = method; self.setting = setting; self.split = split; self.metrics = metrics; self.ranks = ranks
    }
}

/// Paired bootstrap intervals of every row's difference to a reference row of the same setting and split.
public struct RowComparison: Equatable, Sendable {
    /// The reference row's method label; nil: the first row of each setting and split.
    public var reference: String?
    public var draws: Int = 1000
    public var seed: UInt64 = 42
    public init(reference: String? = nil, draws: Int = 1000, seed: UInt64 = 42) {
        self.reference = reference; self.draws = draws; self.seed = seed
    }
}

/// A table of metric rows, in insertion order.
public struct ResultTable: Equatable, Sendable {
    public var rows: [ResultRow]
    /// When set, `markdown()` and `json()` add each row's difference to the reference row with its interval.
    public var comparison: RowComparison?
    public init(rows: [ResultRow] = []) { self.rows = rows }

    public mutating func append(method: String, setting: EvalSetting, split: EvalSplit, metrics: MetricSummary) {
        rows.append(ResultRow(method: method, setting: setting, split: split, metrics: metrics))
    }

    /// Appends a row from its users' target ranks (kept for paired intervals).
    public mutating func append(method: String, setting: EvalSetting, split: EvalSplit, ranks: [Int]) {
        rows.append(ResultRow(method: method, setting: setting, split: split, metrics: MetricSummary(ranks: ranks), ranks: ranks))
    }

    /// The reference row of each row's setting and split under `comparison`; throws naming the labels when the
    /// reference matches no row there.
    func referenceRow(for row: ResultRow, _ c: RowComparison) throws -> ResultRow {
        let peers = rows.filter { $0.setting == row.setting && $0.split == row.split }
        guard let ref = c.reference.map({ r in peers.first { $0.method == r } }) ?? peers.first else {
            throw BootstrapError("--reference '\(c.reference ?? "")' is not a row of \(row.setting.rawValue) \(row.split.rawValue); rows: "
                                 + peers.map(\.method).joined(separator: "; "))
        }
        return ref
    }

    /// Each row's (ΔRecall@10, ΔNDCG@10) intervals against its reference (nil for the reference itself).
    public func intervals() throws -> [(recall10: BootstrapInterval, ndcg10: BootstrapInterval)?] {
        guard let c = comparison, c.draws > 0 else { return rows.map { _ in nil } }
        return try rows.map { row in
            let ref = try referenceRow(for: row, c)
            if ref == row { return nil }
            return (try PairedBootstrap.interval(row.ranks, ref.ranks, metric: .recall(10), draws: c.draws, seed: c.seed),
                    try PairedBootstrap.interval(row.ranks, ref.ranks, metric: .ndcg(10), draws: c.draws, seed: c.seed))
        }
    }

    /// Checks that the reference row exists for every setting and split (before anything is written).
    public func checkReference() throws {
        guard let c = comparison else { return }
        for row in rows { _ = try referenceRow(for: row, c) }
    }

    static let headers = ["method", "setting", "split", "users", "Recall@10", "NDCG@10", "MRR@10", "Recall@50"]

    /// GitHub Markdown: columns padded to a common width, text left-aligned, numbers right-aligned with
    /// 4 decimals.
    /// With `comparison`, two more columns: ΔRecall@10 and ΔNDCG@10 to the reference row with their 95%
    /// paired bootstrap intervals ("ref" on the reference row itself).
    public func markdown() throws -> String {
        let deltas = try intervals()
        let compared = comparison.map { $0.draws > 0 } ?? false
        let headers = ResultTable.headers + (compared ? ["ΔR@10 [95% CI]", "ΔNDCG@10 [95% CI]"] : [])
        let cells: [[String]] = zip(rows, deltas).map { r, d in
            [r.method, r.setting.rawValue, r.split.rawValue, String(r.metrics.users),
             f4(r.metrics.recall10), f4(r.metrics.ndcg10), f4(r.metrics.mrr10), f4(r.metrics.recall50)]
                + (compared ? (d.map { [$0.recall10.text, $0.ndcg10.text] } ?? ["ref", "ref"]) : [])
        }
        let widths = headers.indices.map { c in
            max(3, ([headers[c]] + cells.map { $0[c] }).map(\.count).max()!)
        }
        let numeric = { (c: Int) in c >= 3 }
        func line(_ v: [String]) -> String {
            "| " + v.enumerated().map { c, s in
                let pad = String(repeating: " ", count: widths[c] - s.count)
                return numeric(c) ? pad + s : s + pad
            }.joined(separator: " | ") + " |"
        }
        let rule = "|" + widths.indices.map { c in
            numeric(c) ? " " + String(repeating: "-", count: widths[c] - 1) + ": "
                       : " " + String(repeating: "-", count: widths[c]) + " "
        }.joined(separator: "|") + "|"
        return ([line(headers), rule] + cells.map(line)).joined(separator: "\n") + "\n"
    }

    /// JSON array, one object per row: method, setting, split, users and the protocol's metric names
    /// ("Recall@10", "NDCG@10", "MRR@10", "Recall@50"); with `comparison` also "reference" and, off the
    /// reference row, "ΔRecall@10" / "ΔNDCG@10" as [difference, low, high]. Keys sorted, pretty-printed.
    public func json() throws -> Data {
        struct Row: Encodable {
            let method: String, setting: String, split: String, users: Int
            let r10: Double, n10: Double, m10: Double, r50: Double
            let reference: String?, dr10: [Double]?, dn10: [Double]?
            enum CodingKeys: String, CodingKey {
                case method, setting, split, users, reference
                case r10 = "Recall@10", n10 = "NDCG@10", m10 = "MRR@10", r50 = "Recall@50"
                case dr10 = "ΔRecall@10", dn10 = "ΔNDCG@10"
            }
        }
        let deltas = try intervals()
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return try enc.encode(try zip(rows, deltas).map { r, d in
            let ref = try comparison.map { try referenceRow(for: r, $0).method }
            return Row(method: r.method, setting: r.setting.rawValue, split: r.split.rawValue, users: r.metrics.users,
                       r10: r.metrics.recall10, n10: r.metrics.ndcg10, m10: r.metrics.mrr10, r50: r.metrics.recall50,
                       reference: ref, dr10: d.map { [$0.recall10.observed, $0.recall10.low, $0.recall10.high] },
                       dn10: d.map { [$0.ndcg10.observed, $0.ndcg10.low, $0.ndcg10.high] })
        })
    }

    /// Every row's per-user ranks as TSV (method, setting, split, user_id, rank), for paired comparisons
    /// across runs (pandas: `read_csv(path, sep="\t")`). `userIds(setting, split)` gives the split's user order.
    public func ranksTSV(userIds: (EvalSetting, EvalSplit) -> [String]) -> String {
        var out = "method\tsetting\tsplit\tuser_id\trank\n"
        for r in rows {
            let ids = userIds(r.setting, r.split)
            for (u, rank) in zip(ids, r.ranks) { out += "\(r.method)\t\(r.setting.rawValue)\t\(r.split.rawValue)\t\(u)\t\(rank)\n" }
        }
        return out
    }

    /// Writes `markdown()` to `path` atomically.
    public func writeMarkdown(to path: String) throws { try AtomicFile.write(try markdown(), to: path) }
    /// Writes `json()` (plus a final newline) to `path` atomically.
    public func writeJSON(to path: String) throws {
        var d = try json(); d.append(0x0A)
        try AtomicFile.write(d, to: path)
    }
}

private func f4(_ x: Double) -> String { String(format: "%.4f", x) }
