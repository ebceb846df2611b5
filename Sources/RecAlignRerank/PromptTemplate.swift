// PromptTemplate: user-overridable prompt text with `{placeholder}` substitution, read from a sectioned file.
import Foundation
import RecAlignFormats

/// Errors of template files and template rendering.
public enum PromptTemplateError: Error, CustomStringConvertible, Equatable {
    case unreadable(path: String, reason: String)
    case unknownPlaceholder(source: String, line: Int, name: String)
    case emptyUserSection(source: String)

    public var description: String {
        switch self {
        case let .unreadable(path, reason): return "cannot read template \(path): \(reason)"
        case let .unknownPlaceholder(source, line, name):
            return "\(source):\(line): unknown placeholder {\(name)}; known: "
                + PromptTemplate.placeholders.joined(separator: ", ")
        case let .emptyUserSection(source): return "\(source): the [user] section is empty"
        }
    }
}

/// A prompt as three texts: an optional system message, the user message, and (few-shot only) the
/// block rendered once per demonstration.
///
/// Substitution is plain: each `{name}` whose name is a documented placeholder is replaced by its
/// value; anything else in braces that is not a lower-case word (e.g. `{"ids": [..]}`) is left as is.
/// A lower-case word in braces that is not a placeholder is an error (it is almost always a typo).
///
/// Placeholders of the system and user sections:
/// - `{user_id}`: the user's id
/// - `{profile}`: the record's `profile` fields as `key: value, ...` (sorted by key), or `unknown`
/// - `{history}`: the most recent history items, oldest first, one per line as `1. text`
/// - `{history_list}`: the same items as a JSON list of strings
/// - `{history_count}`: how many history items are shown
/// - `{last_item}`: the most recent history item's text (empty when there is no history)
/// - `{candidates}`: the K candidates in retriever order, one per line as `[id] text`
/// - `{candidate_ids}`: the K candidate ids, comma-separated
/// - `{k}`: number of candidates shown; `{n}`: number of items asked for
/// - `{candidate}`, `{candidate_id}`: the one candidate asked about (pointwise prompts only)
/// - `{demonstrations}`: the few-shot block (each rendered `[demo]` section, then a blank line); empty
///   for zero-shot prompts
///
/// Placeholders of the `[demo]` section (one other user each):
/// `{index}` (1-based), `{history}`, `{history_list}`, `{history_count}`, `{target}` (the item text the
/// user chose next), `{target_id}`.
///
/// File format: lines `[system]`, `[user]` and `[demo]` (alone on a line) start sections; a file with
/// no section line is the user section alone. Leading and trailing blank lines of a section are dropped.
public struct PromptTemplate: Equatable, Sendable {
    public var system: String
    public var user: String
    public var demo: String

    /// Every placeholder name a template may use.
    public static let placeholders = [
        "user_id", "profile", "history", "history_list", "history_count", "last_item", "candidates",
        "candidate_ids", "k", "n", "demonstrations", "index", "target", "target_id", "candidate", "candidate_id",
    ]

    public init(system: String, user: String, demo: String = "") {
        self.system = system; self.user = user; self.demo = demo
    }

    /// Parses the sectioned text format; `source` names the file in errors.
    public static func parse(_ text: String, source: String) throws -> PromptTemplate {
        var sections: [String: [String]] = [:]
        var current = "user"
        for (number, raw) in TextFile.lines(text).enumerated() {
            let line = String(raw)
            for name in placeholderNames(in: line) where !placeholders.contains(name) {
                throw PromptTemplateError.unknownPlaceholder(source: source, line: number + 1, name: name)
            }
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if ["[system]", "[user]", "[demo]"].contains(trimmed) {
                current = String(trimmed.dropFirst().dropLast())
                sections[current, default: []] = sections[current] ?? []
                continue
            }
            sections[current, default: []].append(line)
        }
        func joined(_ key: String) -> String {
            var lines = sections[key] ?? []
            while let f = lines.first, f.trimmingCharacters(in: .whitespaces).isEmpty { lines.removeFirst() }
            while let l = lines.last, l.trimmingCharacters(in: .whitespaces).isEmpty { lines.removeLast() }
            return lines.joined(separator: "\n")
        }
        let t = PromptTemplate(system: joined("system"), user: joined("user"), demo: joined("demo"))
        if t.user.isEmpty { throw PromptTemplateError.emptyUserSection(source: source) }
        return t
    }

    /// Reads a template file (see the type's documentation for the format).
    public static func read(path: String) throws -> PromptTemplate {
        let text: String
        do { text = try TextFile.read(path) } catch let e as FormatError {
            throw PromptTemplateError.unreadable(path: path, reason: e.detail)
        }
        return try parse(text, source: path)
    }

    /// Names `x` of every `{x}` in `text` where x is a lower-case word (letters, digits, `_`).
    static func placeholderNames(in text: String) -> [String] {
        var out: [String] = []
        scan(text, literal: { _ in }, placeholder: { name in out.append(name); return true })
        return out
    }

    static func isNameChar(_ c: Unicode.Scalar) -> Bool {
        (c >= "a" && c <= "z") || (c >= "0" && c <= "9") || c == "_"
    }

    /// Replaces each `{name}` present in `values`; other text is copied unchanged. Values are not re-scanned.
    public static func render(_ text: String, _ values: [String: String]) -> String {
        var out = String.UnicodeScalarView()
        scan(text, literal: { out.append($0) }, placeholder: { name in
            guard let v = values[name] else { return false }
            out.append(contentsOf: v.unicodeScalars)
            return true
        })
        return String(out)
    }

    /// The one placeholder scanner: calls `placeholder(name)` at each `{name}`; when it returns false the
    /// braces and name are passed to `literal` unchanged, like every other scalar.
    private static func scan(_ text: String, literal: (Unicode.Scalar) -> Void, placeholder: (String) -> Bool) {
        let chars = Array(text.unicodeScalars)
        var i = 0
        while i < chars.count {
            if chars[i] == "{" {
                var j = i + 1
                while j < chars.count, isNameChar(chars[j]) { j += 1 }
                if j < chars.count, chars[j] == "}", j > i + 1,
                   placeholder(String(String.UnicodeScalarView(chars[(i + 1)..<j]))) {
                    i = j + 1
                    continue
                }
            }
            literal(chars[i])
            i += 1
        }
    }
}
