#!/usr/bin/env bash
# One call on a GPU machine (../shared/GPU.md): builds the shim against the machine's PyTorch,
# checks the torch engine on CUDA against the CPU, times `405m` (neox, seq 2048, bf16) in cpt and
# in PyTorch (eager and torch.compile) on the same GPU, trains a short run through `cpt train
# --engine torch --device cuda`, and prints a table last. Logs and JSON go to $OUT (or
# bench/gpu/out). Prepare here with bench/gpu/pack.sh and carry .gpu/ (see bench/gpu/README.md).
#
# Settings (environment): MODEL=405m BATCH=32x2048 MICROS="8" (micro-batch sizes) ROUNDS=2
#                         KERNELS="auto eager" (cpt's --kernels settings timed each round)
#                         WARMUP=10 STEPS=90 PYTHON=python3
#                         SKIP_COMPILE=1 to leave torch.compile out, SKIP_TRAIN=1 the cpt train run,
#                         SKIP_DISTRIBUTED=1 the multi-rank stage (NCCL at world size 1, two ranks over Gloo).
set -uo pipefail
cd "$(dirname "$0")/../.."
out="${OUT:-bench/gpu/out}"
mkdir -p "$out"
KERNELS="${KERNELS:-auto eager}"
MODEL="${MODEL:-405m}" BATCH="${BATCH:-32x2048}" MICROS="${MICROS:-8}" ROUNDS="${ROUNDS:-2}" WARMUP="${WARMUP:-10}" STEPS="${STEPS:-90}"
MICRO="${MICROS%% *}"  # torch.compile runs the first micro-batch size
PY="${PYTHON:-python3}"
stage() { echo; echo "== $* ($(date +%T))"; }
failed=()

stage environment
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv | tee "$out/gpu.txt"
"$PY" -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda, "available", torch.cuda.is_available())'
if [ ! -x .gpu/jre/bin/java ]; then
  [ -f .gpu/jre.tar.xz ] || { echo "no .gpu/jre.tar.xz: run bench/gpu/pack.sh here and carry .gpu"; exit 2; }
  tar -C .gpu -xJf .gpu/jre.tar.xz
fi
java=(.gpu/jre/bin/java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Djava.awt.headless=true -cp ".gpu/lib/*")
"${java[0]}" -version 2>&1 | head -1

stage build the shim against this machine\'s libtorch
prefix="$("$PY" -c 'import torch; print(torch.utils.cmake_prefix_path)')"
generator=(); command -v ninja >/dev/null && generator=(-G Ninja)
build=/tmp/cpt-native
if cmake -S native -B "$build" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$prefix" \
      -DCPT_CUDA_ARCHITECTURES="${CUDA_ARCHITECTURES:-90}" >"$out/build.log" 2>&1 \
    && cmake --build "$build" -j "$(nproc)" >>"$out/build.log" 2>&1; then
  grep -E "cpt_torch: |Found Torch|Found CUDA" "$out/build.log" | head -5
  export CPT_NATIVE_LIB="$build/libcpt_torch.so"
else
  tail -60 "$out/build.log"
  echo "the shim did not build: the PyTorch reference runs alone"
  failed+=(build)
fi

if [ -n "${CPT_NATIVE_LIB:-}" ]; then
  stage "cpt's fused ops against eager ATen (cpt_fused_check), and their times"
  timeout 120 "$build/cpt_fused_check" --time 2>&1 | tee "$out/fused-check.txt" || failed+=(fused-check)
  stage the torch engine on CUDA against the CPU
  timeout 240 "${java[@]}" dev.cpt.trainer.DeviceCheck cuda 2>&1 | grep -v "^WARNING" | tee "$out/check.jsonl" || failed+=(check)
fi

# cpt and PyTorch eager in turn, ROUNDS times for each micro-batch size: clocks and neighbours drift,
# so the table gives each one's median over rounds, taken side by side.
for micro in $MICROS; do
  for round in $(seq "$ROUNDS"); do
    for kernels in $KERNELS; do
      [ -n "${CPT_NATIVE_LIB:-}" ] || break
      stage "cpt bench: $MODEL $BATCH micro-batch $micro bf16, --kernels $kernels, round $round"
      timeout 300 "${java[@]}" dev.cpt.cli.Cpt bench --engine torch --device cuda --precision bf16 --model "$MODEL" \
          --batch "$BATCH" --micro-batch "$micro" --kernels "$kernels" --warmup "$WARMUP" --steps "$STEPS" 2>&1 | grep -v "^WARNING" \
          | tee -a "$out/bench-cpt.jsonl" || failed+=(bench-cpt)
    done
    stage "PyTorch eager, the same model and batches: micro-batch $micro, round $round"
    PYTHONUNBUFFERED=1 timeout 300 "$PY" bench/gpu/reference_neox.py --model "$MODEL" --batch "$BATCH" --micro-batch "$micro" \
        --device cuda --precision bf16 --mode eager --warmup "$WARMUP" --steps "$STEPS" 2>&1 | tee -a "$out/bench-eager.jsonl" || failed+=(eager)
  done
done

if [ -z "${SKIP_COMPILE:-}" ]; then
  stage PyTorch torch.compile
  PYTHONUNBUFFERED=1 timeout 420 "$PY" bench/gpu/reference_neox.py --model "$MODEL" --batch "$BATCH" --micro-batch "$MICRO" \
      --device cuda --precision bf16 --mode compile --warmup "$WARMUP" --steps "$STEPS" >"$out/bench-compile.jsonl" 2>"$out/compile.log" \
    || { tail -20 "$out/compile.log"; failed+=(compile); }
  cat "$out/bench-compile.jsonl"
fi

if [ -n "${CPT_NATIVE_LIB:-}" ] && [ -z "${SKIP_TRAIN:-}" ]; then
  stage cpt train --engine torch --device cuda --precision bf16 "(bench/gpu/train-cuda.json, synthetic built-in data)"
  { timeout 60 "${java[@]}" dev.cpt.cli.Cpt prepare --builtin data/builtin >"$out/prepare.log" 2>&1 \
      && timeout 180 "${java[@]}" dev.cpt.cli.Cpt train bench/gpu/train-cuda.json --engine torch --device cuda --precision bf16 \
           --out /tmp/cpt-train-cuda 2>&1 | grep -v "^WARNING" | tail -6 | tee "$out/train.txt"; } || failed+=(train)
  cp /tmp/cpt-train-cuda/summary.json "$out/train-summary.json" 2>/dev/null
fi

if [ -n "${CPT_NATIVE_LIB:-}" ] && [ -z "${SKIP_DISTRIBUTED:-}" ]; then
  # NCCL refuses two ranks on one GPU: NCCL at world size 1 through the process group (against the
  # plain path's tokens/s on 405m), and the CUDA path at two ranks sharing the GPU over Gloo.
  stage "several ranks: NCCL at world size 1 on $MODEL, two ranks over Gloo sharing the GPU (ZeRO 0 and 3)"
  [ -f data/builtin/corpora.json ] || timeout 60 "${java[@]}" dev.cpt.cli.Cpt prepare --builtin data/builtin >"$out/prepare.log" 2>&1
  dp() { local name="$1"; shift; rm -rf "/tmp/cpt-dp-$name"
         timeout 240 "$@" --out "/tmp/cpt-dp-$name" 2>&1 | grep -v "^WARNING" | tail -4 | sed "s/^/$name: /" | tee -a "$out/distributed.txt"; }
  train=("${java[@]}" dev.cpt.cli.Cpt train)
  dp plain-405m "${train[@]}" bench/gpu/dp-405m.json --engine torch --device cuda --precision bf16 || failed+=(dp-plain)
  RANK=0 WORLD_SIZE=1 LOCAL_RANK=0 MASTER_ADDR=127.0.0.1 MASTER_PORT=29517 \
    dp nccl1-405m "${train[@]}" bench/gpu/dp-405m.json --engine torch --device cuda --precision bf16 || failed+=(dp-nccl1)
  dp one "${train[@]}" bench/gpu/train-cuda.json --engine torch --device cuda --precision fp32 || failed+=(dp-one)
  for z in 0 3; do
    dp "gloo2-zero$z" "${train[@]}" bench/gpu/train-cuda.json --engine torch --device cuda --precision fp32 \
      --nproc 2 --backend gloo --zero "$z" || failed+=("dp-gloo2-zero$z")
  done
  "$PY" bench/gpu/distributed.py /tmp/cpt-dp-one nccl1-405m-vs-plain=/tmp/cpt-dp-nccl1-405m gloo2-zero0=/tmp/cpt-dp-gloo2-zero0 \
    gloo2-zero3=/tmp/cpt-dp-gloo2-zero3 2>&1 | tee -a "$out/distributed.txt"
  "$PY" bench/gpu/distributed.py /tmp/cpt-dp-plain-405m nccl1-405m=/tmp/cpt-dp-nccl1-405m 2>&1 | tee -a "$out/distributed.txt"
fi

stage table
"$PY" bench/gpu/table.py "$out"/bench-*.jsonl | tee "$out/table.md"
[ -f "$out/check.jsonl" ] && grep -c '"passed": true' "$out/check.jsonl" | sed 's/$/ device checks passed/'
if [ ${#failed[@]} -gt 0 ]; then echo "failed: ${failed[*]}"; exit 1; fi
