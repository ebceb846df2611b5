// EncodeCommand: `recalign encode` — texts in, an embedding matrix (.npy / .fvecs / .safetensors) plus ids out.
import ArgumentParser
import Foundation
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

    func validate() throws {
        if (input == nil) == (corpus == nil) { throw ValidationError("give exactly one of --input FILE and --corpus DIR") }
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
        let (ids, texts) = try readTexts()
        let fmt = format ?? MatrixFormat(rawValue: (output as NSString).pathExtension.lowercased()) ?? .npy
        let encoder = modelOptions.prepared(try SentenceEncoder(path: modelOptions.model, maxLength: modelOptions.maxLength))
        if let adapter { try loadAdapter(adapter, into: encoder) }
        let bar = ProgressBar("encode", total: texts.count, unit: "texts")
        let m = encoder.encode(texts, batchSize: modelOptions.batchSize) { done, _ in bar.update(done) }
        try requireFinite(m.values, dim: m.dim, what: "embeddings") { r in corpus == nil && !tsv ? "line \(r + 1)" : "id \(ids[r])" }
        try writeMatrix(m.values, rows: m.rows, dim: m.dim, format: fmt, to: output)
        try IdsFile.write(ids, to: output + ".ids")
        note("wrote \(m.rows) x \(m.dim) to \(output) (\(fmt.rawValue)) and \(output).ids; \(m.truncated) of \(m.rows) texts were longer than \(encoder.maxLength) tokens and were cut")
    }
}
