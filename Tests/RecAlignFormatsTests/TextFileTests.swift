// TextFileTests: LF and CRLF lines read alike (texts, ids), and one-line errors naming the file.
import Foundation
import Testing
import RecAlignFormats

@Suite struct TextFileTests {
    @Test func linesSplitAtLFAndCRLF() {
        #expect(TextFile.lines("a\r\nb\nc") == ["a", "b", "c"])
        #expect(TextFile.lines("a\r\n\r\nb\r\n") == ["a", "", "b"])
        #expect(TextFile.lines("") == [])
        #expect(TextFile.lines("\n") == [""])
        #expect(TextFile.lines("one\rtwo\n") == ["one\rtwo"])   // a lone CR is not a line break
        #expect(TextFile.lines("é\r\nü") == ["é", "ü"])
    }

    /// `encode --input` with CRLF line endings read the whole file as one text before.
    @Test func textsAndIdsFilesAcceptCRLF() throws {
        let dir = try scratchDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "Heat (1995)\r\nFargo (1996)\r\n".write(toFile: dir + "/t.txt", atomically: true, encoding: .utf8)
        let plain = try TextsFile.read(dir + "/t.txt", tsv: false)
        #expect(plain.texts == ["Heat (1995)", "Fargo (1996)"] && plain.ids == ["0", "1"])
        try "i1\tHeat\r\ni2\tFargo\r\n".write(toFile: dir + "/t.tsv", atomically: true, encoding: .utf8)
        let tsv = try TextsFile.read(dir + "/t.tsv", tsv: true)
        #expect(tsv.ids == ["i1", "i2"] && tsv.texts == ["Heat", "Fargo"])
        try "a\r\nb\r\n".write(toFile: dir + "/x.ids", atomically: true, encoding: .utf8)
        #expect(try IdsFile.read(dir + "/x.ids") == ["a", "b"])
        try "i1\tHeat\r\nno tab here\r\n".write(toFile: dir + "/bad.tsv", atomically: true, encoding: .utf8)
        let e = #expect(throws: FormatError.self) { try TextsFile.read(dir + "/bad.tsv", tsv: true) }
        #expect(e?.description == "\(dir)/bad.tsv: line 2: expected 'id<TAB>text'")
    }

    @Test func readErrorsAreOneLineNamingThePath() throws {
        let dir = try scratchDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(throws: FormatError(.cannotRead, file: dir + "/none.txt", "no such file")) { try TextFile.read(dir + "/none.txt") }
        #expect(throws: FormatError(.cannotRead, file: dir, "is a folder, not a file")) { try TextFile.read(dir) }
        try Data([0x61, 0xFF, 0x62]).write(to: URL(fileURLWithPath: dir + "/latin.txt"))
        #expect(throws: FormatError(.malformedFile, file: dir + "/latin.txt", "not valid UTF-8")) { try TextFile.read(dir + "/latin.txt") }
        try Data([0xEF, 0xBB, 0xBF, 0x61]).write(to: URL(fileURLWithPath: dir + "/bom.txt"))
        #expect(try TextFile.read(dir + "/bom.txt") == "a")
    }
}
