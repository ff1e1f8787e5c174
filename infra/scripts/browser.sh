#!/usr/bin/env bash
# Ensures the browser of the browser tests is installed: Debian's `chromium` and its
# WebDriver `chromium-driver` (browsers that download their own builds cannot reach the
# network here). Prints their paths on stdout, as lines a shell can `eval`:
#   export CHROMIUM=/usr/bin/chromium
#   export CHROMEDRIVER=/usr/bin/chromedriver
#
# Installed with apt-get on first use (needs root; 20-odd packages, ~380 MB, without
# recommends: chromium-sandbox is not needed, the tests run chromium with --no-sandbox).
# Idempotent and quick: when both are there it only checks they run. Prints one line (on
# stderr) when it installs. The end-to-end driver (tests/driver/browser.rs) runs it on
# first use, so `make test` needs nothing else.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
LOCAL="$REPO/.local"
CHROMIUM=/usr/bin/chromium
CHROMEDRIVER=/usr/bin/chromedriver
PACKAGES=(chromium chromium-driver)

say() { printf 'browser: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

# True when both are installed and the driver runs. chromium-driver depends on the exact
# chromium version, so apt keeps the pair matched. (chromium itself is not started here:
# that takes longer than the whole check, and the test that starts it says why it failed.)
installed() {
    [[ -x "$CHROMIUM" && -x "$CHROMEDRIVER" ]] &&
        "$CHROMEDRIVER" --version >/dev/null 2>&1
}

print_paths() {
    printf 'export CHROMIUM=%s\nexport CHROMEDRIVER=%s\n' "$CHROMIUM" "$CHROMEDRIVER"
}

install() {
    local started=$SECONDS log="$LOCAL/browser-install.log"
    # Apt keeps its own locks; ours makes a second test process wait here and then find
    # the browser installed, instead of failing on apt's lock or installing twice.
    exec 9>"$LOCAL/.browser.lock"
    flock -w 900 9 || die "timed out waiting for another browser.sh run"
    if installed; then
        return 0
    fi
    export DEBIAN_FRONTEND=noninteractive
    # Once, before installing: a clean machine may have no package lists, and stale ones
    # name versions the mirror no longer has. The output is kept for a failure only.
    if ! apt-get update -qq >"$log" 2>&1 ||
        ! apt-get install -y -qq --no-install-recommends \
            -o DPkg::Lock::Timeout=600 "${PACKAGES[@]}" >>"$log" 2>&1; then
        tail -n 30 "$log" >&2
        die "apt-get install ${PACKAGES[*]} failed (full output in ${log#"$REPO"/})"
    fi
    rm -f "$log"
    installed || die "installed ${PACKAGES[*]}, but $CHROMIUM or $CHROMEDRIVER does not run"
    say "installed $("$CHROMEDRIVER" --version | cut -d' ' -f1-2) and its chromium in $((SECONDS - started)) s"
}

if ! installed; then
    if ((EUID != 0)); then
        die "chromium and chromium-driver are not installed and this is not root; install them with: sudo apt-get install -y ${PACKAGES[*]}"
    fi
    command -v apt-get >/dev/null || die "apt-get not found: install chromium and its chromedriver as $CHROMIUM and $CHROMEDRIVER"
    mkdir -p "$LOCAL"
    install
fi
print_paths
