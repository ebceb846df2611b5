// BertNormalizer: clean text, space out CJK, strip accents (NFD minus Mn), lowercase, on scalar buffers.

/// Options of the BERT normalizer, named as in `tokenizer.json`.
public struct BertNormalizerOptions: Sendable, Equatable {
    /// Remove control / format characters and map whitespace to U+0020.
    public var cleanText: Bool
    /// Surround CJK ideographs with spaces.
    public var handleChineseChars: Bool
    /// Strip accents; `nil` follows `lowercase` (the Hugging Face rule).
    public var stripAccents: Bool?
    /// Lowercase (Rust `char::to_lowercase`).
    public var lowercase: Bool

    /// BERT uncased defaults: everything on, accents follow lowercase.
    public init(cleanText: Bool = true, handleChineseChars: Bool = true, stripAccents: Bool? = nil,
                lowercase: Bool = true) {
        self.cleanText = cleanText
        self.handleChineseChars = handleChineseChars
        self.stripAccents = stripAccents
        self.lowercase = lowercase
    }

    /// Whether accents are actually stripped.
    public var effectiveStripAccents: Bool { stripAccents ?? lowercase }
}

/// Normalizes raw scalars exactly like the Rust `tokenizers` BertNormalizer.
struct BertNormalizer: Sendable {
    let options: BertNormalizerOptions
    private let clean: Bool
    private let chinese: Bool
    private let strip: Bool
    private let lower: Bool

    init(options: BertNormalizerOptions) {
        self.options = options
        clean = options.cleanText
        chinese = options.handleChineseChars
        strip = options.effectiveStripAccents
        lower = options.lowercase
    }

    /// Appends the normalized form of `raw[range]` to `out`, which must have room for
    /// `range.count * CharacterClasses.shared.maxExpansion` more scalars.
    func normalize(_ raw: UnsafeBufferPointer<UInt32>, _ range: Range<Int>, into out: inout ScalarWriter) {
        let classes = CharacterClasses.shared
        let outStart = out.count
        var needsReorder = false
        for i in range {
            var c = raw[i]
            if c < 0x80 {   // ASCII fast path (no decomposition, no marks)
                if clean {
                    if c == 0x09 || c == 0x0A || c == 0x0D { c = 0x20 }
                    else if c < 0x20 || c == 0x7F { continue }
                }
                if lower && c >= 0x41 && c <= 0x5A { c += 32 }
                out.append(c)
                continue
            }
            let f = classes.flags(c)
            if clean {
                if f.contains(.cleanRemoved) { continue }
                if f.contains(.cleanWhitespace) { out.append(0x20); continue }
            }
            if chinese && f.contains(.chinese) {
                out.append(0x20)
                appendStripped(c, f, classes, &out, &needsReorder)
                out.append(0x20)
            } else {
                appendStripped(c, f, classes, &out, &needsReorder)
            }
        }
        if needsReorder {
            out.count = outStart
            normalizeWithReordering(raw, range, into: &out)
        }
    }

    @inline(__always)
    private func appendStripped(_ c: UInt32, _ f: ScalarFlags, _ classes: CharacterClasses,
                                _ out: inout ScalarWriter, _ needsReorder: inout Bool) {
        guard strip else { appendLowered(c, f, classes, &out); return }
        if f.contains(.decomposes) {
            classes.forEachDecomposed(c) { p in
                let pf = classes.flags(p)
                if pf.contains(.nonspacingMark) { return }
                if pf.contains(.keptCombining) { needsReorder = true }
                appendLowered(p, pf, classes, &out)
            }
        } else {
            if f.contains(.nonspacingMark) { return }
            if f.contains(.keptCombining) { needsReorder = true }
            appendLowered(c, f, classes, &out)
        }
    }

    @inline(__always)
    private func appendLowered(_ c: UInt32, _ f: ScalarFlags, _ classes: CharacterClasses, _ out: inout ScalarWriter) {
        if lower && f.contains(.lowercases) { classes.appendLowercase(of: c, to: &out) } else { out.append(c) }
    }

    /// Slow, exact path used only when a kept combining mark appears under strip_accents: full NFD with
    /// canonical reordering over the whole segment, then Mn removal, then lowercasing.
    private func normalizeWithReordering(_ raw: UnsafeBufferPointer<UInt32>, _ range: Range<Int>,
                                         into out: inout ScalarWriter) {
        let classes = CharacterClasses.shared
        var decomposed: [UInt32] = []
        for i in range {
            let c = raw[i]
            let f = classes.flags(c)
            if clean {
                if f.contains(.cleanRemoved) { continue }
                if f.contains(.cleanWhitespace) { decomposed.append(0x20); continue }
            }
            let spaced = chinese && f.contains(.chinese)
            if spaced { decomposed.append(0x20) }
            if f.contains(.decomposes) { classes.forEachDecomposed(c) { decomposed.append($0) } } else { decomposed.append(c) }
            if spaced { decomposed.append(0x20) }
        }
        // Canonical ordering: stable sort of each run of non-starters by combining class.
        var i = 0
        while i < decomposed.count {
            guard classes.combiningClass(decomposed[i]) != 0 else { i += 1; continue }
            var j = i
            while j < decomposed.count && classes.combiningClass(decomposed[j]) != 0 { j += 1 }
            if j - i > 1 {
                let run = decomposed[i..<j].enumerated().sorted {
                    let a = classes.combiningClass($0.element), b = classes.combiningClass($1.element)
                    return a != b ? a < b : $0.offset < $1.offset
                }
                for (k, e) in run.enumerated() { decomposed[i + k] = e.element }
            }
            i = j
        }
        for c in decomposed {
            let f = classes.flags(c)
            if f.contains(.nonspacingMark) { continue }
            appendLowered(c, f, classes, &out)
        }
    }
}
