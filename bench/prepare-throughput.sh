#!/usr/bin/env bash
# Measures `cpt prepare` throughput (MB of text per second, end to end: read, tokenize, write
# shards) for the bytes and gpt2 tokenizers on a generated 50 MB corpus; prints one JSON line per
# run and a median line per tokenizer. Usage: bench/prepare-throughput.sh [JOBS] [MB] [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
. bin/find-jdk.sh
cpt_find_jdk
export JAVA_HOME="$CPT_JAVA_HOME"
jobs=${1:-2} mb=${2:-50} runs=${3:-3}
./mvnw -q -B -ntp -DskipTests -pl core package >&2
cp=$(mktemp)
./mvnw -q -B -ntp dependency:build-classpath -pl core -Dmdep.outputFile="$cp" >&2
for t in bytes gpt2; do
  "$JAVA_HOME/bin/java" --add-modules jdk.incubator.vector -cp "core/target/classes:$(cat "$cp")" \
    dev.cpt.data.prepare.PrepareBenchmark --tokenizer "$t" --jobs "$jobs" --mb "$mb" --runs "$runs" 2>/dev/null
done
rm -f "$cp"
