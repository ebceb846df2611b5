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
    /// Writes `data` to `path` through `.NAME.tmp-<pid>-<n>` (fsynced) + rename(2). Creates parent folders.
    public static func write(_ data: Data, to path: String) throws {
        let url = URL(fileURLWithPath: path)
        let dir = url.deletingLastPathComponent()
        do {
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        } catch {
            throw AtomicFileError.writeFailed(path: path, reason: "cannot create folder \(dir.path): \(AtomicFile.reason(error))")
        }
        let tmp = dir.appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())-\(UInt32.random(in: 0 ... .max))")
        if let reason = writeSynced(data, to: tmp.path) {
            try? FileManager.default.removeItem(at: tmp)
            throw AtomicFileError.writeFailed(path: path, reason: reason)
        }
        if rename(tmp.path, url.path) != 0 {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(at: tmp)
            throw AtomicFileError.writeFailed(path: path, reason: reason)
        }
    }

    /// Writes `data` to a new file at `path` and fsyncs it, so that the rename publishes data already on disk.
    /// Returns nil, or why it failed.
    static func writeSynced(_ data: Data, to path: String) -> String? {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
        guard fd >= 0 else { return String(cString: strerror(errno)) }
        defer { close(fd) }
        var failure: String? = nil
        data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            var done = 0
            while done < raw.count {
                let n = Foundation.write(fd, raw.baseAddress! + done, raw.count - done)
                if n < 0 {
                    if errno == EINTR { continue }
                    failure = String(cString: strerror(errno)); return
                }
                done += n
            }
        }
        if let failure { return failure }
        return fsync(fd) == 0 ? nil : "fsync: " + String(cString: strerror(errno))
    }

    /// A Foundation error as one sentence (its localized description, without NSError's domain / user-info dump).
    static func reason(_ error: Error) -> String { (error as NSError).localizedDescription }

    /// Writes UTF-8 text atomically.
    public static func write(_ text: String, to path: String) throws {
        try write(Data(text.utf8), to: path)
    }
}
