#!/usr/bin/env bash
# Sourced by scripts/test.sh --isa avx2 (or by hand: `source scripts/isa-cap.sh avx2`):
# makes every compute library in the process behave as on an AVX2-only CPU
# (an AMD Zen 3, say) on a machine that has AVX-512, so a suite run here shows
# what such a machine computes.
#
#   ATen (libtorch's own CPU kernels)  ATEN_CPU_CAPABILITY=avx2
#   oneDNN (bf16 matmuls, convolutions) ONEDNN_MAX_CPU_ISA=AVX2 (DNNL_ for older names)
#   OpenBLAS (float32 GEMMs)            OPENBLAS_CORETYPE=Haswell: the kernels Zen 3 runs
#
#   our own kernels (src/ops)          ONEDNN_MAX_CPU_ISA too: kernel_isa() picks
#                                      their AVX2 row functions under the cap
case "${1:-}" in
  avx2)
    export ATEN_CPU_CAPABILITY=avx2
    export ONEDNN_MAX_CPU_ISA=AVX2 DNNL_MAX_CPU_ISA=AVX2
    export OPENBLAS_CORETYPE=Haswell
    ;;
  native | "")
    unset ATEN_CPU_CAPABILITY ONEDNN_MAX_CPU_ISA DNNL_MAX_CPU_ISA
    ;;
  *)
    echo "isa-cap.sh: expected 'avx2' or 'native', got '$1'" >&2
    return 2 2>/dev/null || exit 2
    ;;
esac
