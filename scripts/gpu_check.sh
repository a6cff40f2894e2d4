#!/usr/bin/env bash
# Issue #14's checks on a GPU machine (an H200 with PyTorch and timm, no Debian packages), over
# the bundle that scripts/gpu_bundle.sh built elsewhere. Run from the repository root there:
#   scripts/gpu_check.sh [BUNDLE [OUTDIR]]          (defaults: .gpu and $OUT)
# Steps, each logged to OUTDIR/<n>-<step>.log, with a one-line result in OUTDIR/summary.txt:
#   1 machine    nvidia-smi, formwork --version, which cuBLAS was found
#   2 sweep      every op forward and backward on the GPU against the CPU kernels, and whole
#                templates through the CUDA executor against the CPU executor (FP32)
#   3 tf32       the op sweep again with TF32 matrix products, at its looser tolerance
#   4 timm       timm's poolformer_s12, caformer_s18 and convformer_s18 (seeded) loaded from
#                their state_dicts: formwork's logits (cuda and cpu) against timm's; Grad-CAM,
#                attention and the proxies on the GPU against the CPU (tests/gpu/timm_check.py)
#   5 bench      formwork bench --device cuda against PyTorch eager on the same GPU, batch 1 and
#                64, inference and a training step (tests/gpu/bench_gpu.py)
#   6 bandwidth  the memory-bound kernels' achieved bandwidth (formwork_bench_cuda)
# FORMWORK_GPU_STEPS="1 2 4" runs only those steps (the device tool allows 10 minutes a call: the
# timeouts below add up to more, so a first call may run 1-4 and a second 5-6).
# Exit status: the number of failed steps (0: all passed).
set -u
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bundle=$(cd "${1:-$root/.gpu}" && pwd)
outdir=${2:-${OUT:-$root/gpu-out}}
mkdir -p "$outdir"
summary=$outdir/summary.txt
: >"$summary"
export PYTHONUNBUFFERED=1
# cuBLAS: the CUDA toolkit's, or the one PyTorch's wheels carry.
cublas=""
for d in /usr/local/cuda/lib64 /usr/local/cuda/targets/x86_64-linux/lib \
  $(python3 -c 'import nvidia.cublas, os; print(os.path.join(os.path.dirname(nvidia.cublas.__file__), "lib"))' 2>/dev/null); do
  if [ -e "$d/libcublas.so.13" ]; then cublas=$d; break; fi
done
# For the bundle's programs only (their wrappers read it): Python keeps its own libraries.
export FORMWORK_CUBLAS_DIR=$cublas
fw=$bundle/formwork
failed=0
step() {  # step N NAME TIMEOUT COMMAND...
  local n=$1 name=$2 limit=$3
  shift 3
  case " ${FORMWORK_GPU_STEPS:-1 2 3 4 5 6} " in *" $n "*) ;; *) return 0 ;; esac
  local log=$outdir/$n-$name.log t0=$SECONDS
  timeout "$limit" "$@" >"$log" 2>&1
  local rc=$?
  local line="step $n $name: $([ $rc -eq 0 ] && echo passed || echo "FAILED (exit $rc)") in $((SECONDS - t0)) s"
  echo "$line" | tee -a "$summary"
  [ $rc -eq 0 ] || failed=$((failed + 1))
  tail -n 25 "$log"
}
# Step 1 fails when formwork sees no usable GPU (the later steps would only report SKIP).
step 1 machine 30 bash -c "nvidia-smi; echo 'cuBLAS from: ${cublas:-not found}'; '$fw' --version &&
  ! '$fw' --version | grep -Eq 'CUDA: (off|unavailable)'"
step 2 sweep 150 "$bundle/formwork_device_tests" --gtest_filter='*Cuda*' --gtest_brief=1
step 3 tf32 60 env FORMWORK_TEST_TF32=1 "$bundle/formwork_device_tests" \
  --gtest_filter='*DeviceOpCuda*' --gtest_brief=1
step 4 timm 240 python3 "$root/tests/gpu/timm_check.py" --formwork "$fw" --work /tmp/fw-timm
step 5 bench 300 python3 "$root/tests/gpu/bench_gpu.py" --formwork "$fw" \
  --json "$outdir/bench.json"
step 6 bandwidth 60 "$bundle/formwork_bench_cuda"
echo "gpu_check: $failed step(s) failed" | tee -a "$summary"
exit $failed
