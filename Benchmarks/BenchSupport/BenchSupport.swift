// BenchSupport: what the benchmark programs share (stderr notes, peak RSS, which CPU path runs).
import Foundation
import CBLAS
import RecAlignTensor

/// Writes a line to stderr (messages that must not mix with data on stdout).
public func note(_ s: String) { if Cluster.isRoot { FileHandle.standardError.write(Data((s + "\n").utf8)) } }

/// Peak resident set size of this process in MB (VmHWM), or 0 where /proc is absent.
public func peakRSSMegabytes() -> Double {
    guard let s = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
          let line = s.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }) else { return 0 }
    let kb = Double(line.split(separator: " ").dropFirst().first.map(String.init) ?? "0") ?? 0
    return kb / 1024
}

/// Which CPU path runs the products (stderr): OpenBLAS's core, and whether weights are prepacked for its kernel.
public func noteCPUPath(_ tool: String) {
    let core = openblas_get_corename().map { String(cString: $0) } ?? "unknown"
    let path: String
    if let k = OpenBLASKernels.shared {
        path = "prepacked weights on OpenBLAS's sgemm_kernel_\(k.core.uppercased())"
    } else if ProcessInfo.processInfo.environment["RECALIGN_OPENBLAS_KERNELS"] == "0" {
        path = "plain cblas_sgemm (RECALIGN_OPENBLAS_KERNELS=0)"
    } else {
        path = "plain cblas_sgemm (OpenBLAS kernel symbols unavailable or failed the check)"
    }
    note("\(tool): OpenBLAS core \(core), \(BLAS.threads) BLAS threads, \(Parallel.workers) workers; \(path)")
}
