// EmbeddingCache: frozen text embeddings of a corpus's items, computed once per (model, texts) and kept as .npy.
import Foundation
import RecAlignModels
import RecAlignFormats
import RecAlignTensor

public enum EmbeddingCache {
    /// FNV-1a 64 of the model folder's real path, its weights' size and modification time, and every text.
    public static func key(modelPath: String, texts: [String]) -> String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        func feed(_ s: String) { for b in s.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }; h = (h ^ 0xff) &* 0x100_0000_01b3 }
        let real = URL(fileURLWithPath: modelPath).resolvingSymlinksInPath().path
        feed(real)
        let attrs = try? FileManager.default.attributesOfItem(atPath: (real as NSString).appendingPathComponent("model.safetensors"))
        feed("\((attrs?[.size] as? NSNumber)?.intValue ?? 0)")
        feed("\((attrs?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0)")
        for t in texts { feed(t) }
        return String(h, radix: 16)
    }

    /// Embeddings [texts.count, dim] row-major: read from `<cacheDir>/<name>-<key>.npy` when present, else
    /// encoded with `SentenceEncoder(path: modelPath)` at `precision` and written there (int8 / bf16 caches
    /// carry the precision in their name). Returns the values, dim, and whether the cache was used.
    public static func embeddings(modelPath: String, texts: [String], cacheDir: String, name: String,
                                  batchSize: Int = 64, precision: Precision = .fp32) throws -> (values: [Float], dim: Int, cached: Bool) {
        let suffix = precision == .fp32 ? "" : "-\(precision.rawValue)"
        let path = (cacheDir as NSString).appendingPathComponent("\(name)-\(key(modelPath: modelPath, texts: texts))\(suffix).npy")
        // Under MPI rank 0's view decides (the ranks may not see one file system alike), the ranks encode their
        // shares, and rank 0 alone writes the cache.
        if Cluster.agree(FileManager.default.fileExists(atPath: path)) {
            let a = try NpyFile.read(path)
            guard let v = a.floats, a.shape.count == 2, a.shape[0] == texts.count, a.shape[1] >= 1 else {
                throw HeadError.badFile(path: path, detail: "expected float32 [\(texts.count), dim], got \(a.dtype) \(a.shape)")
            }
            if let k = VectorScan.firstNonFinite(v) {
                throw HeadError.badFile(path: path, detail: "row \(k / a.shape[1]) holds a non-finite value (delete the file to re-encode)")
            }
            return (v, a.shape[1], true)
        }
        let encoder = try SentenceEncoder(path: modelPath)
        encoder.precision = precision
        let m = encoder.encodeSharded(texts, batchSize: batchSize, result: .everyRank)
        if let k = VectorScan.firstNonFinite(m.values) {
            throw HeadError.badInput("the embedding of item text \(k / m.dim) is not finite: \(texts[k / m.dim].debugDescription)")
        }
        if Cluster.isRoot {
            try FileManager.default.createDirectory(atPath: cacheDir, withIntermediateDirectories: true)
            try NpyFile.write(floats: m.values, shape: [m.rows, m.dim], to: path)
        }
        return (m.values, m.dim, false)
    }
}
