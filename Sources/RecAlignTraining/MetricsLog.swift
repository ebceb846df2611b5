// MetricsLog: the run's JSONL log (train rows and validation rows), rewritten atomically, readable on resume.
import Foundation
import RecAlignFormats
import RecAlignRetrieval
import RecAlignMetrics

/// One log row: a training step or a validation.
public enum LogRow: Equatable, Sendable {
    case train(step: Int, epoch: Int, loss: Double, lr: Double, examplesPerSecond: Double)
    case valid(step: Int, metrics: MetricSummary)

    public var step: Int { switch self { case let .train(s, _, _, _, _): return s; case let .valid(s, _): return s } }

    /// One JSON object on one line.
    public var json: String {
        switch self {
        case let .train(s, e, loss, lr, eps):
            return String(format: "{\"kind\":\"train\",\"step\":%d,\"epoch\":%d,\"loss\":%.6g,\"lr\":%.6g,\"examples_per_s\":%.4g}", s, e, loss, lr, eps)
        case let .valid(s, m):
            return String(format: "{\"kind\":\"valid\",\"step\":%d,\"users\":%d,\"Recall@10\":%.6f,\"NDCG@10\":%.6f,\"MRR@10\":%.6f,\"Recall@50\":%.6f}",
                          s, m.users, m.recall10, m.ndcg10, m.mrr10, m.recall50)
        }
    }

    /// Parses a line written by `json`; nil for anything else.
    public init?(json line: String) {
        guard let obj = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any],
              let kind = obj["kind"] as? String, let step = obj["step"] as? Int else { return nil }
        func d(_ k: String) -> Double { (obj[k] as? NSNumber)?.doubleValue ?? .nan }
        if kind == "train" {
            self = .train(step: step, epoch: obj["epoch"] as? Int ?? 0, loss: d("loss"), lr: d("lr"), examplesPerSecond: d("examples_per_s"))
        } else if kind == "valid" {
            var m = MetricSummary(ranks: [])
            m.users = obj["users"] as? Int ?? 0
            m.recall10 = d("Recall@10"); m.ndcg10 = d("NDCG@10"); m.mrr10 = d("MRR@10"); m.recall50 = d("Recall@50")
            self = .valid(step: step, metrics: m)
        } else { return nil }
    }
}

/// The rows of a run, kept in memory and flushed to `path` as JSONL (atomic rewrite).
public final class MetricsLog {
    public let path: String
    public private(set) var rows: [LogRow] = []

    public init(path: String) { self.path = path }

    /// Reads an existing log, keeping rows up to `step` (the resumed state's step).
    public func load(upTo step: Int) {
        guard let text = try? TextFile.read(path) else { return }
        rows = TextFile.lines(text).compactMap { LogRow(json: String($0)) }.filter { $0.step <= step }
    }

    public func append(_ row: LogRow) { rows.append(row) }

    public func flush() throws { try AtomicFile.write(rows.map(\.json).joined(separator: "\n") + "\n", to: path) }
}
