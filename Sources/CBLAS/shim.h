// CBLAS: the system OpenBLAS (cblas.h) and LAPACKE (lapacke.h) from Debian's libopenblas-dev / liblapacke-dev.
#pragma once
#include <cblas.h>
#include <lapacke.h>
#include <malloc.h>   // mallopt: keep large freed blocks in the heap (see Storage.swift)
// OpenBLAS extension: threads used by BLAS calls (declared by openblas' cblas.h too).
