#!/usr/bin/env bash
# The checks a machine with an NVIDIA GPU runs as they are, in one call of under ten minutes, from the repository
# root after the README's setup (a venv with the CUDA build of torch==2.13.0):
#   bash scripts/gpu_check.sh [PYTHON]
# Each step prints what it expects; the script ends with a summary and exits non-zero if a step failed.
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${1:-.venv/bin/python}
[[ -x $PY ]] || PY=python
export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH}
status=0
step() {  # step NAME EXPECTED COMMAND...
  local name=$1 expected=$2; shift 2
  echo "=== $name"
  echo "    expected: $expected"
  local start=$SECONDS
  if "$@"; then echo "=== $name: ok ($((SECONDS - start)) s)"; else echo "=== $name: FAILED ($((SECONDS - start)) s)"; status=1; fi
}

step "device" "torch's CUDA build sees the GPU; its name, capability and bfloat16 support are printed" \
  "$PY" -c 'import torch; assert torch.cuda.is_available(), "no CUDA GPU: " + torch.__version__; d = torch.device("cuda"); print(torch.__version__, torch.version.cuda, torch.cuda.get_device_name(d), torch.cuda.get_device_capability(d), "native bf16:", torch.cuda.is_bf16_supported(including_emulation=False))'
step "training tests on the GPU" "all pass: resume after a kill (SIGSTOP at the first checkpoint), a pack of one bit for bit, packs equal to seeds alone, compiled and CUDA-graph steps equal to eager (deterministic cuDNN)" \
  timeout 280 "$PY" -m pytest -q -x --device cuda tests/test_training.py tests/test_pack.py tests/test_fast_step.py
step "no host synchronisation in a step" "every line says 'no host synchronisation' (cell and pack; β-VAE, FactorVAE, AnnealedVAE)" \
  timeout 60 "$PY" scripts/sync_check.py
step "benchmark with packs" "a table of steps/s per variant; the GPU rows (packs of 10, CUDA graphs, 3 at once) with no FAILED row" \
  timeout 150 "$PY" scripts/bench.py --device cuda --pack 10 --steps 10 --rounds 2 --warmup 5
step "precision" "bfloat16 and tf32 curves within a few seed standard deviations of float32 (a printed table)" \
  timeout 90 "$PY" scripts/compare_precision.py --device cuda --grid 3 6 10 16 16 --steps 300 --log-every 50 --other tf32
echo "gpu_check: $([[ $status == 0 ]] && echo 'every step ok' || echo 'a step FAILED (above)')"
exit $status
