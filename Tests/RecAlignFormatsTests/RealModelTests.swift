// RealModelTests: the downloaded all-MiniLM-L6-v2 folder (skipped when absent): folder, weights, tensor inventory.
import Foundation
import Testing
import RecAlignFormats
import RecAlignTestSupport

/// The model folder: $RECALIGN_MINILM_DIR, else <repo>/checkpoints/all-MiniLM-L6-v2.
let miniLMDir: String = {
    if let e = ProcessInfo.processInfo.environment["RECALIGN_MINILM_DIR"], !e.isEmpty { return e }
    return TestPaths.modelDir
}()
let miniLMPresent = FileManager.default.fileExists(atPath: (miniLMDir as NSString).appendingPathComponent("model.safetensors"))

@Suite(.enabled(if: miniLMPresent, "all-MiniLM-L6-v2 not downloaded (set RECALIGN_MINILM_DIR)"))
struct RealModelTests {
    @Test func folderAndWeights() throws {
        let folder = try SentenceTransformerFolder.load(miniLMDir)
        #expect(folder.config.hiddenSize == 384 && folder.maxSeqLength == 256 && folder.normalize)
        let st = try SafeTensorsFile(path: try #require(folder.weightsPath))
        let c = folder.config
        let h = c.hiddenSize, i = c.intermediateSize
        // BERT parameter inventory computed from the config (+ the I64 position_ids buffer).
        let embeddings = (c.vocabSize + c.maxPositionEmbeddings + c.typeVocabSize) * h + 2 * h
        let layer = 4 * (h * h + h) + 2 * 2 * h + (h * i + i) + (i * h + h)
        let pooler = h * h + h
        let total = embeddings + c.numHiddenLayers * layer + pooler + c.maxPositionEmbeddings
        #expect(st.names.reduce(0) { $0 + st.info($1)!.count } == total)
        #expect(st.names.count == 5 + 16 * c.numHiddenLayers + 2 + 1)
        #expect(st.info("embeddings.word_embeddings.weight")?.shape == [c.vocabSize, h])
        #expect(try st.int64s("embeddings.position_ids") == (0 ..< 512).map(Int64.init))
        var nonFinite = 0
        for name in st.names where st.info(name)!.dtype.isFloatingPoint {
            nonFinite += try st.floats(name).filter { !$0.isFinite }.count
        }
        #expect(nonFinite == 0)
        let gamma = try st.floats("encoder.layer.0.attention.output.LayerNorm.weight")
        #expect(gamma.count == h && gamma.allSatisfy { $0 > 0 && $0 < 10 })
    }
}
