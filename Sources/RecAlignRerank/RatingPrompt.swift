// RatingPrompt: Liu et al.'s rating-prediction prompt (zero- and few-shot) and the parser of its answer.
import Foundation

/// One rated item as shown in a prompt.
public struct RatedTitle: Sendable, Equatable {
    public var title: String
    public var rating: Float
    public init(title: String, rating: Float) { self.title = title; self.rating = rating }
}

/// Builds the chat messages asking for one user's rating of one item (Liu et al., "Is ChatGPT a Good
/// Recommender?", rating prediction): the task and scale, the user's recent rated history (titles with
/// ratings, oldest first), then in the few-shot form k earlier ratings of the SAME user as question-answer
/// turns, then the question about the target.
public struct RatingPrompt: Sendable {
    /// The rating scale (ml-100k: 1...5), said in the prompt and enforced by the parser.
    public let scale: ClosedRange<Float>

    public init(scale: ClosedRange<Float> = 1...5) { self.scale = scale }

    var low: String { RatingPrompt.format(scale.lowerBound) }
    var high: String { RatingPrompt.format(scale.upperBound) }

    /// "4" for 4, "3.5" for 3.5.
    public static func format(_ r: Float) -> String { r == r.rounded() ? String(Int(r)) : String(r) }

    /// The question about one item, the same in the demonstrations and for the target.
    public func question(_ item: String) -> String {
        "How will the user rate the movie \"\(item)\"? (\(low) being lowest and \(high) being highest) "
            + "Just give back the rating as a single number, without any explanation."
    }

    /// - Parameters:
    ///   - history: the most recent rated items shown (oldest first); empty for the pure zero-shot question.
    ///   - demonstrations: few-shot examples (the same user's earlier ratings), each a user/assistant turn pair.
    ///   - target: the item asked about, described as in the history ("Title (year) (genres)").
    public func messages(history: [RatedTitle], demonstrations: [RatedTitle], target: String) -> [ChatMessage] {
        var system = "You are a movie recommender system that predicts how a user rates movies on a scale from "
            + "\(low) (lowest) to \(high) (highest). Answer with the number only."
        if !history.isEmpty {
            system += "\n\nHere is the user's rating history (oldest first):\n"
                + history.enumerated().map { "\($0.offset + 1). \"\($0.element.title)\": \(RatingPrompt.format($0.element.rating))" }
                    .joined(separator: "\n")
        }
        var out = [ChatMessage(role: "system", content: system)]
        for d in demonstrations {
            out.append(ChatMessage(role: "user", content: question(d.title)))
            out.append(ChatMessage(role: "assistant", content: RatingPrompt.format(d.rating)))
        }
        out.append(ChatMessage(role: "user", content: question(target)))
        return out
    }
}

/// Reads a rating from free text: the first number in the text that lies on the scale. "I'd say 4 out of
/// 5" -> 4; "Rating: 3.5 stars" -> 3.5; "Toy Story (1995) gets a 4" -> 4 (1995 is off the scale and skipped);
/// "10/10" -> nil. A number is ASCII digits with an optional ".digits" part ("4." is 4, "4,5" is 4; words such
/// as "four" are not read). A title's own digits ("Toy Story 2") can be taken for the rating: the prompt asks
/// for the number alone.
public struct RatingParser: Sendable {
    public let scale: ClosedRange<Float>
    public init(scale: ClosedRange<Float> = 1...5) { self.scale = scale }

    public func parse(_ text: String) -> Float? {
        for n in RatingParser.numbers(in: text) where scale.contains(n) { return n }
        return nil
    }

    /// Every unsigned decimal number in the text, in order.
    static func numbers(in text: String) -> [Float] {
        var out: [Float] = []
        let chars = Array(text)
        var i = 0
        while i < chars.count {
            guard chars[i].isASCII, chars[i].isNumber else { i += 1; continue }
            var j = i
            while j < chars.count, chars[j].isASCII, chars[j].isNumber { j += 1 }
            if j + 1 < chars.count, chars[j] == ".", chars[j + 1].isASCII, chars[j + 1].isNumber {
                j += 1
                while j < chars.count, chars[j].isASCII, chars[j].isNumber { j += 1 }
            }
            if let v = Float(String(chars[i..<j])), v.isFinite { out.append(v) }
            i = j
        }
        return out
    }
}
