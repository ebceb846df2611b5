#!/usr/bin/env bash
# One-time set-up on a fresh Debian machine: OpenBLAS + LAPACKE + oneDNN + Open MPI, the reference model, ml-100k, a release build of the CLI.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if ! [ -f /usr/include/lapacke.h ] || ! ldconfig -p | grep -q libopenblas || ! [ -f /usr/include/oneapi/dnnl/dnnl.h ] || ! command -v mpirun >/dev/null || ! pkg-config --exists ompi-c; then
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq libopenblas-dev liblapacke-dev libdnnl-dev openmpi-bin libopenmpi-dev
fi
bash checkpoints/fetch_model.sh
bash corpora/fetch_ml100k.sh
swift build -c release --product recalign
