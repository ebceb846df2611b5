// IdsFile: a plain-text list of ids, one per line, naming the rows of an exported matrix.
import Foundation

/// One id per line, UTF-8, each line ending in '\n'. Ids must be non-empty and contain no line breaks.
public enum IdsFile {
    /// Writes `ids` atomically.
    public static func write(_ ids: [String], to path: String) throws {
        for (k, id) in ids.enumerated() where id.isEmpty || id.contains(where: { $0.isNewline }) {
            throw FormatError(.invalidArgument, file: path, field: "id \(k)", "ids must be non-empty and contain no line break: \(id.debugDescription)")
        }
        try AtomicFile.write(ids.map { $0 + "\n" }.joined(), to: path)
    }

    /// Reads ids written by `write` (LF or CRLF; a missing final newline is accepted; an empty line is an error).
    public static func read(_ path: String) throws -> [String] {
        let lines = TextFile.lines(try TextFile.read(path)).map(String.init)
        for (k, l) in lines.enumerated() where l.isEmpty {
            throw FormatError(.malformedFile, file: path, field: "line \(k + 1)", "empty id")
        }
        return lines
    }
}
