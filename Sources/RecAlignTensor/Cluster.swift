// Cluster: the MPI world of this process (rank, size) and the few collectives data-parallel training and sharding use.
import Foundation
import CMPI

/// The process's place in an MPI job. Without a launcher (no `mpirun`, `srun`) it is rank 0 of 1 and MPI is
/// never initialised, so the binary runs as before; under `mpirun -np N` every rank runs the same command and
/// the commands split their work by `rank`. Collectives are blocking, on MPI_COMM_WORLD, called by every rank
/// in the same order. Counts above Int32.max floats are sent in pieces.
public enum Cluster {
    public private(set) nonisolated(unsafe) static var rank = 0
    public private(set) nonisolated(unsafe) static var size = 1
    /// True once MPI was initialised (launched by an MPI launcher).
    public private(set) nonisolated(unsafe) static var isMPI = false
    /// Bytes this rank contributed to allreduces and all-gathers so far (the benchmarks' per-step traffic).
    public nonisolated(unsafe) static var allReducedBytes = 0
    public nonisolated(unsafe) static var allGatheredBytes = 0

    /// Rank 0 writes files, logs and the progress bar.
    public static var isRoot: Bool { rank == 0 }
    public static var isDistributed: Bool { size > 1 }

    /// True when an MPI launcher started this process (Open MPI's mpirun, or a PMI / PMIx launcher such as srun).
    public static var launchedByMPI: Bool {
        let env = ProcessInfo.processInfo.environment
        return ["OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK"].contains { env[$0] != nil }
    }

    /// Initialises MPI when launched by an MPI launcher (else nothing). With more than one rank per machine the
    /// cores are divided: each rank runs `cores / local ranks` threads (BLAS and the row-parallel loops), or
    /// RECALIGN_THREADS when set. Returns a line describing the layout, or nil when not under MPI.
    @discardableResult
    public static func start() -> String? {
        guard launchedByMPI, !isMPI else { return nil }
        guard ra_mpi_init() == 0 else {
            FileHandle.standardError.write(Data("error: MPI_Init failed (launched by mpirun / srun, but MPI did not start)\n".utf8))
            exit(1)
        }
        isMPI = true
        rank = Int(ra_mpi_rank()); size = Int(ra_mpi_size())
        let env = ProcessInfo.processInfo.environment
        let local = env["OMPI_COMM_WORLD_LOCAL_SIZE"].flatMap { Int($0) } ?? env["SLURM_NTASKS_PER_NODE"].flatMap { Int($0) } ?? 1
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let threads = env["RECALIGN_THREADS"].flatMap { Int($0) } ?? max(1, cores / max(1, local))
        setThreads(threads)
        return "MPI: rank \(rank) of \(size), \(threads) thread\(threads == 1 ? "" : "s") per rank"
    }

    /// Threads of this process: OpenBLAS and the row-parallel loops.
    public static func setThreads(_ n: Int) {
        let n = max(1, min(n, GradBox.maxSlots))
        Parallel.workers = n
        BLAS.threads = n
    }

    /// Finalises MPI (normal exit of every rank).
    public static func finish() {
        guard isMPI, ra_mpi_finalized() == 0 else { return }
        ra_mpi_finalize()
    }

    /// Ends the whole job with `code` (an error on one rank must not leave the others waiting in a collective).
    public static func abort(_ code: Int32) -> Never {
        if isMPI && size > 1 && ra_mpi_finalized() == 0 { ra_mpi_abort(code) }
        finish()
        exit(code)
    }

    static func check(_ rc: Int32, _ what: String) {
        if rc != 0 {
            FileHandle.standardError.write(Data("error: MPI \(what) failed on rank \(rank) (code \(rc))\n".utf8))
            abort(1)
        }
    }

    /// buf[0..<count] = the sum of every rank's buf (in place). No-op on one rank.
    public static func allReduceSum(_ buf: UnsafeMutablePointer<Float>, count: Int) {
        guard size > 1 else { return }
        var done = 0
        while done < count {
            let n = min(count - done, Int(Int32.max))
            check(ra_allreduce_sum_f32(buf + done, Int32(n)), "allreduce")
            done += n
        }
        allReducedBytes += count * 4
    }

    /// The sum over ranks of each value.
    public static func allReduceSum(_ values: [Double]) -> [Double] {
        guard size > 1 else { return values }
        var v = values
        check(v.withUnsafeMutableBufferPointer { ra_allreduce_sum_f64($0.baseAddress!, Int32($0.count)) }, "allreduce")
        return v
    }

    /// Every rank's `local` floats, concatenated in rank order; `counts[r]` is rank r's count (known to all).
    /// Writes into `out` (Σ counts floats).
    public static func allGather(_ local: UnsafePointer<Float>, counts: [Int], into out: UnsafeMutablePointer<Float>) {
        precondition(counts.count == size, "allGather: \(counts.count) counts for \(size) ranks")
        if size == 1 { out.update(from: local, count: counts[0]); return }
        let displs = displacements(counts)
        guard counts.reduce(0, +) <= Int(Int32.max) else {
            FileHandle.standardError.write(Data("error: all-gather of more than 2^31 floats\n".utf8)); abort(1)
        }
        let c32 = counts.map(Int32.init), d32 = displs.map(Int32.init)
        check(ra_allgatherv_f32(local, c32[rank], out, c32, d32), "allgather")
        allGatheredBytes += counts[rank] * 4
    }

    /// Where each rank's block starts in a gathered buffer.
    static func displacements(_ counts: [Int]) -> [Int] {
        var at = 0
        return counts.map { c in defer { at += c }; return at }
    }

    /// Every rank's count (each rank passes its own).
    public static func allGatherCounts(_ mine: Int) -> [Int] {
        guard size > 1 else { return [mine] }
        var out = [Int32](repeating: 0, count: size)
        check(out.withUnsafeMutableBufferPointer { ra_allgather_int(Int32(mine), $0.baseAddress!) }, "allgather")
        return out.map(Int.init)
    }

    /// On rank 0: every rank's `local` floats in rank order; nil on the other ranks.
    public static func gatherToRoot(_ local: [Float]) -> [Float]? {
        guard size > 1 else { return local }
        let counts = allGatherCounts(local.count)
        let displs = displacements(counts)
        var out = [Float](repeating: 0, count: rank == 0 ? counts.reduce(0, +) : 0)
        let c32 = counts.map(Int32.init), d32 = displs.map(Int32.init)
        let rc = local.withUnsafeBufferPointer { l in
            out.withUnsafeMutableBufferPointer { o in ra_gatherv_f32(l.baseAddress, Int32(l.count), o.baseAddress, c32, d32, 0) }
        }
        check(rc, "gather")
        return rank == 0 ? out : nil
    }

    /// Rank 0's value of `flag` on every rank (decisions that must agree: early stopping, a new best).
    public static func agree(_ flag: Bool) -> Bool {
        guard size > 1 else { return flag }
        var b: UInt8 = flag ? 1 : 0
        check(ra_bcast_bytes(&b, 1, 0), "broadcast")
        return b != 0
    }
}
