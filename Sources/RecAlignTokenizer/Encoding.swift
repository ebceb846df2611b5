// Model inputs: [CLS] ... [SEP] framing, right truncation with a record of what was cut, batch padding and masks.

/// One text encoded for the model.
public struct Encoding: Sendable, Equatable {
    /// `[CLS] tokens... [SEP]`, truncated on the right to the requested maximum length.
    public var ids: [Int32]
    /// Whether tokens were cut.
    public var truncated: Bool
    /// Length including `[CLS]` and `[SEP]` had nothing been cut (equals `ids.count` when not truncated).
    public var fullLength: Int

    /// Wraps already-computed ids (see `BertTokenizer.encode(_:maxLength:)`).
    public init(ids: [Int32], truncated: Bool, fullLength: Int) {
        self.ids = ids
        self.truncated = truncated
        self.fullLength = fullLength
    }
}

/// A padded batch in row-major [batchSize, sequenceLength] layout.
public struct Batch: Sendable, Equatable {
    /// Number of texts (B).
    public var batchSize: Int
    /// Padded length T: the longest encoding in the batch (0 for an empty batch).
    public var sequenceLength: Int
    /// [B*T] token ids, padded with the tokenizer's pad id.
    public var inputIDs: [Int32]
    /// [B*T] 1 for real tokens, 0 for padding.
    public var attentionMask: [Int32]
    /// [B*T] segment ids (all zero: single sequences).
    public var tokenTypeIDs: [Int32]
    /// Real (unpadded) length of each row, special tokens included.
    public var lengths: [Int]
    /// How many texts were truncated.
    public var truncatedCount: Int
}

extension BertTokenizer {
    /// Encodes `text` as `[CLS] tokens [SEP]`. With `maxLength` (special tokens included, as in Hugging
    /// Face; values below 2 act as 2) the tokens are cut on the right so the result fits.
    public func encode(_ text: String, maxLength: Int?) -> Encoding {
        var ids: [Int32] = [clsID]
        appendTokenIDs(text, to: &ids)
        let fullLength = ids.count + 1
        var truncated = false
        if let maxLength, fullLength > max(maxLength, 2) {
            ids.removeSubrange(max(maxLength, 2) - 1 ..< ids.count)
            truncated = true
        }
        ids.append(sepID)
        return Encoding(ids: ids, truncated: truncated, fullLength: fullLength)
    }

    /// Encodes and pads a batch to its longest member (at most `maxLength`), with attention mask and
    /// zero token type ids, and counts the truncated texts.
    public func encodeBatch(_ texts: [String], maxLength: Int) -> Batch {
        let encodings = texts.map { encode($0, maxLength: maxLength) }
        let t = encodings.reduce(0) { max($0, $1.ids.count) }
        let b = encodings.count
        var input = [Int32](repeating: padID, count: b * t)
        var mask = [Int32](repeating: 0, count: b * t)
        input.withUnsafeMutableBufferPointer { inp in
            mask.withUnsafeMutableBufferPointer { m in
                for (row, e) in encodings.enumerated() {
                    let base = row * t
                    for (k, id) in e.ids.enumerated() {
                        inp[base + k] = id
                        m[base + k] = 1
                    }
                }
            }
        }
        return Batch(batchSize: b, sequenceLength: t, inputIDs: input, attentionMask: mask,
                     tokenTypeIDs: [Int32](repeating: 0, count: b * t), lengths: encodings.map { $0.ids.count },
                     truncatedCount: encodings.reduce(0) { $0 + ($1.truncated ? 1 : 0) })
    }
}
