#!/usr/bin/env bash
# Activation checkpointing on a GPU: the torch engine's 405m step with and without it, at the
# micro-batch sizes it makes room for. Same set-up as run.sh (carry .gpu/ from pack.sh); prints
# one JSON line per configuration (impl "cpt" or "cpt-checkpointed") and writes them to $OUT.
# CONFIGS (environment): the configurations, ';'-separated `cpt bench` flags.
set -uo pipefail
cd "$(dirname "$0")/../.."
out="${OUT:-bench/gpu/out}"
mkdir -p "$out"
STEPS="${STEPS:-30}" WARMUP="${WARMUP:-3}"
[ -x .gpu/jre/bin/java ] || tar -C .gpu -xJf .gpu/jre.tar.xz
prefix="$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')"
cmake -S native -B /tmp/cpt-native -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$prefix" \
    -DCPT_CUDA_ARCHITECTURES="${CUDA_ARCHITECTURES:-90}" >"$out/build.log" 2>&1 \
  && cmake --build /tmp/cpt-native >>"$out/build.log" 2>&1 || { tail -40 "$out/build.log"; exit 1; }
export CPT_NATIVE_LIB=/tmp/cpt-native/libcpt_torch.so
CONFIGS="${CONFIGS:---micro-batch 8;--micro-batch 8 --activation-checkpointing;--micro-batch 16 --activation-checkpointing;--micro-batch 32 --activation-checkpointing}"
IFS=';' read -ra configs <<<"$CONFIGS"
for flags in "${configs[@]}"; do
  timeout 150 .gpu/jre/bin/java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -cp ".gpu/lib/*" \
      dev.cpt.cli.Cpt bench --engine torch --device cuda --precision bf16 --model 405m --batch 32x2048 $flags \
      --warmup "$WARMUP" --steps "$STEPS" 2>&1 | grep -v "^WARNING" | tee -a "$out/checkpointing.jsonl"
done
