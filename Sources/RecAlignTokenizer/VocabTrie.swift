// Scalar trie over the WordPiece vocabulary: longest-prefix match in one walk, no String allocation.

/// A trie with two roots: word-initial tokens, and continuation tokens (prefix such as `##` removed).
/// Transitions live in one open-addressing hash table keyed by (node, scalar), in raw buffers (no ARC
/// traffic on lookups); immutable after `init`.
final class VocabTrie: @unchecked Sendable {
    static let wordRoot: Int32 = 0
    /// Root for continuation pieces; equals `wordRoot` when the continuation prefix is empty.
    let continuationRoot: Int32

    private let keys: UnsafeMutableBufferPointer<UInt64>     // (node << 21 | scalar); `empty` when free
    private let children: UnsafeMutableBufferPointer<Int32>
    private let terminal: UnsafeMutableBufferPointer<Int32>  // token id ending at each node, -1 if none
    private let shift: UInt64

    private static let empty = UInt64.max

    /// Builds the trie; `tokens` are (scalars, id) in vocabulary order (a later duplicate wins).
    init(tokens: [([UInt32], Int32)], continuingPrefix: [UInt32]) {
        var builder = Builder()
        let contRoot: Int32 = continuingPrefix.isEmpty ? VocabTrie.wordRoot : 1
        for (scalars, id) in tokens {
            builder.insert(scalars[...], root: VocabTrie.wordRoot, id: id)
            if !continuingPrefix.isEmpty, scalars.count > continuingPrefix.count,
               scalars.starts(with: continuingPrefix) {
                builder.insert(scalars[continuingPrefix.count...], root: contRoot, id: id)
            }
        }
        continuationRoot = contRoot
        // Final table at load factor <= 1/2.
        var capacity = 16
        while capacity < builder.edges.count * 2 { capacity <<= 1 }
        keys = UnsafeMutableBufferPointer.allocate(capacity: capacity)
        keys.initialize(repeating: VocabTrie.empty)
        children = UnsafeMutableBufferPointer.allocate(capacity: capacity)
        children.initialize(repeating: -1)
        shift = UInt64(64 - capacity.trailingZeroBitCount)
        for (key, child) in builder.edges {
            var i = VocabTrie.slot(key, shift)
            while keys[i] != VocabTrie.empty { i = (i + 1) & (capacity - 1) }
            keys[i] = key
            children[i] = child
        }
        terminal = UnsafeMutableBufferPointer.allocate(capacity: builder.terminal.count)
        _ = terminal.initialize(from: builder.terminal)
    }

    deinit {
        keys.deallocate()
        children.deallocate()
        terminal.deallocate()
    }

    /// Construction-time trie: a Swift dictionary of edges.
    private struct Builder {
        var edges: [UInt64: Int32] = [:]
        var terminal: [Int32] = [-1, -1]

        mutating func insert(_ scalars: ArraySlice<UInt32>, root: Int32, id: Int32) {
            var node = root
            for s in scalars {
                let key = VocabTrie.key(node, s)
                if let next = edges[key] { node = next; continue }
                let new = Int32(terminal.count)
                terminal.append(-1)
                edges[key] = new
                node = new
            }
            terminal[Int(node)] = id
        }
    }

    @inline(__always)
    private static func key(_ node: Int32, _ s: UInt32) -> UInt64 {
        UInt64(UInt32(bitPattern: node)) << 21 | UInt64(s & 0x1F_FFFF)
    }

    @inline(__always)
    private static func slot(_ key: UInt64, _ shift: UInt64) -> Int {
        Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> shift)
    }

    /// The child of `node` along scalar `s`, or -1.
    @inline(__always)
    func child(_ node: Int32, _ s: UInt32) -> Int32 {
        let key = VocabTrie.key(node, s)
        let mask = keys.count - 1
        var i = VocabTrie.slot(key, shift)
        while true {
            let k = keys[i]
            if k == key { return children[i] }
            if k == VocabTrie.empty { return -1 }
            i = (i + 1) & mask
        }
    }

    /// Longest vocabulary entry that is a prefix of `word[start..<end]`, walking from `root`:
    /// returns (id, end index) or nil when none matches.
    @inline(__always)
    func longestMatch(_ word: UnsafePointer<UInt32>, from start: Int, to end: Int,
                      root: Int32) -> (id: Int32, end: Int)? {
        var node = root
        var bestID: Int32 = -1
        var bestEnd = start
        var i = start
        while i < end {
            node = child(node, word[i])
            if node < 0 { break }
            i += 1
            let id = terminal[Int(node)]
            if id >= 0 { bestID = id; bestEnd = i }
        }
        return bestID >= 0 ? (bestID, bestEnd) : nil
    }
}
