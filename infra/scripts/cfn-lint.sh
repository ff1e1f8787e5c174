#!/usr/bin/env bash
# Lints the CloudFormation/SAM template with the pinned cfn-lint from
# .local/venv (installed on first use). Arguments go to cfn-lint; with none,
# it lints template.yaml at the repo root.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

"$REPO/infra/scripts/ensure-tools.sh"
if [[ $# -eq 0 ]]; then
    set -- "$REPO/template.yaml"
fi
exec "$REPO/.local/venv/bin/cfn-lint" "$@"
