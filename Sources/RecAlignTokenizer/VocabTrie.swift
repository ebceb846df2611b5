// Scalar trie over the WordPiece vocabulary: longest-prefix match in one walk, no String allocation.

/// A trie with two roots: word-initial tokens, and continuation tokens (prefix such as `##` removed).
/// Transitions live in one open-addressing hash table keyed by (node, scalar).
struct VocabTrie: Sendable {
    static let wordRoot: Int32 = 0
    /// Root for continuation pieces; equals `wordRoot` when the continuation prefix is empty.
    let continuationRoot: Int32

    private var keys: [UInt64]
    private var children: [Int32]
    private var terminal: [Int32] = [-1, -1]   // token id ending at each node, -1 if none
    private var shift: UInt64
    private var count = 0

    private static let empty = UInt64.max

    /// Builds the trie; `tokens` are (scalars, id) in vocabulary order (a later duplicate wins).
    init(tokens: [([UInt32], Int32)], continuingPrefix: [UInt32]) {
        let capacity = 1024
        keys = [UInt64](repeating: VocabTrie.empty, count: capacity)
        children = [Int32](repeating: -1, count: capacity)
        shift = UInt64(64 - capacity.trailingZeroBitCount)
        continuationRoot = continuingPrefix.isEmpty ? VocabTrie.wordRoot : 1
        for (scalars, id) in tokens {
            insert(scalars[...], root: VocabTrie.wordRoot, id: id)
            if !continuingPrefix.isEmpty, scalars.count > continuingPrefix.count,
               scalars.starts(with: continuingPrefix) {
                insert(scalars[continuingPrefix.count...], root: continuationRoot, id: id)
            }
        }
    }

    @inline(__always)
    private func slot(_ key: UInt64) -> Int {
        Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> shift)
    }

    private mutating func insert(_ scalars: ArraySlice<UInt32>, root: Int32, id: Int32) {
        var node = root
        for s in scalars {
            let next = child(node, s)
            if next >= 0 { node = next; continue }
            let new = Int32(terminal.count)
            terminal.append(-1)
            if (count + 1) * 2 > keys.count { grow() }
            place(UInt64(UInt32(bitPattern: node)) << 21 | UInt64(s & 0x1F_FFFF), new)
            count += 1
            node = new
        }
        terminal[Int(node)] = id
    }

    private mutating func place(_ key: UInt64, _ value: Int32) {
        let mask = keys.count - 1
        var i = slot(key)
        while keys[i] != VocabTrie.empty { i = (i + 1) & mask }
        keys[i] = key
        children[i] = value
    }

    /// Doubles the table (load factor stays at most 1/2).
    private mutating func grow() {
        let oldKeys = keys, oldChildren = children
        keys = [UInt64](repeating: VocabTrie.empty, count: oldKeys.count * 2)
        children = [Int32](repeating: -1, count: oldKeys.count * 2)
        shift -= 1
        for i in 0..<oldKeys.count where oldKeys[i] != VocabTrie.empty { place(oldKeys[i], oldChildren[i]) }
    }

    /// The child of `node` along scalar `s`, or -1.
    @inline(__always)
    func child(_ node: Int32, _ s: UInt32) -> Int32 {
        let key = UInt64(UInt32(bitPattern: node)) << 21 | UInt64(s & 0x1F_FFFF)
        let mask = keys.count - 1
        var i = slot(key)
        while true {
            let k = keys[i]
            if k == key { return children[i] }
            if k == VocabTrie.empty { return -1 }
            i = (i + 1) & mask
        }
    }

    /// Token id ending at `node`, or -1.
    @inline(__always)
    func tokenID(at node: Int32) -> Int32 { terminal[Int(node)] }

    /// Longest vocabulary entry that is a prefix of `word[start..<end]`, walking from `root`:
    /// returns (id, end index) or nil when none matches.
    @inline(__always)
    func longestMatch(_ word: UnsafeBufferPointer<UInt32>, from start: Int, to end: Int,
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
