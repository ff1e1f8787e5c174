#!/usr/bin/env bash
# Builds every function's deployable artifact with `sam build` (SAM's rust-cargolambda
# build method), installing what it needs into .local/ on first use:
#   .local/cargo-lambda   cargo-lambda (pinned below; ~10-25 minutes to compile once)
#   .local/zig-venv       Zig from PyPI (cargo-lambda links Lambda binaries with it)
#   .local/sam-venv       the SAM CLI (shared with sam-validate.sh)
# and the Rust target of the template's Architecture (arm64 by default). Not run by CI.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
LOCAL="$REPO/.local"
CARGO_LAMBDA_VERSION="1.9.2"
ZIG_VERSION="0.13.0.post1"

say() { printf 'sam-build: %s\n' "$*" >&2; }

if [[ ! -x "$LOCAL/cargo-lambda/bin/cargo-lambda" ]] ||
    ! "$LOCAL/cargo-lambda/bin/cargo-lambda" lambda --version 2>/dev/null | grep -q "$CARGO_LAMBDA_VERSION"; then
    say "installing cargo-lambda $CARGO_LAMBDA_VERSION into .local/cargo-lambda (once; slow)"
    cargo install cargo-lambda --locked --version "$CARGO_LAMBDA_VERSION" --root "$LOCAL/cargo-lambda"
fi
if [[ ! -x "$LOCAL/zig-venv/bin/python" ]] || ! "$LOCAL/zig-venv/bin/python" -m ziglang version >/dev/null 2>&1; then
    say "installing Zig (PyPI ziglang $ZIG_VERSION) into .local/zig-venv"
    rm -rf "$LOCAL/zig-venv"
    python3 -m venv "$LOCAL/zig-venv"
    "$LOCAL/zig-venv/bin/pip" install --quiet --disable-pip-version-check "ziglang==$ZIG_VERSION"
fi
# The SAM CLI, installed by the validator's script on first use.
"$REPO/infra/scripts/sam-validate.sh" >/dev/null

architecture="$(awk '/^  Architecture:/{f=1} f && /Default:/{print $2; exit}' "$REPO/template.yaml")"
case "$architecture" in
arm64) target=aarch64-unknown-linux-gnu ;;
x86_64) target=x86_64-unknown-linux-gnu ;;
*) say "unknown Architecture default $architecture"; exit 1 ;;
esac
rustup target list --installed | grep -qx "$target" || rustup target add "$target"

cd "$REPO"
# cargo-lambda runs `python3 -m ziglang`: the Zig venv's python3 comes first on PATH.
PATH="$LOCAL/cargo-lambda/bin:$LOCAL/zig-venv/bin:$PATH" SAM_CLI_TELEMETRY=0 \
    "$LOCAL/sam-venv/bin/sam" build --beta-features "$@"
