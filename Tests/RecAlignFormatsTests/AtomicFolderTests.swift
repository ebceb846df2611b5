// AtomicFolderTests: a folder is replaced whole or not at all, and what a killed writer left is cleaned or restored.
import Foundation
import Testing
@testable import RecAlignFormats

@Suite struct AtomicFolderTests {
    /// A pid that no process has (the highest the kernel hands out is far below it).
    static let deadPID = 4_000_000

    func write(_ text: String, _ path: String) throws {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try text.write(toFile: path, atomically: false, encoding: .utf8)
    }

    func read(_ path: String) -> String? { try? String(contentsOfFile: path, encoding: .utf8) }

    @Test func replaceSwapsTheWholeFolderAndLeavesNoTemporary() throws {
        let dir = try scratchDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let best = dir + "/best"
        try AtomicFolder.replace(best) { try write("v1", $0 + "/w"); try write("c1", $0 + "/sub/c") }
        try AtomicFolder.replace(best) { try write("v2", $0 + "/w") }
        #expect(read(best + "/w") == "v2")
        #expect(!FileManager.default.fileExists(atPath: best + "/sub"))   // the old folder's files went with it
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["best"])
    }

    /// A failed write (a full disk, a bad tensor) leaves the old folder as it was and no temporary folder: before,
    /// `best.tmp-PID/` stayed behind.
    @Test func aThrowingBodyLeavesTheOldFolderIntact() throws {
        let dir = try scratchDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try AtomicFolder.replace(dir + "/state") { try write("old", $0 + "/state.json") }
        struct DiskFull: Error {}
        #expect(throws: DiskFull.self) {
            try AtomicFolder.replace(dir + "/state") { try write("half", $0 + "/state.json"); throw DiskFull() }
        }
        #expect(read(dir + "/state/state.json") == "old")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["state"])
    }

    /// What a run killed at each point of a replace leaves, and what the next start makes of it.
    @Test func staleFoldersOfDeadRunsAreRemovedAndAMovedAsideFolderIsRestored() throws {
        let dir = try scratchDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let dead = Self.deadPID, me = getpid()
        try write("half", dir + "/best.tmp-\(dead)/model.safetensors")         // killed while writing best/
        try write("old", dir + "/state.old-\(dead)/state.json")                // killed between the two renames: no state/
        try write("mine", dir + "/best.tmp-\(me)/x")                           // a live writer's folder
        try write("kept", dir + "/best/x")
        try write("other", dir + "/notes.tmp-abc/x")                           // not ours
        let removed = AtomicFolder.cleanStale(in: dir)
        #expect(removed == ["best.tmp-\(dead)"])
        #expect(read(dir + "/state/state.json") == "old")
        #expect(read(dir + "/best.tmp-\(me)/x") == "mine")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).sorted() == ["best", "best.tmp-\(me)", "notes.tmp-abc", "state"])
        // With state/ present, a dead run's moved-aside copy is only removed.
        try write("older", dir + "/state.old-\(dead)/state.json")
        #expect(AtomicFolder.cleanStale(in: dir) == ["state.old-\(dead)"])
        #expect(read(dir + "/state/state.json") == "old")
    }

    @Test func atomicFileTemporariesOfDeadRunsAreRemoved() throws {
        let dir = try scratchDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let me = getpid()
        try write("half", dir + "/.metrics.jsonl.tmp-\(Self.deadPID)-12345")   // a kill between write and rename
        try write("live", dir + "/.metrics.jsonl.tmp-\(me)-7")                // this process is still writing it
        try write("keep", dir + "/metrics.jsonl")
        try AtomicFile.write("new", to: dir + "/curve.svg")
        #expect(AtomicFolder.cleanStale(in: dir) == [".metrics.jsonl.tmp-\(Self.deadPID)-12345"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).sorted()
                == [".metrics.jsonl.tmp-\(me)-7", "curve.svg", "metrics.jsonl"])
        #expect(read(dir + "/curve.svg") == "new")
    }

    @Test func namesParse() {
        #expect(AtomicFolder.parse(".x.json.tmp-123-4294967295")! == ("x.json", "file", 123))
        #expect(AtomicFolder.parse(".x.json.tmp-123-")?.1 != "file" && AtomicFolder.parse("x.json.tmp-123-9") == nil)
        #expect(AtomicFolder.parse("best.tmp-123")! == ("best", "tmp", 123))
        #expect(AtomicFolder.parse("a.b.old-7")! == ("a.b", "old", 7))
        #expect(AtomicFolder.parse("best.tmp-") == nil && AtomicFolder.parse("best.tmp-12x") == nil && AtomicFolder.parse("best") == nil)
    }
}
