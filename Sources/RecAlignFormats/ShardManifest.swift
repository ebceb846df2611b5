// ShardManifest: what one `--shard i/n` part of an embedding matrix holds, and the validated set of parts to merge.
import Foundation

/// `<stem>.part-<i>-of-<n>.json` beside a part's matrix and ids: which rows of the whole the part holds, so
/// `recalign merge` can check that the parts of a Slurm array or a Kubernetes Indexed Job cover the whole
/// exactly once, in order, with one width and format, before it writes anything.
public struct ShardManifest: Codable, Equatable, Sendable {
    /// 0-based part index and part count.
    public var shard: Int
    public var shards: Int
    /// Rows [first, first + rows) of the whole; the whole has `totalRows` rows of `dim` floats.
    public var first: Int
    public var rows: Int
    public var totalRows: Int
    public var dim: Int
    /// npy, fvecs or safetensors.
    public var format: String
    /// The part's matrix file name (in the manifest's folder); its ids are `matrix + ".ids"`.
    public var matrix: String
    /// Text files of the part to concatenate in part order: the whole's file name -> the part's (e.g.
    /// `export`'s candidates.jsonl). Names are plain file names in the manifest's folder.
    public var texts: [String: String]?
    /// The whole's ids file name (nil: the whole's matrix name + ".ids", as `encode` writes; `export`: users.ids).
    public var ids: String?

    enum CodingKeys: String, CodingKey {
        case shard, shards, first, rows, dim, format, matrix, texts, ids
        case totalRows = "total_rows"
    }

    public init(shard: Int, shards: Int, first: Int, rows: Int, totalRows: Int, dim: Int, format: String, matrix: String,
                texts: [String: String]? = nil, ids: String? = nil) {
        self.shard = shard; self.shards = shards; self.first = first; self.rows = rows; self.totalRows = totalRows
        self.dim = dim; self.format = format; self.matrix = matrix; self.texts = texts; self.ids = ids
    }

    /// File names of part `shard` of `shards` for a whole written to `output` (`dir/emb.npy` ->
    /// `dir/emb.part-00002-of-00004.npy` and `dir/emb.part-00002-of-00004.json`).
    public static func partPaths(output: String, shard: Int, shards: Int) -> (matrix: String, manifest: String) {
        let ext = (output as NSString).pathExtension
        let stem = ext.isEmpty ? output : (output as NSString).deletingPathExtension
        let base = stem + String(format: ".part-%05d-of-%05d", shard, shards)
        return (ext.isEmpty ? base : base + "." + ext, base + ".json")
    }

    public func write(to path: String) throws {
        let enc = JSONEncoder(); enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(try enc.encode(self), to: path)
    }

    /// Reads and checks one manifest: every count in range, the rows inside the whole.
    public static func read(_ path: String) throws -> ShardManifest {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw FormatError(.cannotRead, file: path, "cannot read the shard manifest")
        }
        let m: ShardManifest
        do { m = try JSONDecoder().decode(ShardManifest.self, from: data) } catch {
            throw FormatError(.malformedJSON, file: path, "not a shard manifest: \(error)")
        }
        func bad(_ field: String, _ detail: String) -> FormatError { FormatError(.badValue, file: path, field: field, detail) }
        guard m.shards >= 1 else { throw bad("shards", "must be >= 1, is \(m.shards)") }
        guard m.shard >= 0 && m.shard < m.shards else { throw bad("shard", "must be in 0..<\(m.shards), is \(m.shard)") }
        guard m.totalRows >= 0 else { throw bad("total_rows", "must be >= 0, is \(m.totalRows)") }
        guard m.dim >= 1 else { throw bad("dim", "must be >= 1, is \(m.dim)") }
        guard m.first >= 0 && m.rows >= 0 && m.first <= m.totalRows && m.rows <= m.totalRows - m.first else {
            throw bad("rows", "rows \(m.first)..<\(m.first + m.rows) are not inside the whole's \(m.totalRows)")
        }
        guard ["npy", "fvecs", "safetensors"].contains(m.format) else { throw bad("format", "'\(m.format)' is not npy, fvecs or safetensors") }
        let plain = { (name: String) in !name.isEmpty && !name.contains("/") && name != "." && name != ".." }
        guard plain(m.matrix) else { throw bad("matrix", "must be a file name in the manifest's folder") }
        if let ids = m.ids, !plain(ids) { throw bad("ids", "'\(ids)' must be a file name in the manifest's folder") }
        for (whole, part) in m.texts ?? [:] where !plain(whole) || !plain(part) {
            throw bad("texts", "'\(whole)' -> '\(part)': both must be file names in the manifest's folder")
        }
        return m
    }

    /// The manifests of every part of `output` found in its folder, checked as one set: the same part count,
    /// whole and width; every part present once; rows contiguous from 0 to the whole. Sorted by part.
    public static func collect(output: String) throws -> [(manifest: ShardManifest, path: String)] {
        let dir = (output as NSString).deletingLastPathComponent
        let folder = dir.isEmpty ? "." : dir
        let ext = (output as NSString).pathExtension
        let stem = ((ext.isEmpty ? output : (output as NSString).deletingPathExtension) as NSString).lastPathComponent
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        let found = names.filter { $0.hasPrefix(stem + ".part-") && $0.hasSuffix(".json") }.sorted()
        guard !found.isEmpty else {
            throw FormatError(.cannotRead, file: output, "no part manifests \(stem).part-*-of-*.json in \(folder)")
        }
        let parts = try found.map { name -> (manifest: ShardManifest, path: String) in
            let path = (folder as NSString).appendingPathComponent(name)
            return (try read(path), path)
        }.sorted { $0.manifest.shard < $1.manifest.shard }
        let head = parts[0].manifest
        var next = 0
        for (k, p) in parts.enumerated() {
            let m = p.manifest
            func bad(_ detail: String) -> FormatError { FormatError(.badValue, file: p.path, detail) }
            guard m.shards == head.shards, m.totalRows == head.totalRows, m.dim == head.dim, m.format == head.format,
                  Set((m.texts ?? [:]).keys) == Set((head.texts ?? [:]).keys), m.ids == head.ids else {
                throw bad("part of \(m.shards) with \(m.totalRows) x \(m.dim) \(m.format); \(parts[0].path) says \(head.shards) with \(head.totalRows) x \(head.dim) \(head.format)")
            }
            guard m.shard == k else { throw bad("part \(k) of \(head.shards) is missing (found part \(m.shard) next)") }
            guard m.first == next else { throw bad("starts at row \(m.first); the parts before end at row \(next)") }
            next += m.rows
        }
        guard parts.count == head.shards else {
            throw FormatError(.badValue, file: parts.last!.path, "\(parts.count) of \(head.shards) parts found: part \(parts.count) is missing")
        }
        guard next == head.totalRows else {
            throw FormatError(.badValue, file: parts.last!.path, "the parts hold \(next) rows; the whole has \(head.totalRows)")
        }
        return parts
    }
}
