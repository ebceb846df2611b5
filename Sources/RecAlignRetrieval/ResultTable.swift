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
    public init(method: String, setting: EvalSetting, split: EvalSplit, metrics: MetricSummary) {
        self.method = method; self.setting = setting; self.split = split; self.metrics = metrics
    }
}

/// A table of metric rows, in insertion order.
public struct ResultTable: Equatable, Sendable {
    public var rows: [ResultRow]
    public init(rows: [ResultRow] = []) { self.rows = rows }

    public mutating func append(method: String, setting: EvalSetting, split: EvalSplit, metrics: MetricSummary) {
        rows.append(ResultRow(method: method, setting: setting, split: split, metrics: metrics))
    }

    static let headers = ["method", "setting", "split", "users", "Recall@10", "NDCG@10", "MRR@10", "Recall@50"]

    /// GitHub Markdown: columns padded to a common width, text left-aligned, numbers right-aligned with
    /// 4 decimals.
    public func markdown() -> String {
        let cells: [[String]] = rows.map { r in
            [r.method, r.setting.rawValue, r.split.rawValue, String(r.metrics.users),
             f4(r.metrics.recall10), f4(r.metrics.ndcg10), f4(r.metrics.mrr10), f4(r.metrics.recall50)]
        }
        let widths = ResultTable.headers.indices.map { c in
            max(3, ([ResultTable.headers[c]] + cells.map { $0[c] }).map(\.count).max()!)
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
        return ([line(ResultTable.headers), rule] + cells.map(line)).joined(separator: "\n") + "\n"
    }

    /// JSON array, one object per row: method, setting, split, users and the protocol's metric names
    /// ("Recall@10", "NDCG@10", "MRR@10", "Recall@50"); keys sorted, pretty-printed.
    public func json() throws -> Data {
        struct Row: Encodable {
            let method: String, setting: String, split: String, users: Int
            let r10: Double, n10: Double, m10: Double, r50: Double
            enum CodingKeys: String, CodingKey {
                case method, setting, split, users
                case r10 = "Recall@10", n10 = "NDCG@10", m10 = "MRR@10", r50 = "Recall@50"
            }
        }
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return try enc.encode(rows.map {
            Row(method: $0.method, setting: $0.setting.rawValue, split: $0.split.rawValue, users: $0.metrics.users,
                r10: $0.metrics.recall10, n10: $0.metrics.ndcg10, m10: $0.metrics.mrr10, r50: $0.metrics.recall50)
        })
    }

    /// Writes `markdown()` to `path` atomically.
    public func writeMarkdown(to path: String) throws { try AtomicFile.write(markdown(), to: path) }
    /// Writes `json()` (plus a final newline) to `path` atomically.
    public func writeJSON(to path: String) throws {
        var d = try json(); d.append(0x0A)
        try AtomicFile.write(d, to: path)
    }
}

private func f4(_ x: Double) -> String { String(format: "%.4f", x) }
