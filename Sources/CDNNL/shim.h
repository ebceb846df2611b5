// CDNNL: the system oneDNN (Debian's libdnnl-dev, OpenMP runtime) for int8 and bf16 matrix products.
#pragma once
#include <oneapi/dnnl/dnnl.h>

// libgomp: oneDNN's threads. RecAlign splits rows over the cores itself, so every call runs on one thread.
void omp_set_num_threads(int n);

// DNNL_ARG_* and DNNL_MEMORY_NONE are macros Swift cannot import.
static inline int recalign_dnnl_arg_src(void) { return DNNL_ARG_SRC; }
static inline int recalign_dnnl_arg_weights(void) { return DNNL_ARG_WEIGHTS; }
static inline int recalign_dnnl_arg_dst(void) { return DNNL_ARG_DST; }
static inline int recalign_dnnl_arg_scratchpad(void) { return DNNL_ARG_SCRATCHPAD; }
static inline int recalign_dnnl_arg_from(void) { return DNNL_ARG_FROM; }
static inline int recalign_dnnl_arg_to(void) { return DNNL_ARG_TO; }
