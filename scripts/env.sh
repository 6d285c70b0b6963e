# Shared settings for the project's scripts (sourced, not run).
# Builds reuse a target directory outside the clone so repeat runs on one machine are fast,
# while a fresh machine still works (the directory is created on demand).
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/access-undenied/target}"
mkdir -p "$CARGO_TARGET_DIR"
# Cargo tools the scripts install (cargo-deny, cargo-fuzz) live outside the clone too.
export ACCESS_UNDENIED_TOOLS="${ACCESS_UNDENIED_TOOLS:-$HOME/.cache/access-undenied/tools}"
export PATH="$ACCESS_UNDENIED_TOOLS/bin:$PATH"
