#!/usr/bin/env bash
# The checks of a machine with an NVIDIA GPU, in two calls of under five minutes each, from the repository root:
#   bash scripts/gpu_check.sh --part tests [--device cuda] [PYTHON] [-- PYTEST-ARGS]
#       the training, pack, fast-step and divergence tests on the GPU, and a check that a step never waits for it
#   bash scripts/gpu_check.sh --part bench [--device cuda] [PYTHON]
#       what config/thesis.yaml's grid costs on this GPU: steps/s of each precision and pack size, the GPU-hours of a
#       cell and of the grid, and the resources.train.runtime_minutes to ask for (scripts/cost.py)
# PYTHON: the interpreter that has PyTorch with CUDA (default: python3 on PATH; e.g. .venv/bin/python). It needs
# numpy, pandas, scipy, h5py, pyyaml and pytest; tqdm, jsonschema and Snakemake are not needed. --device cpu runs what
# a machine without a GPU can (the tests on the CPU; the cost at a smoke size). Each step says what it expects; the
# script ends with a summary and exits non-zero if a step failed.
set -uo pipefail
cd "$(dirname "$0")/.."
part="" device=cuda python=python3 pytest_args=()
while (($#)); do
  case $1 in
    --part) part=$2; shift 2 ;;
    --device) device=$2; shift 2 ;;
    --) shift; pytest_args=("$@"); break ;;
    -h | --help) sed -n 2,11p "$0"; exit 0 ;;
    *) python=$1; shift ;;
  esac
done
PY=$(command -v "$python") || { echo "gpu_check: no Python '$python' here"; exit 2; }
export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH} PYTHONUNBUFFERED=1
status=0
step() { # step NAME EXPECTED COMMAND...
  local name=$1 expected=$2
  shift 2
  echo "=== $name"
  echo "    expected: $expected"
  local start=$SECONDS
  if "$@"; then echo "=== $name: ok ($((SECONDS - start)) s)"; else echo "=== $name: FAILED ($((SECONDS - start)) s)"; status=1; fi
}

case $part in
  tests)
    if [[ $device == cuda ]]; then
      step "device" "torch's CUDA build sees the GPU; its name, capability and bfloat16 support are printed" \
        "$PY" -c 'import torch; assert torch.cuda.is_available(), "no CUDA GPU: " + torch.__version__; d = torch.device("cuda"); print(torch.__version__, torch.version.cuda, torch.cuda.get_device_name(d), torch.cuda.get_device_capability(d), "native bf16:", torch.cuda.is_bf16_supported(including_emulation=False))'
    fi
    step "training tests on $device" "all pass (each failure is listed): resume after a kill, a pack of one bit for bit, packs equal to seeds alone, compiled steps equal to eager, divergence and interruption in one line" \
      timeout 200 "$PY" -m pytest -q -p no:cacheprovider --device "$device" tests/test_training.py tests/test_pack.py tests/test_fast_step.py tests/test_divergence.py "${pytest_args[@]}"
    if [[ $device == cuda ]]; then
      step "no host synchronisation in a step" "every line says 'no host synchronisation' (cell and pack of each model)" \
        timeout 60 "$PY" scripts/sync_check.py
    fi
    ;;
  bench)
    if [[ $device == cuda ]]; then
      step "the cost of config/thesis.yaml's grid" "a row per variant as it finishes, then the fastest pack size per precision with its GPU-hours and runtime_minutes" \
        timeout 240 "$PY" scripts/cost.py --device cuda --config config/thesis.yaml --packs 1 10 --precisions float32 tf32 bfloat16 --steps 40 --warmup 10
    else
      step "the cost of config/tiny.yaml's grid on the CPU (a smoke test)" "a row per variant, then the fastest per precision" \
        timeout 240 "$PY" scripts/cost.py --device cpu --config config/tiny.yaml --packs 1 2 --precisions float32 --steps 3 --warmup 1 --images 4096
    fi
    ;;
  *)
    echo "usage: bash scripts/gpu_check.sh --part tests|bench [--device cuda|cpu] [PYTHON] [-- PYTEST-ARGS]" >&2
    exit 2
    ;;
esac
echo "gpu_check --part $part: $([[ $status == 0 ]] && echo 'every step ok' || echo 'a step FAILED (above)')"
exit $status
