// MergeCommand: `recalign merge` — joins the parts `encode --shard i/n` wrote into the one matrix and ids file.
import ArgumentParser
import Foundation
import RecAlignFormats

/// Reads a rows x dim float matrix in `format`, checked against the rows and width its manifest promises.
func readMatrix(_ path: String, format: MatrixFormat, rows: Int, dim: Int) throws -> [Float] {
    let values: [Float], shape: [Int]
    switch format {
    case .npy:
        let a = try NpyFile.read(path)
        guard let f = a.floats else { throw FormatError(.unsupported, file: path, "holds \(a.dtype), not float32") }
        values = f; shape = a.shape
    case .fvecs:
        let m = try VecsFile.readFvecs(path)
        values = m.values; shape = [m.rows, m.dim]
    case .safetensors:
        let f = try SafeTensorsFile(path: path)
        guard let info = f.info("embeddings") else { throw FormatError(.malformedFile, file: path, field: "embeddings", "no tensor 'embeddings'") }
        values = try f.floats("embeddings"); shape = info.shape
    }
    // An empty fvecs part has no record to carry its width.
    guard shape.first == rows && (rows == 0 || shape.dropFirst().reduce(1, *) == dim) else {
        throw FormatError(.badValue, file: path, field: "shape", "is \(shape); the manifest says \(rows) x \(dim)")
    }
    return values
}

struct Merge: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Join the parts of `encode --shard i/n` or `export --shard i/n` into the whole.",
        discussion: """
        Finds OUTPUT's part manifests (emb.npy -> emb.part-*-of-*.json beside it), checks that every part is \
        present once and that their rows cover the whole in order, then writes OUTPUT and OUTPUT.ids as one \
        unsharded `encode` would. Nothing is written when a part is missing or disagrees. For `export --shard`, \
        give OUT/users.npy (or .fvecs, .safetensors): the user tower and candidates.jsonl are joined.
        """)

    @Option(help: "The whole's path, as given to `encode --shard i/n --output`.") var output: String
    @Flag(help: "Delete the part files after a successful merge.") var removeParts = false

    func run() throws {
        let parts = try ShardManifest.collect(output: output)
        let head = parts[0].manifest
        guard let format = MatrixFormat(rawValue: head.format) else { throw CommandFailure("\(parts[0].path): unknown format \(head.format)") }
        var values: [Float] = []
        values.reserveCapacity(head.totalRows * head.dim)
        var ids: [String] = []
        var files: [String] = []
        for (m, path) in parts {
            let matrix = ((path as NSString).deletingLastPathComponent as NSString).appendingPathComponent(m.matrix)
            values += try readMatrix(matrix, format: format, rows: m.rows, dim: m.dim)
            let partIds = try IdsFile.read(matrix + ".ids")
            guard partIds.count == m.rows else {
                throw FormatError(.badValue, file: matrix + ".ids", "holds \(partIds.count) ids; the manifest says \(m.rows) rows")
            }
            ids += partIds
            files += [matrix, matrix + ".ids", path]
        }
        // Text parts (export's candidates.jsonl), concatenated in part order.
        var texts: [(String, Data)] = []
        for name in (head.texts ?? [:]).keys.sorted() {
            var whole = Data()
            for (m, path) in parts {
                let part = ((path as NSString).deletingLastPathComponent as NSString).appendingPathComponent(m.texts![name]!)
                guard let d = FileManager.default.contents(atPath: part) else { throw FormatError(.cannotRead, file: part, "cannot read the part") }
                whole += d
                files.append(part)
            }
            texts.append((((output as NSString).deletingLastPathComponent as NSString).appendingPathComponent(name), whole))
        }
        try writeMatrix(values, rows: head.totalRows, dim: head.dim, format: format, to: output)
        let idsPath = head.ids.map { ((output as NSString).deletingLastPathComponent as NSString).appendingPathComponent($0) } ?? output + ".ids"
        try IdsFile.write(ids, to: idsPath)
        for (path, data) in texts { try AtomicFile.write(data, to: path) }
        if removeParts { for f in files { try? FileManager.default.removeItem(atPath: f) } }
        note("merged \(parts.count) parts: \(head.totalRows) x \(head.dim) to \(output) (\(format.rawValue)) and \(idsPath)"
             + texts.map { ", \($0.0)" }.joined())
    }
}
