// PoolingAndTableTests: history pooling into unit user vectors, and Markdown / JSON rendering of result tables.
import Foundation
import Testing
@testable import RecAlignRetrieval
import RecAlignMetrics

@Suite struct PoolingAndTableTests {
    let items: [Float] = [1, 0, 0, 1, 3, 4]   // rows: (1,0), (0,1), (3,4)

    @Test func meanOfLastN() throws {
        let u = try HistoryPooling.mean(lastN: 2).userVectors(items: items, dim: 2, histories: [[0, 1, 2], [0], []])
        // Last two of [0,1,2]: (0+3, 1+4)/2 = (1.5, 2.5) -> / sqrt(8.5).
        let n = Float(8.5.squareRoot())
        #expect(abs(u[0] - 1.5 / n) < 1e-6 && abs(u[1] - 2.5 / n) < 1e-6)
        #expect(u[2] == 1 && u[3] == 0)
        #expect(u[4] == 0 && u[5] == 0)   // empty history -> zero vector
    }

    @Test func recencyWeighted() throws {
        let u = try HistoryPooling.recencyWeighted(decay: 0.5).userVectors(items: items, dim: 2, histories: [[0, 1]])
        // Most recent (row 1) weight 1, row 0 weight 0.5: (0.5, 1) / sqrt(1.25).
        #expect(abs(u[0] - 0.5 / Float(1.25.squareRoot())) < 1e-6)
        #expect(abs(u[1] - 1 / Float(1.25.squareRoot())) < 1e-6)
        let last1 = try HistoryPooling.recencyWeighted(decay: 0.5, lastN: 1).userVectors(items: items, dim: 2,
                                                                                       histories: [[2, 0]])
        #expect(last1 == [1, 0])
        #expect(throws: RetrievalError.self) {
            try HistoryPooling.mean(lastN: nil).userVectors(items: items, dim: 2, histories: [[3]])
        }
    }

    @Test func l2NormalizeRows() throws {
        var m: [Float] = [3, 4, 0, 0]
        try L2.normalizeRows(&m, dim: 2)
        #expect(m == [0.6, 0.8, 0, 0])
    }

    func table() -> ResultTable {
        var t = ResultTable()
        t.append(method: "BM", setting: .warm, split: .test, metrics: MetricSummary(ranks: [1, 3]))
        t.append(method: "item-kNN k=20", setting: .cold, split: .valid, metrics: MetricSummary(ranks: [11]))
        return t
    }

    @Test func markdownIsAligned() throws {
        let expected = """
        | method        | setting | split | users | Recall@10 | NDCG@10 | MRR@10 | Recall@50 |
        | ------------- | ------- | ----- | ----: | --------: | ------: | -----: | --------: |
        | BM            | warm    | test  |     2 |    1.0000 |  0.7500 | 0.6667 |    1.0000 |
        | item-kNN k=20 | cold    | valid |     1 |    0.0000 |  0.0000 | 0.0000 |    1.0000 |

        """
        #expect(try table().markdown() == expected)
    }

    @Test func jsonRowsAndAtomicWrite() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("recalign-table-\(getpid())")
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("results.json").path
        try table().writeJSON(to: path)
        let rows = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as! [[String: Any]]
        #expect(rows.count == 2)
        #expect(Set(rows[0].keys) == ["method", "setting", "split", "users", "Recall@10", "NDCG@10", "MRR@10", "Recall@50"])
        #expect(rows[0]["method"] as? String == "BM" && rows[0]["setting"] as? String == "warm")
        #expect(rows[0]["users"] as? Int == 2 && rows[0]["NDCG@10"] as? Double == 0.75)
        #expect(rows[1]["split"] as? String == "valid" && rows[1]["Recall@50"] as? Double == 1)
        try table().writeMarkdown(to: dir.appendingPathComponent("results.md").path)
        #expect(try String(contentsOfFile: dir.appendingPathComponent("results.md").path, encoding: .utf8) == table().markdown())
    }
}
