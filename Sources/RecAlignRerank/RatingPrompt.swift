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
/// as "four" are not read). Small models echo the prompt, so some numbers are not read: the titles the prompt
/// showed (`ignoring`, removed from the text first: "Free Willy 3: The Rescue (1997) ... as 2" is 2), numbers
/// inside a closed double-quoted span that holds a letter (another title; a quoted "4" still counts), and a
/// list number followed by a quoted title (`1. "Heat"`, the history's format). An unquoted title the prompt
/// did not show can still lend its digits ("Toy Story 2 is a 4" is 2).
public struct RatingParser: Sendable {
    public let scale: ClosedRange<Float>
    public init(scale: ClosedRange<Float> = 1...5) { self.scale = scale }

    public func parse(_ text: String, ignoring echoes: [String] = []) -> Float? {
        var t = text
        for e in echoes.filter({ !$0.isEmpty }).sorted(by: { $0.count > $1.count }) { t = t.replacingOccurrences(of: e, with: " ") }
        for n in RatingParser.numbers(in: t) where scale.contains(n) { return n }
        return nil
    }

    /// Every unsigned decimal number in the text that is not part of a quoted title or a list marker, in order.
    static func numbers(in text: String) -> [Float] {
        var out: [Float] = []
        let chars = Array(text)
        let inTitle = quotedTitleMask(chars)
        var i = 0
        while i < chars.count {
            guard chars[i].isASCII, chars[i].isNumber else { i += 1; continue }
            var j = i
            while j < chars.count, chars[j].isASCII, chars[j].isNumber { j += 1 }
            if j + 1 < chars.count, chars[j] == ".", chars[j + 1].isASCII, chars[j + 1].isNumber {
                j += 1
                while j < chars.count, chars[j].isASCII, chars[j].isNumber { j += 1 }
            }
            let listMarker = j + 2 < chars.count && chars[j] == "." && chars[j + 1] == " " && "\"“".contains(chars[j + 2])
            if !inTitle[i], !listMarker, let v = Float(String(chars[i..<j])), v.isFinite { out.append(v) }
            i = j
        }
        return out
    }

    /// True at each character inside a closed double-quoted span ("..." or “...”) that contains a letter.
    static func quotedTitleMask(_ chars: [Character]) -> [Bool] {
        var mask = [Bool](repeating: false, count: chars.count)
        var open: Int? = nil
        for (k, c) in chars.enumerated() {
            if let o = open {
                if c == "\"" || c == "”" {
                    if chars[(o + 1)..<k].contains(where: \.isLetter) { for m in o...k { mask[m] = true } }
                    open = nil
                } else if c == "\n" { open = nil }
            } else if c == "\"" || c == "“" { open = k }
        }
        return mask
    }
}
