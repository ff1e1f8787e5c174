#!/usr/bin/env bash
# Validates template.yaml with SAM's own translator (catches what cfn-lint misses: bad
# !GetAtt attributes, event source properties). Offline; the SAM CLI is installed on
# first use into .local/sam-venv from infra/requirements-sam.txt.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VENV="$REPO/.local/sam-venv"
REQUIREMENTS="$REPO/infra/requirements-sam.txt"
wanted="$(sha256sum "$REQUIREMENTS" | cut -d' ' -f1)"

if [[ ! -f "$VENV/.stamp" || "$(<"$VENV/.stamp")" != "$wanted" ]]; then
    rm -rf "$VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check -r "$REQUIREMENTS"
    echo "$wanted" >"$VENV/.stamp"
    echo "sam-validate: installed the SAM CLI into .local/sam-venv" >&2
fi

cd "$REPO"
SAM_CLI_TELEMETRY=0 "$VENV/bin/sam" validate --lint --region us-east-1 --template-file template.yaml
