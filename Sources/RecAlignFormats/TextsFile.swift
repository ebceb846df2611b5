// TextsFile: the input of `recalign encode`, one text per line or `id<TAB>text` lines, LF or CRLF.
import Foundation

/// A list of texts to embed, row i = line i.
public enum TextsFile {
    /// Reads `path`: every line is a text (empty lines too, so row i is line i + 1); ids are the 0-based line
    /// numbers, or with `tsv` each line's part before its first tab. Throws naming the file and line.
    public static func read(_ path: String, tsv: Bool) throws -> (ids: [String], texts: [String]) {
        var ids: [String] = [], texts: [String] = []
        for (i, line) in TextFile.lines(try TextFile.read(path)).enumerated() {
            if tsv {
                guard let tab = line.firstIndex(of: "\t") else {
                    throw FormatError(.malformedFile, file: path, field: "line \(i + 1)", "expected 'id<TAB>text'")
                }
                ids.append(String(line[..<tab])); texts.append(String(line[line.index(after: tab)...]))
            } else {
                ids.append(String(i)); texts.append(String(line))
            }
        }
        return (ids, texts)
    }
}
