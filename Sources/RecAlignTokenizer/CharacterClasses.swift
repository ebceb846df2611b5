// Fast per-scalar lookup of the Unicode classes and maps the BERT normalizer and pre-tokenizer need.

/// Bit flags describing how the BERT pipeline treats one Unicode scalar.
struct ScalarFlags: OptionSet, Sendable {
    let rawValue: UInt16
    /// Dropped by clean_text (NUL, U+FFFD, control / format / private-use).
    static let cleanRemoved = ScalarFlags(rawValue: 1 << 0)
    /// Becomes U+0020 under clean_text.
    static let cleanWhitespace = ScalarFlags(rawValue: 1 << 1)
    /// CJK ideograph: surrounded by spaces under handle_chinese_chars.
    static let chinese = ScalarFlags(rawValue: 1 << 2)
    /// The pre-tokenizer splits on it and drops it.
    static let splitWhitespace = ScalarFlags(rawValue: 1 << 3)
    /// The pre-tokenizer isolates it as its own word.
    static let punctuation = ScalarFlags(rawValue: 1 << 4)
    /// Nonspacing mark (Mn): dropped by strip_accents.
    static let nonspacingMark = ScalarFlags(rawValue: 1 << 5)
    /// Has a canonical decomposition (NFD differs from the scalar).
    static let decomposes = ScalarFlags(rawValue: 1 << 6)
    /// Lowercasing changes it.
    static let lowercases = ScalarFlags(rawValue: 1 << 7)
    /// Non-zero combining class but not Mn: survives strip_accents and may be reordered by NFD.
    static let keptCombining = ScalarFlags(rawValue: 1 << 8)
}

/// Two-stage flag table over all code points plus decomposition / lowercase / combining-class maps,
/// parsed once from `UnicodeTables` (generated from the Rust `tokenizers` library itself).
/// Hot tables live in raw buffers owned by the (never released) shared instance: no ARC on lookups.
final class CharacterClasses: @unchecked Sendable {
    static let shared = CharacterClasses()

    private let blockIndex: UnsafeMutableBufferPointer<UInt16>  // code point >> 8 -> block number
    private let blocks: UnsafeMutableBufferPointer<UInt16>      // block * 256 + (code point & 255) -> flags
    private let decomposition: ScalarMap
    private let lower: ScalarMap
    private let pool: UnsafeMutableBufferPointer<UInt32>
    private let cccRanges: [(lo: UInt32, hi: UInt32, value: UInt8)]
    /// Upper bound on normalized scalars produced per input scalar.
    let maxExpansion: Int

    private init() {
        var full = [UInt16](repeating: 0, count: 0x110000)
        func mark(_ spec: String, _ flag: ScalarFlags) {
            for (lo, hi) in CharacterClasses.parseRanges(spec) {
                for c in Int(lo)...Int(hi) { full[c] |= flag.rawValue }
            }
        }
        mark(UnicodeTables.cleanRemoved, .cleanRemoved)
        mark(UnicodeTables.cleanWhitespace, .cleanWhitespace)
        mark(UnicodeTables.splitWhitespace, .splitWhitespace)
        mark(UnicodeTables.punctuation, .punctuation)
        mark(UnicodeTables.nonspacingMarks, .nonspacingMark)
        for (lo, hi) in CharacterClasses.cjkRanges {
            for c in Int(lo)...Int(hi) { full[c] |= ScalarFlags.chinese.rawValue }
        }
        for c in 0xAC00...0xD7A3 { full[c] |= ScalarFlags.decomposes.rawValue }   // Hangul syllables

        var pool: [UInt32] = []
        var longest = [3, 1]   // Hangul syllables decompose to up to 3 jamo
        func parseMap(_ spec: String, _ flag: ScalarFlags, _ which: Int) -> ScalarMap {
            var entries: [(UInt32, Int32, Int32)] = []
            for entry in spec.split(separator: ",") {
                let parts = entry.split(separator: ":")
                guard parts.count == 2, let cp = UInt32(parts[0], radix: 16), cp < 0x110000 else { continue }
                let outs = parts[1].split(separator: " ").compactMap { UInt32($0, radix: 16) }
                entries.append((cp, Int32(pool.count), Int32(outs.count)))
                pool.append(contentsOf: outs)
                longest[which] = max(longest[which], outs.count)
                full[Int(cp)] |= flag.rawValue
            }
            return ScalarMap(entries)
        }
        decomposition = parseMap(UnicodeTables.decompositions, .decomposes, 0)
        lower = parseMap(UnicodeTables.lowercase, .lowercases, 1)
        self.pool = UnsafeMutableBufferPointer.allocate(capacity: max(pool.count, 1))
        _ = self.pool.initialize(from: pool)
        maxExpansion = 2 + longest[0] * longest[1]

        var ccc: [(lo: UInt32, hi: UInt32, value: UInt8)] = []
        for entry in UnicodeTables.combiningClasses.split(separator: ",") {
            let parts = entry.split(separator: ":")
            guard parts.count == 2, let value = UInt8(parts[1]),
                  let (lo, hi) = CharacterClasses.parseRange(parts[0]) else { continue }
            ccc.append((lo, hi, value))
            for c in Int(lo)...Int(hi) where full[c] & ScalarFlags.nonspacingMark.rawValue == 0 {
                full[c] |= ScalarFlags.keptCombining.rawValue
            }
        }
        cccRanges = ccc

        // Compress into 256-entry blocks: uniform blocks are shared per value, mixed blocks stored as-is.
        var index = [UInt16](repeating: 0, count: 0x110000 >> 8)
        var blocks: [UInt16] = []
        var uniform: [UInt16: UInt16] = [:]
        full.withUnsafeBufferPointer { f in
            for b in 0..<(0x110000 >> 8) {
                let first = f[b << 8]
                var same = true
                for k in (b << 8)..<((b + 1) << 8) where f[k] != first { same = false; break }
                if same, let existing = uniform[first] {
                    index[b] = existing
                    continue
                }
                let n = UInt16(blocks.count >> 8)
                if same { uniform[first] = n }
                index[b] = n
                blocks.append(contentsOf: f[(b << 8)..<((b + 1) << 8)])
            }
        }
        blockIndex = UnsafeMutableBufferPointer.allocate(capacity: index.count)
        _ = blockIndex.initialize(from: index)
        self.blocks = UnsafeMutableBufferPointer.allocate(capacity: blocks.count)
        _ = self.blocks.initialize(from: blocks)
    }

    deinit {
        blockIndex.deallocate()
        blocks.deallocate()
        pool.deallocate()
    }

    /// The CJK ideograph ranges BertNormalizer surrounds with spaces (as in the Rust `tokenizers` crate).
    static let cjkRanges: [(UInt32, UInt32)] = [
        (0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0x20000, 0x2A6DF), (0x2A700, 0x2B73F),
        (0x2B740, 0x2B81F), (0x2B920, 0x2CEAF), (0xF900, 0xFAFF), (0x2F800, 0x2FA1F),
    ]

    /// Flags of a scalar value (values above U+10FFFF get no flags).
    @inline(__always)
    func flags(_ c: UInt32) -> ScalarFlags {
        guard c < 0x110000 else { return [] }
        return ScalarFlags(rawValue: blocks[Int(blockIndex[Int(c >> 8)]) << 8 | Int(c & 0xFF)])
    }

    /// Calls `body` on each scalar of the canonical decomposition (NFD) of `c`, in order; for a scalar
    /// without `.decomposes` that is `c` itself.
    @inline(__always)
    func forEachDecomposed(_ c: UInt32, _ body: (UInt32) -> Void) {
        if c >= 0xAC00 && c <= 0xD7A3 {
            let s = c - 0xAC00
            body(0x1100 + s / 588)
            body(0x1161 + (s % 588) / 28)
            if s % 28 != 0 { body(0x11A7 + s % 28) }
            return
        }
        guard let (start, count) = decomposition.lookup(c) else { body(c); return }
        for k in Int(start)..<Int(start + count) { body(pool[k]) }
    }

    /// Appends the lowercase form of `c` (Rust `char::to_lowercase`, possibly several scalars).
    @inline(__always)
    func appendLowercase(of c: UInt32, to out: inout ScalarWriter) {
        if c >= 0x41 && c <= 0x5A { out.append(c + 32); return }
        guard let (start, count) = lower.lookup(c) else { out.append(c); return }
        for k in Int(start)..<Int(start + count) { out.append(pool[k]) }
    }

    /// Canonical combining class of `c` (0 for starters).
    func combiningClass(_ c: UInt32) -> UInt8 {
        var lo = 0, hi = cccRanges.count - 1
        while lo <= hi {
            let mid = (lo + hi) >> 1
            let r = cccRanges[mid]
            if c < r.lo { hi = mid - 1 } else if c > r.hi { lo = mid + 1 } else { return r.value }
        }
        return 0
    }

    private static func parseRange<S: StringProtocol>(_ s: S) -> (UInt32, UInt32)? {
        let ends = s.split(separator: "-")
        guard let lo = ends.first.flatMap({ UInt32($0, radix: 16) }) else { return nil }
        let hi = ends.count > 1 ? UInt32(ends[1], radix: 16) ?? lo : lo
        return (lo, min(hi, 0x10FFFF))
    }

    private static func parseRanges(_ spec: String) -> [(UInt32, UInt32)] {
        spec.split(separator: ",").compactMap { parseRange($0) }
    }
}

/// Open-addressing map from a scalar to a (start, count) slice of the shared pool; raw storage, no ARC.
final class ScalarMap: @unchecked Sendable {
    private let keys: UnsafeMutableBufferPointer<UInt32>     // UInt32.max = empty
    private let values: UnsafeMutableBufferPointer<UInt64>   // start << 32 | count
    private let shift: UInt32

    init(_ entries: [(UInt32, Int32, Int32)]) {
        var capacity = 16
        while capacity < entries.count * 3 { capacity <<= 1 }
        keys = UnsafeMutableBufferPointer.allocate(capacity: capacity)
        keys.initialize(repeating: UInt32.max)
        values = UnsafeMutableBufferPointer.allocate(capacity: capacity)
        values.initialize(repeating: 0)
        shift = UInt32(32 - capacity.trailingZeroBitCount)
        for (cp, start, count) in entries {
            var i = slot(cp)
            while keys[i] != UInt32.max && keys[i] != cp { i = (i + 1) & (capacity - 1) }
            keys[i] = cp
            values[i] = UInt64(UInt32(bitPattern: start)) << 32 | UInt64(UInt32(bitPattern: count))
        }
    }

    deinit {
        keys.deallocate()
        values.deallocate()
    }

    @inline(__always)
    private func slot(_ c: UInt32) -> Int { Int((c &* 0x9E37_79B1) >> shift) }

    /// The pool slice for `c`, or nil.
    @inline(__always)
    func lookup(_ c: UInt32) -> (start: Int32, count: Int32)? {
        let mask = keys.count - 1
        var i = slot(c)
        while true {
            let k = keys[i]
            if k == c {
                let v = values[i]
                return (Int32(truncatingIfNeeded: v >> 32), Int32(truncatingIfNeeded: v & 0xFFFF_FFFF))
            }
            if k == UInt32.max { return nil }
            i = (i + 1) & mask
        }
    }
}

/// Appends scalars to caller-provided storage sized for the worst-case expansion (see `maxExpansion`).
struct ScalarWriter {
    let base: UnsafeMutablePointer<UInt32>
    var count = 0

    @inline(__always)
    mutating func append(_ c: UInt32) {
        base[count] = c
        count += 1
    }
}
