// ProgressBar: a one-line terminal progress bar on stderr (count, rate, ETA and free-form fields).
import Foundation
import RecAlignTensor

/// Redraws `label [#####.....] done/total  rate/s  ETA  extra` on stderr, at most ~10 times a second.
final class ProgressBar {
    let label: String, total: Int, unit: String
    let start = Date()
    var last = Date.distantPast
    let isTTY = isatty(fileno(stderr)) != 0

    init(_ label: String, total: Int, unit: String = "items") { self.label = label; self.total = total; self.unit = unit }

    func update(_ done: Int, extra: String = "", force: Bool = false) {
        guard Cluster.isRoot else { return }
        let now = Date()
        guard force || done >= total || now.timeIntervalSince(last) > (isTTY ? 0.1 : 5) else { return }
        last = now
        let elapsed = now.timeIntervalSince(start)
        let rate = elapsed > 0 ? Double(done) / elapsed : 0
        let eta = rate > 0 ? Double(total - done) / rate : 0
        let width = 28, filled = total > 0 ? min(width, width * done / total) : width
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        let line = String(format: "%@ [%@] %d/%d  %.1f %@/s  ETA %@  %@", label, bar, done, total, rate, unit,
                          ProgressBar.clock(eta), extra)
        FileHandle.standardError.write(Data(((isTTY ? "\r\u{1B}[K" : "") + line + (isTTY ? "" : "\n")).utf8))
        if done >= total && isTTY { FileHandle.standardError.write(Data("\n".utf8)) }
    }

    static func clock(_ s: Double) -> String {
        let t = Int(s.rounded())
        return t >= 3600 ? String(format: "%d:%02d:%02d", t / 3600, t / 60 % 60, t % 60) : String(format: "%d:%02d", t / 60, t % 60)
    }
}

/// Writes a line to stderr (messages that must not mix with data on stdout); under MPI only rank 0 speaks.
func note(_ s: String) { if Cluster.isRoot { noteEveryRank(s) } }

/// Writes a line to stderr on every rank.
func noteEveryRank(_ s: String) { FileHandle.standardError.write(Data((s + "\n").utf8)) }

/// Peak resident set size of this process in MB (VmHWM), or 0 where /proc is absent.
func peakRSSMegabytes() -> Double {
    guard let s = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
          let line = s.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }) else { return 0 }
    let kb = Double(line.split(separator: " ").dropFirst().first.map(String.init) ?? "0") ?? 0
    return kb / 1024
}
