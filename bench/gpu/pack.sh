#!/usr/bin/env bash
# Packs what bench/gpu/run.sh needs on a GPU machine that has no Java: .gpu/jre.tar.xz (a jlink'd
# JDK 25 runtime, ~22 MB) and .gpu/lib/ (cpt's jars and their dependencies, less DJL's Hugging Face
# tokenizers, which the torch engine does not use). .gpu/ is git-ignored; carry it with the tree.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
. bin/find-jdk.sh
cpt_find_jdk
export JAVA_HOME="$CPT_JAVA_HOME"
./mvnw -q install -DskipTests
rm -rf .gpu
mkdir -p .gpu/lib
./mvnw -q -pl cli dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$root/.gpu/lib" \
  -DexcludeGroupIds=ai.djl,net.java.dev.jna
cp cli/target/cpt-cli-*.jar .gpu/lib/
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# zip-0 inside, xz outside: xz packs the whole image far smaller than jlink's own zip.
"$JAVA_HOME/bin/jlink" --add-modules java.base,jdk.incubator.vector,java.logging,java.management,jdk.unsupported,java.desktop,java.sql,java.xml \
  --strip-debug --no-header-files --no-man-pages --compress zip-0 --output "$tmp/jre" 2>/dev/null
tar -C "$tmp" -cf - jre | xz -T0 -6 > .gpu/jre.tar.xz
du -sh .gpu/jre.tar.xz .gpu/lib
