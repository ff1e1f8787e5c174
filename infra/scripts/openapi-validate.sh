#!/usr/bin/env bash
# Validates the OpenAPI documents against the OpenAPI schema (3.1 here) with the
# pinned openapi-spec-validator from .local/venv (installed on first use). A
# client generator reads these files, so a YAML slip that still parses (an
# unquoted comma in a flow mapping making half a description a stray key) must
# fail here, not in someone's generator. Arguments are the files to check; with
# none, every docs/openapi/*.yaml.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

"$REPO/infra/scripts/ensure-tools.sh"
if [[ $# -eq 0 ]]; then
    shopt -s nullglob
    set -- "$REPO"/docs/openapi/*.yaml
    shopt -u nullglob
    [[ $# -gt 0 ]] || { echo "openapi-validate: no docs/openapi/*.yaml to check" >&2; exit 1; }
fi
# --validation-errors all: one run names every problem, not only the first.
exec "$REPO/.local/venv/bin/openapi-spec-validator" --validation-errors all "$@"
