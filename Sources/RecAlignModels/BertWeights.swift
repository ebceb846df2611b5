// BertWeights: the one place where Hugging Face weight names meet the Swift modules (load and save).
import Foundation
import RecAlignNN
import RecAlignFormats

/// Errors of loading weights into a model.
public enum WeightLoadError: Error, CustomStringConvertible {
    case mismatch(file: String, missing: [String], unexpected: [String], wrongShape: [String])

    public var description: String {
        switch self {
        case let .mismatch(file, missing, unexpected, wrongShape):
            var parts: [String] = []
            if !missing.isEmpty { parts.append("missing keys: \(missing.joined(separator: ", "))") }
            if !unexpected.isEmpty { parts.append("unexpected keys: \(unexpected.joined(separator: ", "))") }
            if !wrongShape.isEmpty { parts.append("wrong shapes: \(wrongShape.joined(separator: "; "))") }
            return "\(file): weights do not fit the model: " + parts.joined(separator: "; ")
        }
    }
}

/// Loading and saving BERT weights by HF name.
///
/// Module property paths are the HF names (`encoder.layer.0.attention.self.query.weight`). Names in a
/// file are canonicalised first: a `bert.` prefix is dropped and the old LayerNorm names `gamma` / `beta`
/// become `weight` / `bias`. The pooler (`pooler.*`, unused by sentence embeddings) and the
/// `embeddings.position_ids` buffer are ignored and reported. Anything else missing or left over is an
/// error that lists every key.
public enum BertWeights {
    /// Keys a file may carry that the encoder does not use.
    static func isIgnorable(_ name: String) -> Bool {
        name.hasPrefix("pooler.") || name == "embeddings.position_ids"
    }

    /// HF file name -> module path.
    public static func canonical(_ fileName: String) -> String {
        var n = fileName
        if n.hasPrefix("bert.") { n.removeFirst(5) }
        if n.hasSuffix(".gamma") { n = String(n.dropLast(6)) + ".weight" }
        if n.hasSuffix(".beta") { n = String(n.dropLast(5)) + ".bias" }
        return n
    }

    /// Copies every parameter of `model` (a model without adapters: load before attaching them) from `file`;
    /// returns the names that were ignored.
    @discardableResult
    public static func load(_ model: Module, from file: SafeTensorsFile) throws -> [String] {
        var byName: [String: String] = [:]
        for n in file.names { byName[canonical(n)] = n }
        var missing: [String] = [], wrongShape: [String] = [], used = Set<String>()
        for (name, t) in model.namedParameters() {
            guard let fileName = byName[name], let info = file.info(fileName) else { missing.append(name); continue }
            used.insert(fileName)
            guard info.shape.reduce(1, *) == t.count, info.shape == t.shape || info.shape.filter({ $0 != 1 }) == t.shape.filter({ $0 != 1 }) else {
                wrongShape.append("\(name) is \(info.shape) in the file, the model needs \(t.shape)")
                continue
            }
            try file.copyFloats(fileName, into: t.buffer)
        }
        let ignored = file.names.filter { !used.contains($0) && isIgnorable(canonical($0)) }
        let unexpected = file.names.filter { !used.contains($0) && !isIgnorable(canonical($0)) }
        if !missing.isEmpty || !unexpected.isEmpty || !wrongShape.isEmpty {
            throw WeightLoadError.mismatch(file: file.path, missing: missing, unexpected: unexpected, wrongShape: wrongShape)
        }
        return ignored
    }

    /// The pooler's tensors in `file` (`pooler.dense.weight` / `.bias`, under their canonical names, widened to
    /// Float32). Sentence embeddings never use them, but a saved folder keeps them so that transformers'
    /// `BertModel` loads it back with no missing keys (and no freshly initialised pooler).
    public static func poolerTensors(in file: SafeTensorsFile) throws -> [(name: String, shape: [Int], values: [Float])] {
        try file.names.filter { canonical($0).hasPrefix("pooler.") }.map { n in
            (canonical(n), try file.requireInfo(n).shape, try file.floats(n))
        }
    }

    /// Writes every parameter under its HF name (no prefix), as transformers' BertModel saves them.
    public static func save(_ model: Module, to path: String) throws {
        var w = SafeTensorsWriter()
        for (name, t) in model.namedParameters() {
            try w.add(name, shape: t.shape, buffer: UnsafeBufferPointer(t.buffer))
        }
        try w.write(to: path)
    }
}
