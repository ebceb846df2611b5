// AtomicFolder: a folder replaced as a whole, so a reader or a run after a kill finds the old or the new one, never neither.
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Folder-level atomic replace (checkpoints `best/` and `state/`, a saved head or model) and the clean-up of what a
/// killed writer left behind.
///
/// `replace` fills `<dir>.tmp-<pid>`, flushes it to disk, then swaps it with `<dir>` in one `renameat2(2)`
/// `RENAME_EXCHANGE` (Linux; elsewhere `<dir>` goes to `<dir>.old-<pid>` first and `recover` undoes a kill between
/// the two renames), and finally deletes the old copy. At every instant `<dir>` is a complete folder or, before
/// the first save, absent. `cleanStale` removes the `.tmp-` / `.old-` siblings of processes that no longer run,
/// and `AtomicFile`'s hidden `.NAME.tmp-<pid>-<n>` files they left.
public enum AtomicFolder {
    /// Replaces (or creates) `dir` with what `body` writes into the temporary folder it is given. If `body`
    /// throws, `dir` is untouched and the temporary folder is removed.
    public static func replace(_ dir: String, _ body: (String) throws -> Void) throws {
        let fm = FileManager.default
        let tmp = dir + ".tmp-\(getpid())"
        try? fm.removeItem(atPath: tmp)
        do {
            try fm.createDirectory(atPath: tmp, withIntermediateDirectories: true)
            try body(tmp)
            try syncTree(tmp)
        } catch {
            try? fm.removeItem(atPath: tmp)
            throw error
        }
        let parent = (dir as NSString).deletingLastPathComponent
        if fm.fileExists(atPath: dir) {
            if exchange(tmp, dir) {
                syncFolder(parent)
                try? fm.removeItem(atPath: tmp)   // now the old folder
                return
            }
            let old = dir + ".old-\(getpid())"
            try? fm.removeItem(atPath: old)
            try move(dir, to: old)
            try move(tmp, to: dir)
            syncFolder(parent)
            try? fm.removeItem(atPath: old)
        } else {
            try move(tmp, to: dir)
            syncFolder(parent)
        }
    }

    /// In `parent`: restores `<name>` from a dead process's `<name>.old-<pid>` when `<name>` is missing (a kill
    /// between the fallback's two renames), then deletes every `<name>.tmp-<pid>` and `<name>.old-<pid>` whose
    /// process is gone, and every `AtomicFile` temporary `.<name>.tmp-<pid>-<n>` of a dead process (a kill
    /// between its write and its rename). Returns the names removed. What live processes (another run) are
    /// writing is left alone.
    @discardableResult
    public static func cleanStale(in parent: String) -> [String] {
        let fm = FileManager.default
        guard let names = try? fm.contentsOfDirectory(atPath: parent) else { return [] }
        var removed: [String] = []
        for name in names.sorted() {
            guard let (base, kind, pid) = parse(name), !isAlive(pid) else { continue }
            let path = (parent as NSString).appendingPathComponent(name)
            let target = (parent as NSString).appendingPathComponent(base)
            if kind == "old" && !fm.fileExists(atPath: target) && (try? fm.moveItem(atPath: path, toPath: target)) != nil { continue }
            if (try? fm.removeItem(atPath: path)) != nil { removed.append(name) }
        }
        return removed
    }

    /// `(base, "tmp" | "old", pid)` of a name `base.tmp-<pid>` / `base.old-<pid>`, or `(base, "file", pid)` of
    /// an `AtomicFile` temporary `.base.tmp-<pid>-<n>`.
    static func parse(_ name: String) -> (String, String, pid_t)? {
        func number(_ s: Substring) -> Bool { !s.isEmpty && s.allSatisfy { $0.isASCII && $0.isNumber } }
        if name.hasPrefix("."), let r = name.range(of: ".tmp-", options: .backwards) {
            let parts = name[r.upperBound...].split(separator: "-", omittingEmptySubsequences: false)
            if parts.count == 2, number(parts[0]), number(parts[1]), UInt32(parts[1]) != nil,
               let pid = pid_t(parts[0]), pid > 0, r.lowerBound > name.index(after: name.startIndex) {
                return (String(name[name.index(after: name.startIndex)..<r.lowerBound]), "file", pid)
            }
        }
        for kind in ["tmp", "old"] {
            guard let r = name.range(of: ".\(kind)-", options: .backwards) else { continue }
            let digits = name[r.upperBound...]
            guard !digits.isEmpty, digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber), let pid = pid_t(digits), pid > 0 else { continue }
            return (String(name[..<r.lowerBound]), kind, pid)
        }
        return nil
    }

    /// True unless `kill(pid, 0)` says there is no such process.
    static func isAlive(_ pid: pid_t) -> Bool { pid == getpid() || kill(pid, 0) == 0 || errno != ESRCH }

    /// Swaps two paths atomically (Linux renameat2 RENAME_EXCHANGE); false where unsupported.
    static func exchange(_ a: String, _ b: String) -> Bool {
        #if os(Linux)
        return renameat2(AT_FDCWD, a, AT_FDCWD, b, 2 /* RENAME_EXCHANGE */) == 0
        #else
        return false
        #endif
    }

    static func move(_ from: String, to: String) throws {
        guard rename(from, to) == 0 else {
            throw AtomicFileError.writeFailed(path: to, reason: "cannot rename \(from): \(String(cString: strerror(errno)))")
        }
    }

    /// fsync of every file below `dir` and of the folders themselves (the data is on disk before the swap).
    static func syncTree(_ dir: String) throws {
        let fm = FileManager.default
        for name in try fm.subpathsOfDirectory(atPath: dir) {
            let path = (dir as NSString).appendingPathComponent(name)
            let fd = open(path, O_RDONLY)
            if fd >= 0 { fsync(fd); close(fd) }
        }
        syncFolder(dir)
    }

    static func syncFolder(_ dir: String) {
        let fd = open(dir.isEmpty ? "." : dir, O_RDONLY | O_DIRECTORY)
        if fd >= 0 { fsync(fd); close(fd) }
    }
}

#if os(Linux)
/// glibc's renameat2 (Swift's Glibc module does not declare it).
@_silgen_name("renameat2")
private func renameat2(_ olddirfd: Int32, _ oldpath: UnsafePointer<CChar>, _ newdirfd: Int32,
                       _ newpath: UnsafePointer<CChar>, _ flags: UInt32) -> Int32
#endif
