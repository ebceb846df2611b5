// Truncation, padding, masks and batch bookkeeping of encoded model inputs.

import Foundation
import Testing
import RecAlignTokenizer

@Suite struct EncodingTests {
    let tok: BertTokenizer = try! BertTokenizer(vocabulary: ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "a", "b", "c", "d"])

    @Test func encodeFramesWithClsAndSep() {
        let e = tok.encode("a b c", maxLength: nil)
        #expect(e.ids == [2, 4, 5, 6, 3])
        #expect(!e.truncated)
        #expect(e.fullLength == 5)
        #expect(tok.encode("", maxLength: nil).ids == [2, 3])
    }

    @Test func truncationKeepsClsAndSepAndReportsFullLength() {
        let e = tok.encode("a b c d a b", maxLength: 5)
        #expect(e.ids == [2, 4, 5, 6, 3])
        #expect(e.truncated)
        #expect(e.fullLength == 8)
        let exact = tok.encode("a b c", maxLength: 5)
        #expect(exact.ids == [2, 4, 5, 6, 3])
        #expect(!exact.truncated)
        let tiny = tok.encode("a b", maxLength: 1)
        #expect(tiny.ids == [2, 3])
        #expect(tiny.truncated && tiny.fullLength == 4)
    }

    @Test func batchPadsToLongestWithMasks() {
        let b = tok.encodeBatch(["a", "a b c d a b", "", "b c"], maxLength: 6)
        #expect(b.batchSize == 4)
        #expect(b.sequenceLength == 6)
        #expect(b.lengths == [3, 6, 2, 4])
        #expect(b.truncatedCount == 1)
        #expect(b.inputIDs == [2, 4, 3, 0, 0, 0,
                               2, 4, 5, 6, 7, 3,
                               2, 3, 0, 0, 0, 0,
                               2, 5, 6, 3, 0, 0])
        #expect(b.attentionMask == [1, 1, 1, 0, 0, 0,
                                    1, 1, 1, 1, 1, 1,
                                    1, 1, 0, 0, 0, 0,
                                    1, 1, 1, 1, 0, 0])
        #expect(b.tokenTypeIDs == [Int32](repeating: 0, count: 24))
    }

    @Test func batchShorterThanMaxLengthIsNotPaddedToMax() {
        let b = tok.encodeBatch(["a", "b"], maxLength: 128)
        #expect(b.sequenceLength == 3)
        #expect(b.inputIDs == [2, 4, 3, 2, 5, 3])
        #expect(b.truncatedCount == 0)
        let empty = tok.encodeBatch([], maxLength: 8)
        #expect(empty.batchSize == 0 && empty.sequenceLength == 0 && empty.inputIDs.isEmpty)
    }

    @Test func concurrentUseGivesSameResults() throws {
        let real = try Fixtures.jsonTokenizer()
        let texts = try Fixtures.cases().map(\.text)
        let expected = texts.map { real.encode($0, maxLength: 32) }
        let results = UnsafeMutableBufferPointer<Encoding>.allocate(capacity: texts.count * 4)
        defer { results.deallocate() }
        DispatchQueue.concurrentPerform(iterations: 4) { k in
            for (i, t) in texts.enumerated() {
                (results.baseAddress! + k * texts.count + i).initialize(to: real.encode(t, maxLength: 32))
            }
        }
        for k in 0..<4 {
            #expect(Array(results[(k * texts.count)..<((k + 1) * texts.count)]) == expected)
        }
    }
}
