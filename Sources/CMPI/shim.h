// CMPI: the few MPI calls RecAlign makes, as plain C functions over MPI_COMM_WORLD (Open MPI's handles are
// macros Swift cannot import). Counts are ints, as in MPI-3.
#pragma once
#include <mpi.h>

/// MPI_Init_thread(SERIALIZED): one thread at a time calls MPI (async commands may move threads). Returns the MPI error code.
static inline int ra_mpi_init(void) {
    int provided = 0;
    return MPI_Init_thread(NULL, NULL, MPI_THREAD_SERIALIZED, &provided);
}
static inline int ra_mpi_finalized(void) { int f = 0; MPI_Finalized(&f); return f; }
static inline int ra_mpi_finalize(void) { return MPI_Finalize(); }
static inline void ra_mpi_abort(int code) { MPI_Abort(MPI_COMM_WORLD, code); }
static inline int ra_mpi_rank(void) { int r = 0; MPI_Comm_rank(MPI_COMM_WORLD, &r); return r; }
static inline int ra_mpi_size(void) { int s = 1; MPI_Comm_size(MPI_COMM_WORLD, &s); return s; }

/// buf[0..<count] = the sum over ranks of every rank's buf (in place).
static inline int ra_allreduce_sum_f32(float *buf, int count) {
    return MPI_Allreduce(MPI_IN_PLACE, buf, count, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
}
/// buf[0..<count] = the sum over ranks (doubles, in place).
static inline int ra_allreduce_sum_f64(double *buf, int count) {
    return MPI_Allreduce(MPI_IN_PLACE, buf, count, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
}
/// recv = every rank's send, rank r's `counts[r]` floats at `displs[r]`.
static inline int ra_allgatherv_f32(const float *send, int count, float *recv, const int *counts, const int *displs) {
    return MPI_Allgatherv(send, count, MPI_FLOAT, recv, counts, displs, MPI_FLOAT, MPI_COMM_WORLD);
}
/// On `root`: recv = every rank's send (`counts[r]` floats at `displs[r]`); recv is ignored elsewhere.
static inline int ra_gatherv_f32(const float *send, int count, float *recv, const int *counts, const int *displs, int root) {
    return MPI_Gatherv(send, count, MPI_FLOAT, recv, counts, displs, MPI_FLOAT, root, MPI_COMM_WORLD);
}
/// Every rank's int into `recv[size]` (on every rank).
static inline int ra_allgather_int(int value, int *recv) {
    return MPI_Allgather(&value, 1, MPI_INT, recv, 1, MPI_INT, MPI_COMM_WORLD);
}
/// buf = root's buf, `count` bytes.
static inline int ra_bcast_bytes(void *buf, int count, int root) {
    return MPI_Bcast(buf, count, MPI_BYTE, root, MPI_COMM_WORLD);
}
