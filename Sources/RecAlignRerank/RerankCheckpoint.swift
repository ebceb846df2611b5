// RerankCheckpoint: each finished user appended to <out>.partial, so an interrupted run can be resumed.
import Foundation

/// The checkpoint beside a rerank output: one reranked JSONL line per user as soon as its answer is in (in the
/// order answers arrive), flushed line by line. `rerank --resume` reads it with the output; a finished run
/// removes it. Writing is best effort: a failed write is reported once and the run goes on.
public final class RerankCheckpoint: @unchecked Sendable {
    public static func path(for out: String) -> String { out + ".partial" }

    public let path: String
    private let keep: Bool
    private var handle: FileHandle?
    private let lock = NSLock()
    private var warned = false

    /// The checkpoint of `out`, opened at the first answer (so a run that stops before any leaves none): appended
    /// to when `keep` (a resumed run), emptied otherwise.
    public init(out: String, keep: Bool) {
        path = Self.path(for: out)
        self.keep = keep
    }

    public func append(_ record: RerankedRecord) {
        lock.lock(); defer { lock.unlock() }
        do {
            if handle == nil {
                let fm = FileManager.default
                let dir = URL(fileURLWithPath: path).deletingLastPathComponent()
                try fm.createDirectory(at: dir, withIntermediateDirectories: true)
                if !keep || !fm.fileExists(atPath: path), !fm.createFile(atPath: path, contents: nil) {
                    throw CocoaError(.fileWriteNoPermission)
                }
                let h = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
                try h.seekToEnd()
                handle = h
            }
            try handle!.write(contentsOf: try RerankedRecord.encode([record]))
        } catch {
            if !warned { FileHandle.standardError.write(Data("warning: \(path): cannot write the checkpoint (\(error.localizedDescription)); the run goes on, but an interruption would lose the answers not written\n".utf8)) }
            warned = true
        }
    }

    /// Closes and removes the checkpoint, this run's and any an earlier run left (the whole output has been written).
    public func finish() {
        lock.lock(); defer { lock.unlock() }
        try? handle?.close()
        try? FileManager.default.removeItem(atPath: path)
    }
}
