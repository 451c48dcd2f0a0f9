# Sourced by ./cpt and ./test: sets CPT_JAVA_HOME to a JDK whose version is >= 25.
# Order: $JAVA_HOME, then every JDK under /usr/lib/jvm (newest first), then `java` on PATH.

cpt_java_major() {  # prints the feature version of the JDK at $1, or nothing
  local release="$1/release" v
  [ -x "$1/bin/java" ] && [ -x "$1/bin/javac" ] || return 0
  if [ -f "$release" ]; then
    v=$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$release")
  else
    v=$("$1/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = \([0-9]*\).*/\1/p')
  fi
  echo "$v"
}

cpt_find_jdk() {
  local candidates=() c major seen=""
  [ -n "${JAVA_HOME:-}" ] && candidates+=("$JAVA_HOME")
  for c in $(ls -d /usr/lib/jvm/*/ 2>/dev/null | sort -rV); do candidates+=("${c%/}"); done
  if command -v java >/dev/null 2>&1; then
    candidates+=("$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")")
  fi
  for c in "${candidates[@]}"; do
    major=$(cpt_java_major "$c")
    seen="$seen  $c (${major:-not a JDK})\n"
    if [ -n "$major" ] && [ "$major" -ge 25 ]; then
      CPT_JAVA_HOME="$c"
      return 0
    fi
  done
  {
    echo "cpt needs a JDK 25 or newer (for the Vector and Foreign Function APIs), and none was found."
    printf "Looked at:\n%b" "${seen:-  (nothing: JAVA_HOME unset, /usr/lib/jvm empty, no java on PATH)\n}"
    echo "Install one (e.g. Eclipse Temurin 25) and set JAVA_HOME to it."
  } >&2
  return 1
}
