#!/usr/bin/env bash
# Fuzzes each target of fuzz/ (the parsers of untrusted input) for a bounded time with cargo-fuzz
# on the nightly toolchain. A crash fails the run; libFuzzer leaves the input that caused it in
# fuzz/artifacts/<target>/, to become a regression test. The corpus grows across runs in
# ~/.cache/echo/fuzz-corpus, seeded from fuzz/seeds.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"

seconds="${FUZZ_SECONDS:-60}"
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
# Nightly and sanitizer flags: a target directory of its own, so the stable build is not redone.
export CARGO_TARGET_DIR="${FUZZ_TARGET_DIR:-$HOME/.cache/echo/fuzz-target}"
corpus_root="${FUZZ_CORPUS:-$HOME/.cache/echo/fuzz-corpus}"

for target in $(cargo +nightly fuzz list); do
  corpus="$corpus_root/$target"
  mkdir -p "$corpus"
  echo "fuzzing $target for ${seconds}s"
  log="$(mktemp)"
  if ! cargo +nightly fuzz run "$target" "$corpus" "seeds/$target" -- \
    -max_total_time="$seconds" -max_len=4096 -print_final_stats=1 >"$log" 2>&1; then
    tail -n 60 "$log"
    echo "fuzz target $target failed: the input is in fuzz/artifacts/$target/" >&2
    exit 1
  fi
  grep -E '^stat::(number_of_executed_units|new_units_added)' "$log" | sed "s/^/  $target /"
  rm -f "$log"
done
