// MPICLITests: two MPI ranks against one process — the same weights after training, the same files after sharding.
import Foundation
import Testing
import RecAlignFormats
import RecAlignTestSupport

/// `mpirun -np 2` over the release binary (CI installs Open MPI). Dropout is 0 so that one process and two ranks
/// draw nothing at random that could differ; the batch is the same global batch, split by rows over the ranks.
@Suite(.serialized, .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/mpirun") && CLI.hasModel))
struct MPICLITests {
    /// Runs the binary under `mpirun -np ranks`.
    func mpirun(_ args: [String], ranks: Int = 2) throws -> CLI.Result {
        try CLI.run(args, launcher: ["/usr/bin/mpirun", "--allow-run-as-root", "--oversubscribe", "-np", "\(ranks)"])
    }

    /// ‖a − b‖ / ‖a‖ over every tensor of two safetensors files (same names), and the worst single tensor
    /// among those `perTensor` accepts.
    func relativeDifference(_ a: String, _ b: String, perTensor: (String) -> Bool = { _ in true }) throws -> (global: Double, worst: Double, worstName: String) {
        let fa = try SafeTensorsFile(path: a), fb = try SafeTensorsFile(path: b)
        #expect(fa.names.sorted() == fb.names.sorted())
        var num = 0.0, den = 0.0, worst = 0.0, worstName = ""
        for name in fa.names {
            let x = try fa.floats(name), y = try fb.floats(name)
            var d = 0.0, n = 0.0
            for i in x.indices { d += Double(x[i] - y[i]) * Double(x[i] - y[i]); n += Double(x[i]) * Double(x[i]) }
            num += d; den += n
            let r = (d / max(n, 1e-30)).squareRoot()
            if perTensor(name) && r > worst { worst = r; worstName = name }
        }
        return ((num / max(den, 1e-30)).squareRoot(), worst, worstName)
    }

    /// Training losses of a run's metrics.jsonl, in step order.
    func losses(_ dir: String) throws -> [Double] {
        try String(contentsOfFile: dir + "/metrics.jsonl", encoding: .utf8).split(separator: "\n").compactMap { line in
            guard let o = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], o["kind"] as? String == "train" else { return nil }
            return o["loss"] as? Double
        }
    }

    @Test(arguments: ["full", "lora"]) func encoderTrainingOnTwoRanksEqualsOneProcess(method: String) throws {
        let dir = try CLI.tempDir()
        // ml-tiny: 106 pairs, batches of 8, 2 epochs = 28 steps; MNRL's negatives are the whole batch on both.
        let args = ["train", "--model", CLI.model, "--corpus", TestPaths.corpusFixture("ml-tiny"), "--method", method,
                    "--batch-size", "8", "--epochs", "2", "--dropout", "0"]
        // --test: every rank scores the best checkpoint (the encoding is sharded), rank 0 prints.
        let one = try CLI.run(args + ["--out", dir + "/one", "--test"])
        let two = try mpirun(args + ["--out", dir + "/two", "--test"])
        #expect(one.status == 0 && two.status == 0, "\(one.stderr)\n\(two.stderr)")
        #expect(two.stderr.contains("MPI: rank 1 of 2") && two.stderr.contains("all-gathered"), "\(two.stderr)")
        let testLine = { (s: String) in s.split(separator: "\n").first { $0.contains("on warm test") }.map(String.init) }
        #expect(testLine(one.stdout) != nil && testLine(one.stdout) == testLine(two.stdout), "\(one.stdout)\n\(two.stdout)")
        let (l1, l2) = (try losses(dir + "/one"), try losses(dir + "/two"))
        #expect(l1.count == 28 && l2.count == 28)
        for (a, b) in zip(l1, l2) { #expect(abs(a - b) <= 1e-5 * abs(a), "loss \(a) vs \(b)") }
        // The final weights and AdamW moments (state/), not the best checkpoint.
        let d = try relativeDifference(dir + "/one/state/state.safetensors", dir + "/two/state/state.safetensors")
        #expect(d.global <= 1e-5 && d.worst <= 1e-5, "\(d)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/two/state.tmp"), "rank 1 writes nothing")
    }

    /// Started on two ranks, stopped by the time budget after its first step, finished by one process: the same
    /// final state as one process throughout (the state holds the weights, AdamW's moments, the step, the rng).
    @Test func aRunResumesAtAnotherRankCount() throws {
        let dir = try CLI.tempDir()
        let args = ["train", "--model", CLI.model, "--corpus", TestPaths.corpusFixture("ml-tiny"), "--method", "lora",
                    "--batch-size", "8", "--epochs", "2", "--dropout", "0"]
        let whole = try CLI.run(args + ["--out", dir + "/whole"])
        let start = try mpirun(args + ["--out", dir + "/split", "--max-minutes", "0.000001"])
        #expect(whole.status == 0 && start.status == 0, "\(whole.stderr)\n\(start.stderr)")
        #expect(start.stderr.contains("time budget after 1 steps"), "\(start.stderr)")
        let rest = try CLI.run(args + ["--out", dir + "/split", "--resume", dir + "/split/state"])
        #expect(rest.status == 0, "\(rest.stderr)")
        #expect(try losses(dir + "/split").count == 28)
        let d = try relativeDifference(dir + "/whole/state/state.safetensors", dir + "/split/state/state.safetensors")
        #expect(d.global <= 1e-5 && d.worst <= 1e-5, "\(d)")
    }

    @Test(.enabled(if: TestPaths.hasML100K)) func headTrainingOnTwoRanksEqualsOneProcess() throws {
        let dir = try CLI.tempDir()
        // ml-100k, the sequential tower over text + item IDs, full softmax: one epoch of 20 batches of 122 windows.
        let args = ["train-head", "--model", CLI.model, "--corpus", TestPaths.ml100k, "--head", "seq", "--items", "text+id",
                    "--dropout", "0", "--epochs", "1", "--batch-size", "122", "--cache-dir", dir + "/cache"]
        let one = try CLI.run(args + ["--out", dir + "/one"])
        let two = try mpirun(args + ["--out", dir + "/two"])
        #expect(one.status == 0 && two.status == 0, "\(one.stderr)\n\(two.stderr)")
        #expect(one.stdout.contains("20 steps") && two.stdout.contains("20 steps"), "\(one.stdout)")
        let epoch = { (s: String) in s.split(separator: "\n").first { $0.hasPrefix("epoch") }.map(String.init) ?? "" }
        #expect(!epoch(one.stdout).isEmpty && epoch(one.stdout).prefix(22) == epoch(two.stdout).prefix(22), "\(one.stdout)\n\(two.stdout)")
        // A key projection's bias cannot change attention (softmax is shift-invariant): its gradient is rounding
        // noise that AdamW scales to full steps, so it is left out of the per-tensor check (not of the global one).
        let d = try relativeDifference(dir + "/one/head.safetensors", dir + "/two/head.safetensors") { !$0.hasSuffix("key.bias") }
        #expect(d.global <= 1e-5 && d.worst <= 1e-4, "\(d)")
    }

    @Test func shardedEncodeExportAndEvaluateMatchOneProcess() throws {
        let dir = try CLI.tempDir()
        let tiny = TestPaths.corpusFixture("ml-tiny")
        for (tag, run) in [("one", { try CLI.run($0) }), ("two", { try mpirun($0) })] as [(String, ([String]) throws -> CLI.Result)] {
            let r1 = try run(["encode", "--model", CLI.model, "--corpus", tiny, "--output", "\(dir)/\(tag).npy"])
            let r2 = try run(["export", "--model", CLI.model, "--corpus", tiny, "--candidates", "10", "--out", "\(dir)/\(tag)-export"])
            let r3 = try run(["evaluate", "--model", CLI.model, "--corpus", tiny, "--out", "\(dir)/\(tag)-eval"])
            #expect(r1.status == 0 && r2.status == 0 && r3.status == 0, "\(r1.stderr)\(r2.stderr)\(r3.stderr)")
        }
        let a = try NpyFile.read(dir + "/one.npy"), b = try NpyFile.read(dir + "/two.npy")
        #expect(a.shape == b.shape)
        #expect(zip(a.floats!, b.floats!).allSatisfy { abs($0 - $1) <= 1e-6 })
        #expect(try String(contentsOfFile: dir + "/one.npy.ids", encoding: .utf8) == String(contentsOfFile: dir + "/two.npy.ids", encoding: .utf8))
        let ids = { (path: String) -> [[String]] in
            try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map { line in
                let o = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
                return (o?["candidates"] as? [[String: Any]] ?? []).map { "\($0["item_id"] ?? "")" }
            }
        }
        #expect(try ids(dir + "/one-export/candidates.jsonl") == ids(dir + "/two-export/candidates.jsonl"))
        // The catalog split instead of the users: each rank's top 10 of its half, merged.
        let items = try mpirun(["export", "--model", CLI.model, "--corpus", tiny, "--candidates", "10", "--shard-items",
                                "--out", dir + "/items-export"])
        #expect(items.status == 0, "\(items.stderr)")
        #expect(try ids(dir + "/one-export/candidates.jsonl") == ids(dir + "/items-export/candidates.jsonl"))
        #expect(try String(contentsOfFile: dir + "/one-eval/ranks.tsv", encoding: .utf8)
                == String(contentsOfFile: dir + "/two-eval/ranks.tsv", encoding: .utf8))
    }

    @Test func shardPartsMergeIntoTheWholeAndAMissingPartIsRefused() throws {
        let dir = try CLI.tempDir()
        let tiny = TestPaths.corpusFixture("ml-tiny")
        #expect(try CLI.run(["encode", "--model", CLI.model, "--corpus", tiny, "--output", dir + "/whole.npy"]).status == 0)
        for i in 0..<3 {
            let r = try CLI.run(["encode", "--model", CLI.model, "--corpus", tiny, "--output", dir + "/items.npy", "--shard", "\(i)/3"])
            #expect(r.status == 0, "\(r.stderr)")
        }
        let m = try CLI.run(["merge", "--output", dir + "/items.npy"])
        #expect(m.status == 0, "\(m.stderr)")
        let a = try NpyFile.read(dir + "/whole.npy"), b = try NpyFile.read(dir + "/items.npy")
        #expect(a.shape == b.shape && zip(a.floats!, b.floats!).allSatisfy { abs($0 - $1) <= 1e-6 })
        #expect(try IdsFile.read(dir + "/whole.npy.ids") == IdsFile.read(dir + "/items.npy.ids"))
        // Part 1 lost: merge names the gap and writes nothing.
        try FileManager.default.removeItem(atPath: dir + "/items.part-00001-of-00003.json")
        let bad = try CLI.run(["merge", "--output", dir + "/again.npy"])
        #expect(bad.status != 0)
        let again = try CLI.run(["merge", "--output", dir + "/items.npy"])
        #expect(again.status != 0 && again.stderr.contains("part 1 of 3 is missing"), "\(again.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/again.npy"))
        let r = try CLI.run(["encode", "--model", CLI.model, "--corpus", tiny, "--output", dir + "/x.npy", "--shard", "3/3"])
        #expect(r.status != 0 && r.stderr.contains("--shard"), "\(r.stderr)")
    }

    @Test func exportPartsMergeIntoOneExport() throws {
        let dir = try CLI.tempDir()
        let tiny = TestPaths.corpusFixture("ml-tiny")
        let args = ["export", "--model", CLI.model, "--corpus", tiny, "--candidates", "5"]
        #expect(try CLI.run(args + ["--out", dir + "/whole"]).status == 0)
        for i in 0..<2 {
            let r = try CLI.run(args + ["--out", dir + "/parts", "--shard", "\(i)/2"])
            #expect(r.status == 0, "\(r.stderr)")
        }
        let m = try CLI.run(["merge", "--output", dir + "/parts/users.npy"])
        #expect(m.status == 0, "\(m.stderr)")
        let a = try NpyFile.read(dir + "/whole/users.npy"), b = try NpyFile.read(dir + "/parts/users.npy")
        #expect(a.shape == b.shape && zip(a.floats!, b.floats!).allSatisfy { abs($0 - $1) <= 1e-6 })
        for name in ["users.ids", "items.ids", "items.npy"] {
            #expect(FileManager.default.contents(atPath: dir + "/whole/" + name) == FileManager.default.contents(atPath: dir + "/parts/" + name), "\(name)")
        }
        let ids = { (path: String) -> [String] in
            try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map { line in
                let o = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
                return "\(o?["user_id"] ?? ""):" + (o?["candidates"] as? [[String: Any]] ?? []).map { "\($0["item_id"] ?? "")" }.joined(separator: ",")
            }
        }
        #expect(try ids(dir + "/whole/candidates.jsonl") == ids(dir + "/parts/candidates.jsonl"))
    }
}
