// UntrustedInputCLITests: the release binary on bad files and values: one line, the right exit code, nothing written.
import Foundation
import Testing
import RecAlignFormats
import RecAlignHeads
import RecAlignTestSupport

/// The `recalign` binary built beside this test bundle, run in the repository root.
enum CLI {
    static let model = TestPaths.modelDir
    static var hasModel: Bool { TestPaths.hasModel }

    /// `$RECALIGN_BIN`, or the binary beside the test bundle (so the suite can also be pointed at an older build).
    static var binary: String {
        if let b = ProcessInfo.processInfo.environment["RECALIGN_BIN"] { return b }
        let exe = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        return exe.deletingLastPathComponent().appendingPathComponent("recalign").path
    }

    struct Result { var status: Int32; var stdout: String; var stderr: String }

    /// Runs the binary with `args` (`stdin` written to its standard input, then closed); `environment` entries are added to this process's environment. `launcher`
    /// (e.g. mpirun and its options) runs the binary under it.
    static func run(_ args: [String], environment: [String: String] = [:], launcher: [String] = [], stdin: String? = nil) throws -> Result {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: launcher.first ?? binary)
        p.arguments = launcher.isEmpty ? args : Array(launcher.dropFirst()) + [binary] + args
        if !environment.isEmpty { p.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
        p.currentDirectoryURL = TestPaths.repoRoot
        let out = Pipe(), err = Pipe()
        p.standardOutput = out; p.standardError = err
        let input = Pipe()
        if stdin != nil { p.standardInput = input }
        try p.run()
        if let stdin {
            input.fileHandleForWriting.write(Data(stdin.utf8))
            try input.fileHandleForWriting.close()
        }
        let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return Result(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
    }

    static func tempDir() throws -> String { TestPaths.tempDir("cli") }

    /// A copy of the reference model folder: every file linked, except those `edit` rewrites.
    static func modelCopy(in dir: String, edit: [String: (Data) throws -> Data]) throws -> String {
        let fm = FileManager.default
        let dst = dir + "/model"
        try fm.createDirectory(atPath: dst, withIntermediateDirectories: true)
        for name in try fm.contentsOfDirectory(atPath: model) {
            let src = model + "/" + name
            if let f = edit[name] { try f(try Data(contentsOf: URL(fileURLWithPath: src))).write(to: URL(fileURLWithPath: dst + "/" + name)) }
            else { try fm.createSymbolicLink(atPath: dst + "/" + name, withDestinationPath: src) }
        }
        return dst
    }

    /// The error line a failed command printed (stderr without progress output).
    static func errorLines(_ r: Result) -> [Substring] { r.stderr.split(separator: "\n").filter { $0.hasPrefix("Error:") } }
}

@Suite(.serialized) struct UntrustedInputCLITests {
    /// Cause 1: token ids outside the embedding table. Before: SIGSEGV (id 99999) or a silent read past the table
    /// with exit 0 (id 30522).
    @Test(.enabled(if: CLI.hasModel), arguments: [30522, 99999])
    func tokenIdOutsideTheEmbeddingTableIsRefused(id: Int) throws {
        let dir = try CLI.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let m = try CLI.modelCopy(in: dir, edit: ["tokenizer.json": { data in
            var root = try JSONSerialization.jsonObject(with: data) as! [String: Any]
            var model = root["model"] as! [String: Any]
            var vocab = model["vocab"] as! [String: Any]
            vocab["hello"] = id
            model["vocab"] = vocab; root["model"] = model
            return try JSONSerialization.data(withJSONObject: root)
        }])
        try "hello world\n".write(toFile: dir + "/in.txt", atomically: true, encoding: .utf8)
        let r = try CLI.run(["encode", "--model", m, "--input", dir + "/in.txt", "--output", dir + "/out.npy"])
        #expect(r.status == 1)
        #expect(CLI.errorLines(r).count == 1)
        #expect(r.stderr.contains("tokenizer.json"))
        #expect(r.stderr.contains(String(id)))
        #expect(!FileManager.default.fileExists(atPath: dir + "/out.npy"))
    }

    /// Cause 2: a NaN in one vocabulary row. Before: NaN embeddings for the texts using that word, exit 0.
    @Test(.enabled(if: CLI.hasModel)) func nonFiniteWeightIsRefusedNamingTheTensor() throws {
        let dir = try CLI.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let name = "embeddings.word_embeddings.weight"
        let info = try SafeTensorsFile(path: CLI.model + "/model.safetensors")
        let base = info.dataOffset + (info.info(name)?.byteRange.lowerBound ?? 0)
        let m = try CLI.modelCopy(in: dir, edit: ["model.safetensors": { data in
            var d = data
            let row = 7592 * 384 * 4   // "hello"
            withUnsafeBytes(of: Float.nan.bitPattern.littleEndian) { d.replaceSubrange((base + row)..<(base + row + 4), with: $0) }
            return d
        }])
        try "hello world\nno such word\n".write(toFile: dir + "/in.txt", atomically: true, encoding: .utf8)
        let r = try CLI.run(["encode", "--model", m, "--input", dir + "/in.txt", "--output", dir + "/out.npy"])
        #expect(r.status == 1)
        #expect(CLI.errorLines(r).count == 1)
        #expect(r.stderr.contains("tensor '\(name)'") && r.stderr.contains("row 7592"))
        #expect(!FileManager.default.fileExists(atPath: dir + "/out.npy"))
    }

    /// Cause 3: CRLF input. Before: the whole file was one text.
    @Test(.enabled(if: CLI.hasModel)) func crlfInputGivesOneTextPerLine() throws {
        let dir = try CLI.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "Toy Story (1995)\r\nHeat (1995)\r\nFargo (1996)\r\n".write(toFile: dir + "/in.txt", atomically: true, encoding: .utf8)
        let r = try CLI.run(["encode", "--input", dir + "/in.txt", "--output", dir + "/out.npy"])
        #expect(r.status == 0)
        #expect(try NpyFile.read(dir + "/out.npy").shape == [3, 384])
        #expect(try IdsFile.read(dir + "/out.npy.ids") == ["0", "1", "2"])
    }

    /// Cause 4: an interaction whose item has no row in the .item file, and a corpus without one. Before: accepted
    /// with empty texts, and --skip-bad-lines neither skipped nor counted them.
    @Test(.enabled(if: CLI.hasModel)) func itemsWithoutTextAreRefusedOrSkipped() throws {
        let dir = try CLI.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let corpus = dir + "/c"
        try FileManager.default.createDirectory(atPath: corpus, withIntermediateDirectories: true)
        var inter = "user_id:token\titem_id:token\ttimestamp:float\n"
        for u in 1...3 { for i in 1...6 { inter += "\(u)\t\(i)\t\(i)\n" } }
        inter += "3\t77\t9\n"   // line 20: item 77 has no row
        try inter.write(toFile: corpus + "/c.inter", atomically: true, encoding: .utf8)
        let items = "item_id:token\tmovie_title:token_seq\n" + (1...6).map { "\($0)\tFilm \($0)\n" }.joined()
        try items.write(toFile: corpus + "/c.item", atomically: true, encoding: .utf8)
        let refused = try CLI.run(["encode", "--corpus", corpus, "--output", dir + "/out.npy"])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("c.inter:20: item '77' has no row in"))
        #expect(!FileManager.default.fileExists(atPath: dir + "/out.npy"))
        let skipped = try CLI.run(["retrieve", "--corpus", corpus, "--skip-bad-lines", "--user", "1", "-k", "2"])
        #expect(skipped.status == 0)
        #expect(skipped.stderr.contains("skipped 1 malformed lines"))
        try FileManager.default.removeItem(atPath: corpus + "/c.item")
        let noItems = try CLI.run(["retrieve", "--corpus", corpus, "--user", "1"])
        #expect(noItems.status == 1)
        #expect(noItems.stderr.contains("no item file") && noItems.stderr.contains("--item-id-as-text"))
        let ids = try CLI.run(["retrieve", "--corpus", corpus, "--user", "1", "-k", "2", "--item-id-as-text"])
        #expect(ids.status == 0)
    }

    /// Cause 5: negative counts. Before: taken as 0.
    @Test func negativeCountsAreRefused() throws {
        for (args, flag) in [(["export", "--candidates=-1", "--out", "/tmp/x"], "--candidates"),
                             (["rerank", "--candidates", "x.jsonl", "--history=-1", "--dry-run", "--out", "/tmp/y"], "--history"),
                             (["evaluate", "--mean-of-last=-2"], "--mean-of-last"),
                             (["retrieve", "--user", "1", "-k", "0"], "-k")] {
            let r = try CLI.run(args)
            #expect(r.status == 64, "\(args)")
            #expect(r.stderr.contains("\(flag) must be at least"), "\(args): \(r.stderr)")
        }
    }

    /// Cause 6: messages that named the wrong problem.
    @Test func messagesNameTheRealProblem() throws {
        let missing = try CLI.run(["encode", "--input", "/nonexistent/texts.txt", "--output", "/tmp/never.npy"])
        #expect(missing.status == 1)
        #expect(CLI.errorLines(missing) == ["Error: /nonexistent/texts.txt: no such file"])
        let noScheme = try CLI.run(["rerank", "--candidates", "x.jsonl", "--server", "127.0.0.1:9", "--model", "m", "--out", "/tmp/y"])
        #expect(noScheme.status == 64)
        #expect(noScheme.stderr.contains("'127.0.0.1:9' is not an http:// or https:// URL"))
    }
}

/// Cause 6: `train --out` at an existing file printed Foundation's NSCocoaErrorDomain dump.
@Test func trainOutAtAFileIsOneLine() throws {
    let dir = try CLI.tempDir()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    try "x".write(toFile: dir + "/file", atomically: true, encoding: .utf8)
    for command in [["train", "--method", "prompt"], ["train-head", "--head", "linear"]] {
        let r = try CLI.run(command + ["--out", dir + "/file"])
        #expect(r.status == 64, "\(command)")
        #expect(CLI.errorLines(r) == ["Error: --out '\(dir)/file' is a file; give a folder" + (command[0] == "train"
            ? " (it receives best/, state/, metrics.jsonl, curve.svg)" : " (it receives head.safetensors, head_config.json, metrics.json)")])
        #expect(!r.stderr.contains("NSCocoaErrorDomain"))
    }
}

/// train-head replaces --out as one folder, so it refuses a folder that holds anything but a head.
@Test func trainHeadRefusesAFolderWithOtherFiles() throws {
    let dir = try CLI.tempDir()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    try "keep me".write(toFile: dir + "/notes.txt", atomically: true, encoding: .utf8)
    let r = try CLI.run(["train-head", "--head", "linear", "--out", dir])
    #expect(r.status == 64)
    #expect(r.stderr.contains("holds other files and no head_config.json"))
    #expect(FileManager.default.fileExists(atPath: dir + "/notes.txt"))
}

/// The bag path belongs to the seq tower: asked of another head, it is refused before anything runs.
@Test func trainHeadRefusesTheBagPathWithoutTheSeqTower() throws {
    let dir = try CLI.tempDir()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let r = try CLI.run(["train-head", "--head", "moe", "--bag", "--out", dir + "/head"])
    #expect(r.status == 64)
    #expect(CLI.errorLines(r) == ["Error: --bag is part of the seq tower: use it with --head seq"])
    #expect(!FileManager.default.fileExists(atPath: dir + "/head"))
}

/// The prior's weight and counts are checked before anything runs, on every command that takes them.
@Test func priorOptionsAreValidated() throws {
    for (args, message) in [(["evaluate", "--prior", "--prior-weight", "0"], "--prior-weight must be a positive number"),
                            (["evaluate", "--prior", "--prior-weight", "nan"], "--prior-weight must be a positive number"),
                            (["export", "--prior", "--prior-recent=-1", "--out", "/tmp/x"], "--prior-recent must be >= 0"),
                            (["train", "--method", "full", "--prior-recent", "3", "--out", "/tmp/x"], "--prior-weight and --prior-recent apply with --prior")] {
        let r = try CLI.run(args)
        #expect(r.status == 64, "\(args)")
        #expect(CLI.errorLines(r) == ["Error: \(message)"], "\(args): \(r.stderr)")
    }
}

/// An explicit transition weight on a catalog too large for the term's n x n table is refused before any encoding
/// or training, naming the corpus and the limit (the default, chosen on validation, goes without the term there).
@Test func trainHeadRefusesATransitionWeightOnALargeCatalog() throws {
    let dir = try CLI.tempDir()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let n = TransitionPrior.maxItems + 1
    var lines: [String] = []
    #expect(n % 5 == 0)
    // Five items a user (the loader keeps users with at least 5): 16,385 = 5 x 3,277.
    for i in 0..<n { lines.append("\(i / 5 + 1)\t\(i + 1)\t4\t\(1000 + i)") }
    try (lines.joined(separator: "\n") + "\n").write(toFile: dir + "/u.data", atomically: true, encoding: .utf8)
    let r = try CLI.run(["train-head", "--corpus", dir, "--item-id-as-text", "--transition-weight", "0.05", "--out", dir + "/head"])
    #expect(r.status == 64)
    #expect(CLI.errorLines(r) == ["Error: --transition-weight 0.05: the term is built for catalogs up to \(TransitionPrior.maxItems) "
                                  + "items; \((dir as NSString).lastPathComponent) has \(n) (leave the option out, or give 0)"])
    #expect(!FileManager.default.fileExists(atPath: dir + "/head"))
}
