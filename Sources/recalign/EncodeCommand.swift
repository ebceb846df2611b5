// EncodeCommand: `recalign encode` — texts in, an embedding matrix (.npy / .fvecs / .safetensors) plus ids out.
import ArgumentParser
import Foundation
import RecAlignTensor
import RecAlignFormats
import RecAlignModels
import RecAlignRetrieval

/// Output formats of an embedding matrix.
enum MatrixFormat: String, ExpressibleByArgument, CaseIterable {
    case npy, fvecs, safetensors
}

/// Writes rows x dim floats in `format` (atomically) to `path`.
func writeMatrix(_ values: [Float], rows: Int, dim: Int, format: MatrixFormat, to path: String) throws {
    switch format {
    case .npy: try NpyFile.write(floats: values, shape: [rows, dim], to: path)
    case .fvecs: try VecsFile.writeFvecs(values, rows: rows, dim: dim, to: path)
    case .safetensors:
        var w = SafeTensorsWriter()
        try w.add("embeddings", shape: [rows, dim], floats: values)
        try w.write(to: path)
    }
}

struct Encode: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Encode texts (one per line) into sentence embeddings.",
        discussion: "Writes the matrix (row i = line i) and an ids file next to it (<output>.ids, one id per line: the line's first tab-separated field with --tsv, else its 0-based line number).")

    @OptionGroup var modelOptions: ModelOptions

    @Option(help: "Adapter folder applied to --model: one `recalign train` wrote, or a PEFT adapter of a type RecAlign reads.")
    var adapter: String?

    @Option(help: "Text file, one text per line (UTF-8).")
    var input: String?

    @Option(help: "Encode a corpus's item texts instead (RecBole / MovieLens folder or .jsonl); ids are item ids.")
    var corpus: String?

    @Flag(help: "Input lines are 'id<TAB>text'.")
    var tsv = false

    @Option(help: "Output file (.npy, .fvecs or .safetensors).")
    var output: String

    @Option(help: "Output format: npy, fvecs, safetensors (default: from the output's extension).")
    var format: MatrixFormat?

    @Option(help: "Encode only part i of n (0-based; contiguous rows): writes OUTPUT's part file, ids and manifest for `recalign merge` (a Slurm array or a Kubernetes Indexed Job, no MPI).")
    var shard: String?

    func validate() throws {
        if (input == nil) == (corpus == nil) { throw ValidationError("give exactly one of --input FILE and --corpus DIR") }
        if let shard { _ = try ShardPart.parse(shard) }
    }

    /// (ids, texts) from the input file or the corpus's item texts.
    func readTexts() throws -> ([String], [String]) {
        if let corpus {
            let c = try PreparedCorpus.load(path: corpus)
            return (c.split.itemIds, c.itemTexts)
        }
        return try TextsFile.read(input!, tsv: tsv)
    }

    func run() throws {
        var (ids, texts) = try readTexts()
        let fmt = format ?? MatrixFormat(rawValue: (output as NSString).pathExtension.lowercased()) ?? .npy
        let part = try ShardPart(shard, total: texts.count)
        if let part { ids = Array(ids[part.rows]); texts = Array(texts[part.rows]) }
        let encoder = modelOptions.prepared(try SentenceEncoder(path: modelOptions.model, maxLength: modelOptions.maxLength))
        if let adapter { try loadAdapter(adapter, into: encoder) }
        let bar = ProgressBar("encode", total: texts.count, unit: "texts")
        // Under MPI every rank encodes its share of the texts and rank 0 writes the one file.
        let m = encoder.encodeSharded(texts, batchSize: modelOptions.batchSize, result: .root) { done, _ in bar.update(done) }
        guard Cluster.isRoot else { return }
        let first = part?.rows.lowerBound ?? 0
        try requireFinite(m.values, dim: m.dim, what: "embeddings") { r in corpus == nil && !tsv ? "line \(first + r + 1)" : "id \(ids[r])" }
        if let part {
            // The manifest comes last: a part without one is unfinished and `merge` refuses it.
            let paths = ShardManifest.partPaths(output: output, shard: part.index, shards: part.count)
            try writeMatrix(m.values, rows: m.rows, dim: m.dim, format: fmt, to: paths.matrix)
            try IdsFile.write(ids, to: paths.matrix + ".ids")
            try ShardManifest(shard: part.index, shards: part.count, first: first, rows: m.rows, totalRows: part.total, dim: m.dim,
                              format: fmt.rawValue, matrix: (paths.matrix as NSString).lastPathComponent).write(to: paths.manifest)
            note("wrote part \(part.index) of \(part.count), rows \(first)..<\(first + m.rows) of \(part.total), to \(paths.matrix) and \(paths.manifest)")
            return
        }
        try writeMatrix(m.values, rows: m.rows, dim: m.dim, format: fmt, to: output)
        try IdsFile.write(ids, to: output + ".ids")
        note("wrote \(m.rows) x \(m.dim) to \(output) (\(fmt.rawValue)) and \(output).ids; \(m.truncated) of \(m.rows) texts were longer than \(encoder.maxLength) tokens and were cut")
    }
}
