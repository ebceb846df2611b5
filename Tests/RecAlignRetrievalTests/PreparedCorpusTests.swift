// PreparedCorpusTests: a corpus whose items have no text is refused unless the user names the text source.
import Foundation
import Testing
import RecAlignData
import RecAlignRetrieval
import RecAlignTestSupport

@Suite struct PreparedCorpusTests {
    func corpus(items: String?) throws -> String {
        let dir = TestPaths.tempDir("prep")
        var inter = "user_id:token\titem_id:token\ttimestamp:float\n"
        for u in 1...3 { for i in 1...6 { inter += "\(u)\t\(i)\t\(i)\n" } }
        try inter.write(toFile: dir + "/c.inter", atomically: true, encoding: .utf8)
        if let items { try items.write(toFile: dir + "/c.item", atomically: true, encoding: .utf8) }
        return dir
    }

    /// Without an item file every text was empty and every score equal; now refused, or named by id on request.
    @Test func noItemFileIsRefusedUnlessIdsAreTheText() throws {
        let dir = try corpus(items: nil)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let e = #expect(throws: DataError.self) { try PreparedCorpus.load(path: dir) }
        #expect("\(e!)".contains("no item file") && "\(e!)".contains("--item-id-as-text"))
        let c = try PreparedCorpus.load(path: dir, itemIdAsText: true)
        #expect(c.itemTexts == ["1", "2", "3", "4", "5", "6"])
    }

    @Test func anItemWithAnEmptyTextIsNamed() throws {
        let rows = (1...6).map { $0 == 4 ? "4\t \n" : "\($0)\tFilm \($0)\n" }.joined()
        let dir = try corpus(items: "item_id:token\ttitle:token_seq\n" + rows)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let e = #expect(throws: DataError.self) { try PreparedCorpus.load(path: dir) }
        #expect("\(e!)".contains("item '4' has an empty text (fields title are empty)"))
        #expect(try PreparedCorpus.load(path: dir, itemIdAsText: true).itemTexts[3] == "4")
    }
}
