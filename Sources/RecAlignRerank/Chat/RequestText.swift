// RequestText: the genres a chat request declines ("no horror", "not in the mood for westerns") and what is left.
import Foundation

/// A dense encoder reads "not in the mood for horror" as close to horror; declined genres are therefore taken
/// out of the text and become an exclusion instead. A genre is declined when one of its written forms
/// (`ExplanationCheck.genreForms`) follows a negation (no, not, without, hate, avoid, except, nothing, don't)
/// within six words, with no "but" between; the words from the negation to the genre are removed.
public enum RequestText {
    static let negations: Set<String> = ["no", "not", "without", "hate", "avoid", "except", "nothing", "dont", "don't",
                                         "never", "none", "less"]

    /// The catalog genres (as in `genres`) declined by `text`, and the text without the declining clauses.
    public static func declinedGenres(_ text: String, genres: Set<String>) -> (declined: [String], rest: String) {
        let words = text.split(separator: " ").map(String.init)
        let bare = words.map { $0.lowercased().trimmingCharacters(in: CharacterSet.letters.union(CharacterSet(charactersIn: "'-")).inverted) }
        // Written form -> catalog genre, for the genres this catalog has.
        var forms: [String: String] = [:]
        for g in genres {
            forms[g.lowercased()] = g
            for f in ExplanationCheck.genreForms[g.lowercased()] ?? [] where !f.contains(" ") { forms[f] = g }
        }
        var declined: [String] = []
        var drop = Set<Int>()
        var i = 0
        while i < words.count {
            guard negations.contains(bare[i]) else { i += 1; continue }
            var j = i + 1
            var hit: Int? = nil
            while j < words.count && j <= i + 6 && bare[j] != "but" {
                if let g = forms[bare[j]] {
                    if !declined.contains(g) { declined.append(g) }
                    hit = j
                }
                if words[j].hasSuffix(",") || words[j].hasSuffix(".") { break }
                j += 1
            }
            if let h = hit { for k in i...h { drop.insert(k) }; i = h + 1 } else { i += 1 }
        }
        let rest = words.enumerated().filter { !drop.contains($0.offset) }.map(\.element).joined(separator: " ")
        return (declined, rest.trimmingCharacters(in: CharacterSet(charactersIn: " ,.;:!?-")))
    }
}
