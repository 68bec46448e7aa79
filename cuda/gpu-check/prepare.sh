#!/usr/bin/env bash
# Builds gpu-check/ at the repository root: everything gpu-check/check.sh needs to run the GPU tests
# and benchmarks on a Linux machine with an NVIDIA GPU and driver but no JDK, no Maven and no network.
#
#   cuda/gpu-check/prepare.sh [--no-build]
#
#   --no-build   use the jars and test classes already in */target (default: mvn -B -q package -DskipTests)
#
# Needs here: a JDK 25 (JAVA_HOME, /usr/lib/jvm, ... ; its jlink and jdeps), Maven, and Maven Central
# or a local repository holding the JUnit console launcher. The folder is rebuilt from scratch
# (a previous gpu-check/out goes with it) and must stay under 60 MB: it is carried as is.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
dest="$root/gpu-check"
limit_bytes=60000000
required=25

build=1
for arg in "$@"; do
  case "$arg" in
    --no-build) build=0 ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) echo "prepare.sh: unknown argument $arg (try --help)" >&2; exit 2 ;;
  esac
done

say() { printf '== %s\n' "$*" >&2; }
die() { printf 'prepare.sh: %s\n' "$*" >&2; exit 1; }

# ---- a JDK 25 with jlink and jdeps
java_major() {
  "$1" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = \([0-9]*\).*/\1/p' | head -n1
}
find_jdk() {
  local d v
  for d in "${JAVA_HOME:-}" /usr/lib/jvm/* /opt/java/* /opt/jdk* "$HOME"/.sdkman/candidates/java/* "$HOME"/.jdks/*; do
    [ -n "$d" ] && [ -x "$d/bin/java" ] && [ -x "$d/bin/jlink" ] && [ -x "$d/bin/jdeps" ] || continue
    v="$(java_major "$d/bin/java")"
    if [ -n "$v" ] && [ "$v" -ge "$required" ]; then
      echo "$d"
      return 0
    fi
  done
  return 1
}
jdk="$(find_jdk)" || die "no JDK $required or newer with jlink and jdeps found (set JAVA_HOME)"
say "JDK: $jdk ($("$jdk/bin/java" -version 2>&1 | head -n1))"

# ---- build
if [ "$build" = 1 ]; then
  command -v mvn >/dev/null 2>&1 || die "Maven (mvn) is not on PATH; install it or run with --no-build after a build"
  say "mvn -B -q package -DskipTests"
  mvn -B -q -Dstyle.color=never package -DskipTests >&2 || die "the build failed; run 'mvn -B package -DskipTests' to see why"
fi

# The library modules in dependency order, as the parent pom lists them; tests/, benchmarks/ and bom/
# have no library jar worth carrying (tests' main jar is empty, benchmarks are carried shaded, the
# BOM is a pom).
modules=()
while IFS= read -r m; do modules+=("$m"); done < <(sed -n 's:.*<module>\(.*\)</module>.*:\1:p' pom.xml)
[ "${#modules[@]}" -gt 0 ] || die "no <module> entries in pom.xml"

main_jars=()
for m in "${modules[@]}"; do
  case "$m" in tests|benchmarks|bom) continue ;; esac
  jar=""
  for f in "$m"/target/*.jar; do
    case "$f" in *-sources.jar|*-javadoc.jar|*-tests.jar|*/original-*) continue ;; esac
    [ -f "$f" ] && jar="$f"
  done
  [ -n "$jar" ] || die "no jar in $m/target; build first (or drop --no-build)"
  main_jars+=("$jar")
done
bench_jar="benchmarks/target/benchmarks.jar"   # maven-shade-plugin <finalName>benchmarks</finalName>
[ -f "$bench_jar" ] || die "$bench_jar is missing; build first (or drop --no-build)"
test_dirs=()
for m in "${modules[@]}"; do
  # tests/ holds the cross-module checks that read the source tree and compile with the JDK's
  # compiler (architecture, kernel contract, README snippets): they cannot run from the bundle, and
  # carrying them would pull jdk.compiler into the runtime, past the size limit.
  [ "$m" = tests ] && continue
  [ -d "$m/target/test-classes" ] && test_dirs+=("$m")
done
[ "${#test_dirs[@]}" -gt 0 ] || die "no */target/test-classes; the build must compile the tests (-DskipTests, not -Dmaven.test.skip)"

# ---- the JUnit console launcher matching the project's JUnit: Jupiter 5.x.y runs on Platform 1.x.y;
# from JUnit 6 on, both share one version.
junit="$(sed -n 's:.*<junit.version>\(.*\)</junit.version>.*:\1:p' pom.xml | head -n1)"
[ -n "$junit" ] || die "no <junit.version> in pom.xml"
case "$junit" in
  5.*) platform="1.${junit#5.}" ;;
  *) platform="$junit" ;;
esac
console_name="junit-platform-console-standalone-$platform.jar"
m2="${MAVEN_REPO:-$HOME/.m2/repository}"
console="$m2/org/junit/platform/junit-platform-console-standalone/$platform/$console_name"
if [ ! -f "$console" ]; then
  command -v mvn >/dev/null 2>&1 || die "$console_name is not in $m2 and Maven is not on PATH to fetch it"
  say "fetching org.junit.platform:junit-platform-console-standalone:$platform"
  fetch="$(mktemp -d)"
  # Outside the project: dependency:copy needs no pom, and inside it would run once per module.
  (cd "$fetch" && mvn -B -q org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy \
      -Dartifact="org.junit.platform:junit-platform-console-standalone:$platform" \
      -DoutputDirectory="$fetch/out" >&2) || die "could not fetch $console_name"
  console="$fetch/out/$console_name"
  [ -f "$console" ] || die "dependency:copy did not produce $console_name"
fi

# ---- assemble
say "assembling $dest"
rm -rf "$dest"
mkdir -p "$dest/lib/test-classes"
cp "${main_jars[@]}" "$dest/lib/"
cp "$bench_jar" "$dest/lib/benchmarks.jar"
cp "$console" "$dest/lib/$console_name"
# Test classes stay directories: tests read their vectors with Path.of(getResource(...).toURI()),
# which works for a directory on the class path and not inside a jar.
for m in "${test_dirs[@]}"; do
  cp -r "$m/target/test-classes" "$dest/lib/test-classes/$m"
  rm -f "$dest/lib/test-classes/$m/META-INF/jpms.args"
  rmdir "$dest/lib/test-classes/$m/META-INF" 2>/dev/null || true
done
for f in check.sh torch_peers.py results_table.py README.md; do
  cp "cuda/gpu-check/$f" "$dest/$f"
done
chmod +x "$dest/check.sh" "$dest/torch_peers.py" "$dest/results_table.py"

# ---- the runtime: the modules jdeps finds in what runs, plus those loaded reflectively or as services
say "jdeps"
project_jars=()
for f in "$dest"/lib/*.jar; do
  case "$(basename "$f")" in benchmarks.jar|junit-platform-console-standalone-*) ;; *) project_jars+=("$f") ;; esac
done
project_cp="$(IFS=:; echo "${project_jars[*]}")"
deps() { # jdeps' module list for the given class path and targets; its warnings dropped
  "$jdk/bin/jdeps" --multi-release "$required" --ignore-missing-deps --print-module-deps "$@" 2>/dev/null \
    | grep -E '^[a-z][a-z0-9_.]*(,[a-z][a-z0-9_.]*)*$' | tr ',' '\n'
}
# Each jar on its own: benchmarks.jar holds shaded copies of the project's packages.
found="$(
  deps --class-path "$project_cp" "${project_jars[@]}"
  deps "$dest/lib/benchmarks.jar"
  deps "$dest/lib/$console_name"
  for d in "$dest"/lib/test-classes/*; do
    deps --class-path "$project_cp:$dest/lib/$console_name" "$d"
  done
)"
[ -n "$found" ] || die "jdeps found no modules"
# Always: the Vector API (an incubator module no class path run resolves by itself), JMH's
# java.management and sun.misc.Unsafe (jdk.unsupported), JUnit's java.util.logging, and jdk.zipfs,
# the zip file system provider JUnit scans packages inside jars with (a service, invisible to jdeps;
# the test classes are directories, so today it is a precaution).
# Never: java.desktop, which jdeps reports only for commons-math3's 2-D geometry inside the JMH jar;
# JMH does not load it, and it would add about 15 MB (over the 60 MB limit).
jlink_modules="$(
  { echo "$found"; printf '%s\n' java.base jdk.incubator.vector java.management jdk.unsupported java.logging jdk.zipfs; } \
    | grep -vx 'java.desktop' | sort -u | paste -sd, -
)"
say "jlink --add-modules $jlink_modules"
"$jdk/bin/jlink" --add-modules "$jlink_modules" --compress=zip-9 --strip-debug --no-header-files \
    --no-man-pages --output "$dest/runtime" 2>&1 | grep -v 'Using incubator modules' >&2 || true
[ -x "$dest/runtime/bin/java" ] || die "jlink produced no runtime"
# libjvm.so ships with its symbol table (about 5 MB); the dynamic symbols the JVM needs stay.
if command -v strip >/dev/null 2>&1; then
  strip --strip-unneeded "$dest/runtime/lib/server/libjvm.so"
fi
"$dest/runtime/bin/java" --add-modules jdk.incubator.vector -XX:+UnlockDiagnosticVMOptions -version >/dev/null 2>&1 \
  || die "the jlink'ed runtime does not start"

# ---- what is in the folder, for whoever reads its results later
{
  echo "qlora4j gpu-check"
  echo "built:   $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(hostname)"
  echo "commit:  $(git rev-parse HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD 2>/dev/null || echo ' (with uncommitted changes)')"
  echo "branch:  $(git rev-parse --abbrev-ref HEAD 2>/dev/null || echo unknown)"
  echo "runtime: $("$dest/runtime/bin/java" -version 2>&1 | sed -n 2p), jlink'ed from $jdk"
  echo "platform: $(uname -s) $(uname -m) only: the runtime is native code for this machine's OS and CPU"
  echo "modules: $("$dest/runtime/bin/java" --list-modules | sed 's/@.*//' | paste -sd, -) (asked: $jlink_modules)"
  echo "junit:   jupiter $junit, platform $platform"
  echo "lib:"
  for f in "$dest"/lib/*.jar; do echo "  $(basename "$f")"; done
  echo "test classes: ${test_dirs[*]}"
} >"$dest/MANIFEST.txt"

# ---- size
total="$(du -sb "$dest" | cut -f1)"
{
  echo "gpu-check/ contents (du, bytes on disk):"
  (cd "$dest" && du -sh runtime lib/*.jar lib/test-classes check.sh torch_peers.py results_table.py README.md MANIFEST.txt) | sed 's/^/  /'
  echo "  total: $(du -sh "$dest" | cut -f1) ($total bytes of content; limit $limit_bytes)"
} >&2
[ "$total" -lt "$limit_bytes" ] || die "gpu-check/ is $total bytes, over the $limit_bytes limit"
say "bundled JDK: $jdk ($("$jdk/bin/java" -version 2>&1 | head -n1)); the runtime runs on $(uname -s) $(uname -m) only"
say "done: copy gpu-check/ to the GPU machine and run: bash gpu-check/check.sh"
