#!/usr/bin/env bash
# Run every fuzz target (or the ones named) for a bounded time each, with cargo fuzz
# (libFuzzer + AddressSanitizer, overflow checks on). Fails on the first finding; the input
# that failed is left in fuzz/artifacts/<target>/.
#
#   fuzz/run.sh [SECONDS_PER_TARGET] [TARGET...]     (default: $FUZZ_SECONDS, else 20)
#
# FUZZ_SEED=N fixes libFuzzer's random seed. CI sets one, so a CI run is reproducible: the
# same commit explores the same inputs, and a longer run with the same seed from an empty
# corpus covers everything a shorter one does. Without it each run explores new inputs.
#
# Works on stable Rust: RUSTC_BOOTSTRAP=1 lets it accept the -Z sanitizer flags cargo fuzz
# passes. Each target starts from fuzz/seeds/<target>/ (committed, never written) and a
# working corpus in fuzz/corpus/<target>/ (not committed), with fuzz/dict/json.dict.
set -euo pipefail
cd "$(dirname "$0")"

secs="${1:-${FUZZ_SECONDS:-20}}"
[ $# -gt 0 ] && shift
export RUSTC_BOOTSTRAP=1
# Faster builds at a small cost in speed; overflow checks and debug assertions stay on.
flags=(--codegen-units 16)
seed=()
[ -n "${FUZZ_SEED:-}" ] && seed=(-seed="$FUZZ_SEED")

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "cargo fuzz is not installed: cargo install cargo-fuzz --locked" >&2
  exit 1
fi

if [ $# -gt 0 ]; then
  targets=("$@")
else
  mapfile -t targets < <(cargo fuzz list)
fi

t0=$(date +%s)
cargo fuzz build "${flags[@]}"
echo "fuzz: built ${#targets[@]} targets in $(( $(date +%s) - t0 ))s"

summary=()
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t" "seeds/$t"
  log="corpus/$t.log"
  echo "=== fuzz $t for ${secs}s"
  if ! cargo fuzz run "${flags[@]}" "$t" "corpus/$t" "seeds/$t" -- \
      -max_total_time="$secs" -dict=dict/json.dict -timeout=10 -rss_limit_mb=2048 \
      -print_final_stats=1 "${seed[@]}" >"$log" 2>&1; then
    tail -n 60 "$log" >&2
    echo "✗ fuzz target $t failed: input saved under fuzz/artifacts/$t/" >&2
    echo "fuzz: ${#summary[@]} passed, 1 failed" >&2
    exit 1
  fi
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*$')
  summary+=("$t: ${runs:-?} executions in ${secs}s, coverage ${cov:-?}, corpus $(find "corpus/$t" -type f | wc -l) inputs, no findings")
done
printf '%s\n' "${summary[@]}"
echo "fuzz: ${#targets[@]} passed, 0 failed"
