// RatingTask: LLM rating predictions per user (parsed, with the user-mean fallback) and their report table.
import Foundation
import RecAlignMetrics

/// What became of one generated answer.
public enum GenerationStatus: String, Codable, Sendable {
    /// An answer came back and was usable.
    case ok
    /// An answer came back but could not be used (no rating on the scale; an empty explanation).
    case parseFailure = "parse_failure"
    /// No answer (timeout, unreachable server, HTTP error, unusable body).
    case transportFailure = "transport_failure"
}

/// One user's rating question: the held-out interaction, its true rating, the prompt and the fallback.
public struct RatingCase: Sendable {
    public var userId: String
    public var itemId: String
    public var truth: Float
    /// Used when the answer is unusable: the user-mean prediction.
    public var fallback: Float
    public var messages: [ChatMessage]
    /// Other methods' predictions of the same rating, by name, in report order (global mean, user mean, MF).
    public var baselines: [(name: String, value: Float)]
    /// The titles the prompt shows (with and without year and genres): an answer echoing them is read without
    /// their digits (`RatingParser.parse(_:ignoring:)`).
    public var echoes: [String]

    public init(userId: String, itemId: String, truth: Float, fallback: Float, messages: [ChatMessage],
                baselines: [(name: String, value: Float)], echoes: [String] = []) {
        self.userId = userId; self.itemId = itemId; self.truth = truth; self.fallback = fallback
        self.messages = messages; self.baselines = baselines; self.echoes = echoes
    }
}

/// One line of the rating JSONL.
public struct RatingLine: Codable, Equatable, Sendable {
    public var userId: String
    public var itemId: String
    /// The true rating.
    public var rating: Float
    /// The LLM's rating, or the fallback when the answer was unusable.
    public var predicted: Float
    /// The rating read from the answer (nil: none).
    public var parsed: Float?
    public var answer: String?
    public var status: GenerationStatus
    public var error: String?
    public var baselines: [String: Float]
    enum CodingKeys: String, CodingKey {
        case userId = "user_id", itemId = "item_id", rating, predicted, parsed, answer, status, error, baselines
    }

    /// The line for a case and its answer: the parsed rating, else the case's fallback.
    public init(_ c: RatingCase, _ g: GeneratedText, parser: RatingParser) {
        userId = c.userId; itemId = c.itemId; rating = c.truth
        answer = g.text; error = g.error
        parsed = g.text.flatMap { parser.parse($0, ignoring: c.echoes) }
        predicted = parsed ?? c.fallback
        status = g.text == nil ? .transportFailure : (parsed == nil ? .parseFailure : .ok)
        baselines = Dictionary(uniqueKeysWithValues: c.baselines.map { ($0.name, $0.value) })
    }
}

/// RMSE / MAE of every method on the same interactions, the fallback counts and the LLM's answer spread.
public struct RatingReport: Codable, Equatable, Sendable {
    public struct Row: Codable, Equatable, Sendable {
        public var method: String
        public var errors: RatingErrors
    }
    /// Baselines in the given order, then the LLM (fallbacks included), then the LLM on its parsed answers
    /// only beside the user mean on those same interactions.
    public var rows: [Row]
    public var interactions: Int
    public var parsed: Int
    public var parseFailures: Int
    public var transportFailures: Int
    /// How often the LLM's parsed rating took each value ("4": 120, ...).
    public var answerCounts: [String: Int]
    /// What was run (model, shots, history, MF choice), one line each.
    public var setup: [String]
    /// The LLM row's name (nil: baselines only).
    public var llm: String?
    enum CodingKeys: String, CodingKey {
        case rows, llm, interactions, parsed, parseFailures = "parse_failures", transportFailures = "transport_failures",
             answerCounts = "answer_counts", setup
    }

    /// `lines` with baselines named `baselineNames` (each line must hold them); `llm` names the LLM row (nil:
    /// no LLM was asked, e.g. a dry run, and only the baselines are reported).
    public init(lines: [RatingLine], baselineNames: [String], llm: String?, setup: [String]) {
        let truth = lines.map(\.rating)
        rows = baselineNames.map { n in Row(method: n, errors: RatingErrors(predicted: lines.map { $0.baselines[n] ?? .nan }, truth: truth)) }
        interactions = lines.count
        let asked = llm == nil ? [] : lines
        parsed = asked.filter { $0.status == .ok }.count
        parseFailures = asked.filter { $0.status == .parseFailure }.count
        transportFailures = asked.filter { $0.status == .transportFailure }.count
        var counts: [String: Int] = [:]
        for l in asked { if let p = l.parsed { counts[RatingPrompt.format(p), default: 0] += 1 } }
        answerCounts = counts
        self.setup = setup
        self.llm = llm
        if let llm {
            rows.append(Row(method: "\(llm) (unusable answers -> user mean)", errors: RatingErrors(predicted: lines.map(\.predicted), truth: truth)))
            let ok = lines.filter { $0.status == .ok }
            rows.append(Row(method: "\(llm), parsed answers only", errors: RatingErrors(predicted: ok.map(\.predicted), truth: ok.map(\.rating))))
            if let um = baselineNames.first(where: { $0 == "user mean" }) {
                rows.append(Row(method: "user mean on those interactions",
                                errors: RatingErrors(predicted: ok.map { $0.baselines[um] ?? .nan }, truth: ok.map(\.rating))))
            }
        }
    }

    /// The printed report: setup lines, a Markdown table, the counts.
    public var table: String {
        var s = setup.map { $0 + "\n" }.joined()
        s += "\n| method | n | RMSE | MAE |\n| --- | ---: | ---: | ---: |\n"
        for r in rows {
            s += "| \(r.method) | \(r.errors.count) | " + String(format: "%.4f | %.4f |", r.errors.rmse, r.errors.mae) + "\n"
        }
        s += "\n\(interactions) interactions"
        if llm != nil {
            s += "; LLM answers parsed: \(parsed), unparseable: \(parseFailures), failed requests: \(transportFailures)"
                + " (both use the user mean)"
            let spread = answerCounts.keys.sorted { Float($0)! < Float($1)! }.map { "\($0): \(answerCounts[$0]!)" }
            if !spread.isEmpty { s += "\nparsed ratings: " + spread.joined(separator: ", ") }
        }
        return s + "\n"
    }
}
