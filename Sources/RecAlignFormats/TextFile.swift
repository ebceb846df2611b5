// TextFile: reads a UTF-8 text file with one-line errors and splits it into lines ending in LF or CRLF.
import Foundation

/// Text files and lines as every reader of RecAlign takes them.
public enum TextFile {
    /// The file's text (a UTF-8 byte-order mark dropped). Throws one line naming the path: missing, a folder,
    /// unreadable, or not UTF-8 (with the byte offset of the first bad sequence).
    public static func read(_ path: String) throws -> String {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw FormatError(.cannotRead, file: path, "no such file")
        }
        guard !isDir.boolValue else { throw FormatError(.cannotRead, file: path, "is a folder, not a file") }
        guard var data = FileManager.default.contents(atPath: path) else {
            throw FormatError(.cannotRead, file: path, "cannot be read (permissions?)")
        }
        if data.starts(with: [0xEF, 0xBB, 0xBF]) { data = data.dropFirst(3) }
        guard let text = String(data: data, encoding: .utf8) else {
            throw FormatError(.malformedFile, file: path, "not valid UTF-8")
        }
        return text
    }

    /// The lines of `text`, split at "\n" with a "\r" before it dropped (CRLF files read like LF files). A final
    /// line break does not start an empty last line; empty lines inside are kept, so index + 1 is the line number.
    /// (Swift's `split(separator: "\n")` never matches "\r\n", which is one Character.)
    public static func lines(_ text: String) -> [Substring] {
        var out: [Substring] = []
        let u = text.utf8
        var start = u.startIndex
        while start < u.endIndex {
            let nl = u[start...].firstIndex(of: 0x0A) ?? u.endIndex
            var stop = nl
            if stop > start, u[u.index(before: stop)] == 0x0D { stop = u.index(before: stop) }
            out.append(Substring(text[start..<stop]))
            start = nl == u.endIndex ? nl : u.index(after: nl)
        }
        return out
    }
}
