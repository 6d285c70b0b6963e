# Shared settings for the project's scripts (sourced, not run).
# Builds reuse a target directory outside the clone so repeat runs on one machine are fast,
# while a fresh machine still works (the directory is created on demand).
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/access-undenied/target}"
mkdir -p "$CARGO_TARGET_DIR"
