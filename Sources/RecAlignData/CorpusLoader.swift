// CorpusLoader: picks the right loader for a corpus path (RecBole folder, MovieLens folder, JSONL).
import Foundation

/// Entry point for the CLI: loads any supported corpus layout.
public enum CorpusLoader {
    /// Loads `path`:
    /// - a folder with `<name>.inter` -> RecBole atomic files;
    /// - a folder with `u.data` -> raw MovieLens;
    /// - a folder with `interactions.jsonl` (+ optional `items.jsonl`, `users.jsonl`) -> JSONL;
    /// - a `.jsonl` file -> JSONL interactions, with `items.jsonl` / `users.jsonl` beside it if present.
    public static func load(path: String, options: LoadOptions = LoadOptions()) throws -> Dataset {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        guard fm.fileExists(atPath: path, isDirectory: &isDir) else {
            throw DataError.unreadable(path: path, reason: "no such file or folder")
        }
        let dir = isDir.boolValue ? path : (path as NSString).deletingLastPathComponent
        func sibling(_ n: String) -> String? {
            let p = (dir as NSString).appendingPathComponent(n)
            return fm.fileExists(atPath: p) ? p : nil
        }
        if !isDir.boolValue {
            guard path.hasSuffix(".jsonl") else {
                throw DataError.unreadable(path: path, reason: "expected a corpus folder or a .jsonl file")
            }
            return try JSONLLoader.load(interactions: path, items: sibling("items.jsonl"),
                                        users: sibling("users.jsonl"), options: options)
        }
        let files = (try? fm.contentsOfDirectory(atPath: path)) ?? []
        if files.contains(where: { $0.hasSuffix(".inter") }) {
            return try RecBoleLoader.load(folder: path, options: options)
        }
        if files.contains("u.data") { return try MovieLensLoader.load(folder: path, options: options) }
        if let inter = sibling("interactions.jsonl") {
            return try JSONLLoader.load(interactions: inter, items: sibling("items.jsonl"),
                                        users: sibling("users.jsonl"),
                                        name: (path as NSString).lastPathComponent, options: options)
        }
        throw DataError.unreadable(path: path, reason: "no .inter, u.data or interactions.jsonl file")
    }
}
