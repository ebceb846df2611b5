// swift-tools-version:6.0
// RecAlign: realign BERT-style text encoders to recommendation data, in pure Swift over OpenBLAS.
// Targets are layers; an import only goes down a layer (see README.md, "Layer map").
import PackageDescription

// Release builds: whole-module optimisation and AVX2/FMA code (every x86-64 host since 2013; the project's
// machines are Zen 3 / Zen 4) so element-wise loops vectorise. Bounds and overflow checks stay on (-O) in every
// target that reads files or parses text, so a bug there traps instead of reading past a buffer; only the
// numeric code (tensors, layers, BERT, training and heads), whose loops index buffers sized at their entry, drops
// them (-Ounchecked: 7% of encode throughput, docs/ROBUSTNESS.md).
let checked: [SwiftSetting] = [.unsafeFlags(["-O", "-wmo", "-target-cpu", "haswell"], .when(configuration: .release))]
let fast: [SwiftSetting] = [.unsafeFlags(["-Ounchecked", "-wmo", "-target-cpu", "haswell"], .when(configuration: .release))]

let package = Package(
    name: "RecAlign",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "recalign", targets: ["recalign"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.100.0"),
    ],
    targets: [
        // Layer 0: system BLAS / LAPACK.
        .systemLibrary(name: "CBLAS", path: "Sources/CBLAS"),
        // Layer 0: system oneDNN (int8 / bf16 inference kernels, chosen per CPU at run time).
        .systemLibrary(name: "CDNNL", path: "Sources/CDNNL"),
        // Layer 0: system MPI (Debian's Open MPI): data-parallel training and sharding under mpirun / srun.
        .systemLibrary(name: "CMPI", path: "Sources/CMPI", pkgConfig: "ompi-c"),
        // Layer 0: AVX2 loops that quantize activations for (and dequantize results of) oneDNN's int8 matmul.
        .target(name: "CQuantize", path: "Sources/CQuantize",
                cSettings: [.unsafeFlags(["-O3", "-mavx2", "-mfma"])]),
        // Layer 1: tensors, kernels, reverse-mode autograd.
        .target(name: "RecAlignTensor", dependencies: ["CBLAS", "CDNNL", "CQuantize", "CMPI"], swiftSettings: fast),
        // Layer 2: modules, parameters, layers, optimizers, schedules.
        .target(name: "RecAlignNN", dependencies: ["RecAlignTensor"], swiftSettings: fast),
        // Layer 3: file formats (safetensors, HF / sentence-transformers configs, .npy, .fvecs) and tokenizer.
        .target(name: "RecAlignFormats", dependencies: [], swiftSettings: checked),
        .target(name: "RecAlignTokenizer", dependencies: [], swiftSettings: checked),
        // Layer 4: BERT encoder, pooling, tuning methods, weight mapping.
        .target(name: "RecAlignModels",
                dependencies: ["RecAlignNN", "RecAlignFormats", "RecAlignTokenizer"], swiftSettings: fast),
        // Layer 5: corpora, splits, text templates, training pairs.
        .target(name: "RecAlignData", dependencies: ["RecAlignTokenizer", "RecAlignFormats"], swiftSettings: checked),
        // Layer 5: rank metrics and the candidates.jsonl schema (no BERT, no BLAS: the reranker's view).
        .target(name: "RecAlignMetrics", dependencies: ["RecAlignFormats", "RecAlignData"], swiftSettings: checked),
        // Layer 6: retrieval, evaluation, export; training; heads on frozen embeddings.
        .target(name: "RecAlignRetrieval",
                dependencies: ["RecAlignTensor", "RecAlignData", "RecAlignFormats", "RecAlignMetrics", "RecAlignModels"],
                swiftSettings: checked),
        .target(name: "RecAlignTraining",
                dependencies: ["RecAlignModels", "RecAlignData", "RecAlignRetrieval"], swiftSettings: fast),
        .target(name: "RecAlignHeads",
                dependencies: ["RecAlignNN", "RecAlignTensor", "RecAlignModels", "RecAlignFormats", "RecAlignData",
                               "RecAlignMetrics"],
                swiftSettings: fast),
        // Layer 7: what a model path holds (model folder, adapter, head) and its rows, for every command that reads one.
        .target(name: "RecAlignSources",
                dependencies: ["RecAlignModels", "RecAlignHeads", "RecAlignRetrieval", "RecAlignData", "RecAlignMetrics"],
                swiftSettings: checked),
        // Layer 7: generative reranker (prompts, OpenAI-compatible client, parser).
        .target(name: "RecAlignRerank",
                dependencies: ["RecAlignMetrics", "RecAlignData", "RecAlignFormats",
                               .product(name: "AsyncHTTPClient", package: "async-http-client"),
                               .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOHTTP1", package: "swift-nio")],
                swiftSettings: checked),
        // Layer 8: the CLI.
        .executableTarget(name: "recalign",
                          dependencies: ["RecAlignTraining", "RecAlignHeads", "RecAlignSources", "RecAlignRerank",
                                         .product(name: "ArgumentParser", package: "swift-argument-parser")],
                          swiftSettings: checked),
        // Benchmarks (release build): `swift run -c release CoreBench`.
        .executableTarget(name: "CoreBench", dependencies: ["RecAlignNN"], path: "Benchmarks/CoreBench",
                          swiftSettings: fast),
        .executableTarget(name: "TopKBench", dependencies: ["RecAlignRetrieval"], path: "Benchmarks/TopKBench",
                          swiftSettings: fast),
        // RecAlign's side of the peer benchmarks (Scripts/bench_encode.py, bench_train_step.py, bench_interleaved.py):
        // `swift build -c release --product EncodeBench` / `--product TrainBench`. Not part of the shipped CLI.
        .target(name: "BenchSupport", dependencies: ["CBLAS", "RecAlignTensor"],
                path: "Benchmarks/BenchSupport", swiftSettings: fast),
        .executableTarget(name: "EncodeBench",
                          dependencies: ["BenchSupport", "CBLAS", "RecAlignTensor", "RecAlignNN", "RecAlignModels", "RecAlignRetrieval",
                                         .product(name: "ArgumentParser", package: "swift-argument-parser")],
                          path: "Benchmarks/EncodeBench", swiftSettings: fast),
        .executableTarget(name: "TrainBench",
                          dependencies: ["BenchSupport", "CBLAS", "RecAlignTensor", "RecAlignNN", "RecAlignModels", "RecAlignTraining",
                                         .product(name: "ArgumentParser", package: "swift-argument-parser")],
                          path: "Benchmarks/TrainBench", swiftSettings: fast),
        // Tests: the repository paths and scratch folders they share, then one test target per target.
        .target(name: "RecAlignTestSupport", path: "Tests/RecAlignTestSupport"),
        .testTarget(name: "RecAlignTensorTests", dependencies: ["RecAlignNN"]),
        .testTarget(name: "RecAlignFormatsTests", dependencies: ["RecAlignFormats", "RecAlignTestSupport"]),
        .testTarget(name: "RecAlignTokenizerTests", dependencies: ["RecAlignTokenizer", "RecAlignTestSupport"]),
        .testTarget(name: "RecAlignModelsTests", dependencies: ["RecAlignModels", "RecAlignTestSupport"]),
        .testTarget(name: "RecAlignDataTests", dependencies: ["RecAlignData", "RecAlignTestSupport"]),
        .testTarget(name: "RecAlignRetrievalTests", dependencies: ["RecAlignRetrieval", "RecAlignTestSupport"]),
        .testTarget(name: "RecAlignRerankTests", dependencies: ["RecAlignRerank", "RecAlignTestSupport"]),
        .testTarget(name: "RecAlignHeadsTests", dependencies: ["RecAlignHeads", "RecAlignMetrics"]),
        .testTarget(name: "RecAlignSourcesTests", dependencies: ["RecAlignSources", "RecAlignTestSupport"]),
        .testTarget(name: "RecAlignTrainingTests", dependencies: ["RecAlignTraining", "RecAlignHeads", "RecAlignTestSupport"]),
        // The shipped binary run as a user would (exit codes, one-line errors, nothing half-written).
        .testTarget(name: "RecAlignCLITests", dependencies: ["recalign", "RecAlignFormats", "RecAlignHeads", "RecAlignTestSupport"]),
    ],
    swiftLanguageModes: [.v5]
)
