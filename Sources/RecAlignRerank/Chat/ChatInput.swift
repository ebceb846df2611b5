// ChatInput: what one line typed in `recalign chat` asks for (a request, more, a reject, why, help, quit).
import Foundation

/// One line of the conversation, read as Chat-REC's user turns: a free-text request ("like Heat, but
/// lighter"), "more" (the next items for the same request), a reject ("no 2", "not Heat": excluded from then
/// on), "why 2" (an explanation of a shown item), "help", or "quit". Anything not recognised is a request.
public enum ChatInput: Equatable, Sendable {
    /// Which shown item a reject or a why means: its number in the last list, or words naming a title.
    public enum Target: Equatable, Sendable {
        case position(Int)
        case text(String)
    }

    case request(String)
    case more
    /// `targets` empty: every item of the last list ("no", "none of these"). `said`: the whole line, read as a
    /// request when the targets name no title ("not in the mood for horror").
    case reject([Target], said: String)
    /// nil: the first item of the last list.
    case why(Target?)
    case help
    case quit

    static let quitWords: Set<String> = ["quit", "exit", "bye", "q", ":q", "/quit", "/exit"]
    static let helpWords: Set<String> = ["help", "?", "/help", "h"]
    static let moreWords: Set<String> = ["more", "next", "others", "other", "something else", "anything else",
                                         "show more", "more please", "other ones", "different ones"]
    static let rejectAll: Set<String> = ["no", "none", "nope", "none of these", "none of them", "no thanks", "not these"]
    /// Leading words of a reject, longest first.
    static let rejectPrefixes = ["i've already seen", "i have seen", "already seen", "i've seen", "reject", "remove",
                                 "skip", "drop", "not", "no", "seen"]

    /// The input a line asks for; nil for a blank line.
    public static func parse(_ line: String) -> ChatInput? {
        let text = line.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !text.isEmpty else { return nil }
        let lower = text.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: ".!?").union(.whitespaces))
        if quitWords.contains(lower) { return .quit }
        if helpWords.contains(lower) || text == "?" { return .help }
        if moreWords.contains(lower) { return .more }
        if rejectAll.contains(lower) { return .reject([], said: text) }
        if lower == "why" || lower.hasPrefix("why ") {
            let rest = String(text.dropFirst(3))
            return .why(target(rest))
        }
        for p in rejectPrefixes where lower.hasPrefix(p + " ") || lower.hasPrefix(p + ",") {
            let rest = String(text.dropFirst(p.count))
            if let numbers = positions(rest) { return .reject(numbers.map(Target.position), said: text) }
            guard let t = target(rest) else { return .reject([], said: text) }
            return .reject([t], said: text)
        }
        return .request(text)
    }

    /// "2", "#2", "number 2", "2?" -> position 2; other words -> text; nothing -> nil.
    static func target(_ s: String) -> Target? {
        if let p = positions(s), p.count == 1 { return .position(p[0]) }
        let t = s.trimmingCharacters(in: CharacterSet(charactersIn: " ,:;.!?\"'").union(.whitespaces))
        let words = t.split(separator: " ")
        let skip: Set<String> = ["not", "is", "would", "should", "do", "does", "i", "like", "the", "about", "for", "me", "it"]
        // "why would I like Heat" -> "Heat"; the words kept are the title's.
        let kept = words.drop { skip.contains($0.lowercased()) }
        let rest = kept.joined(separator: " ")
        return rest.isEmpty ? nil : .text(rest)
    }

    /// "2", "2 and 3", "2, 3", "#1 #4", "number 2" -> [2, 3]...; nil unless every word is a number or a joiner.
    static func positions(_ s: String) -> [Int]? {
        let joiners: Set<String> = ["and", "or", "number", "no", "no.", "nr", "item", "items", "&"]
        var out: [Int] = []
        for w in s.lowercased().split(whereSeparator: { " ,;.!?#".contains($0) }) {
            if let n = Int(w), n > 0 { out.append(n) } else if !joiners.contains(String(w)) { return nil }
        }
        return out.isEmpty ? nil : out
    }
}
