// UserTextBuilder: user text from a history (most recent <= 20 items, oldest dropped to fit L tokens).
import Foundation
import RecAlignFormats

/// A built user text.
public struct UserText: Equatable, Sendable {
    public var text: String
    /// Items kept (k).
    public var itemCount: Int
    /// Its length in tokens with [CLS] and [SEP]: 2 + sum(tokens(item)) + (k - 1); 2 when empty.
    public var tokenCount: Int
    public init(text: String, itemCount: Int, tokenCount: Int) {
        self.text = text; self.itemCount = itemCount; self.tokenCount = tokenCount
    }
}

/// Builds user texts (PROTOCOL section 5). Item token counts are computed once at init with the injected
/// counter, so each text costs O(k) in the number of items kept.
public struct UserTextBuilder: Sendable {
    public let itemTexts: [String]
    /// WordPiece tokens of each item text, without [CLS] / [SEP].
    public let itemTokenCounts: [Int32]
    /// Encoder max length L including [CLS] and [SEP] (128 by default; 256 as a variant).
    public let maxLength: Int
    /// At most this many most recent items (20).
    public let maxItems: Int
    public static let separator = " ; "

    /// `tokenCount(text)` must give the WordPiece token count of `text` without [CLS]/[SEP].
    public init(itemTexts: [String], maxLength: Int = 128, maxItems: Int = 20, tokenCount: (String) -> Int) {
        self.init(itemTexts: itemTexts, itemTokenCounts: itemTexts.map { Int32(tokenCount($0)) },
                  maxLength: maxLength, maxItems: maxItems)
    }

    /// With precomputed per-item token counts.
    public init(itemTexts: [String], itemTokenCounts: [Int32], maxLength: Int = 128, maxItems: Int = 20) {
        precondition(itemTexts.count == itemTokenCounts.count, "one token count per item text")
        self.itemTexts = itemTexts; self.itemTokenCounts = itemTokenCounts
        self.maxLength = maxLength; self.maxItems = maxItems
    }

    /// How many of the most recent items of `history` are kept: start from min(20, n) and drop the oldest
    /// while `2 + sum(tokens) + (k - 1) > L` and k > 1.
    public func keptCount<C: BidirectionalCollection>(_ history: C) -> (count: Int, tokens: Int) where C.Element == Int32 {
        var k = 0, sum = 0
        var i = history.endIndex
        while k < maxItems && i != history.startIndex {
            i = history.index(before: i)
            sum += Int(itemTokenCounts[Int(history[i])]); k += 1
        }
        // i is the oldest kept item; drop from the oldest end while too long.
        while k > 1 && 2 + sum + (k - 1) > maxLength {
            sum -= Int(itemTokenCounts[Int(history[i])]); k -= 1
            i = history.index(after: i)
        }
        return (k, k == 0 ? 2 : 2 + sum + (k - 1))
    }

    /// The user text of `history` (item rows, oldest first): kept items oldest first joined with " ; ".
    public func text<C: BidirectionalCollection>(_ history: C) -> UserText where C.Element == Int32 {
        let (k, tokens) = keptCount(history)
        let kept = history.suffix(k)
        var bytes = 3 * max(0, k - 1)
        for r in kept { bytes += itemTexts[Int(r)].utf8.count }
        var s = ""
        s.reserveCapacity(bytes)
        var first = true
        for r in kept {
            if !first { s += UserTextBuilder.separator }
            s += itemTexts[Int(r)]
            first = false
        }
        return UserText(text: s, itemCount: k, tokenCount: tokens)
    }

    /// The user text a split shows at `stage` in `setting` for user row `u`.
    public func text(split: Split, user u: Int, stage: EvalStage, setting: EvalSetting) -> UserText {
        text(split.history(user: u, stage: stage, setting: setting))
    }

    /// Writes `user_text_{stage}_{L}.tsv` (`user_id, n_items, text`) for the evaluated users of the stage
    /// and setting into `folder`; returns the path.
    @discardableResult
    public func writeUserTexts(split: Split, stage: EvalStage, setting: EvalSetting, to folder: String) throws -> String {
        let path = (folder as NSString).appendingPathComponent("user_text_\(stage.rawValue)_\(maxLength).tsv")
        var s = "user_id\tn_items\ttext\n"
        for u in split.evaluatedUsers(stage, setting) {
            let t = text(split: split, user: Int(u), stage: stage, setting: setting)
            try TSVFormat.checkField(t.text, "user text", path)
            s += "\(split.userIds[Int(u)])\t\(t.itemCount)\t\(t.text)\n"
        }
        try AtomicFile.write(s, to: path)
        return path
    }
}
