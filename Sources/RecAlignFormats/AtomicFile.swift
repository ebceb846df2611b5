// AtomicFile: every file RecAlign writes goes to a temp file in the same folder and is renamed into place.
import Foundation

public enum AtomicFileError: Error, CustomStringConvertible {
    case writeFailed(path: String, reason: String)
    public var description: String {
        switch self { case let .writeFailed(path, reason): return "cannot write \(path): \(reason)" }
    }
}

/// Atomic writes: a reader sees the old file or the whole new one, never half of it.
public enum AtomicFile {
    /// Writes `data` to `path` through `path.tmp-<pid>-<n>` + rename(2). Creates parent folders.
    public static func write(_ data: Data, to path: String) throws {
        let url = URL(fileURLWithPath: path)
        let dir = url.deletingLastPathComponent()
        do {
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        } catch {
            throw AtomicFileError.writeFailed(path: path, reason: "cannot create folder \(dir.path): \(AtomicFile.reason(error))")
        }
        let tmp = dir.appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())-\(UInt32.random(in: 0 ... .max))")
        do {
            try data.write(to: tmp)
        } catch {
            try? FileManager.default.removeItem(at: tmp)
            throw AtomicFileError.writeFailed(path: path, reason: AtomicFile.reason(error))
        }
        if rename(tmp.path, url.path) != 0 {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(at: tmp)
            throw AtomicFileError.writeFailed(path: path, reason: reason)
        }
    }

    /// A Foundation error as one sentence (its localized description, without NSError's domain / user-info dump).
    static func reason(_ error: Error) -> String { (error as NSError).localizedDescription }

    /// Writes UTF-8 text atomically.
    public static func write(_ text: String, to path: String) throws {
        try write(Data(text.utf8), to: path)
    }
}
