#!/usr/bin/env bash
# Runs the local AWS emulators: DynamoDB Local (Java) and moto (everything
# else: SQS, ...). Both listen on 127.0.0.1 only, on free ports chosen at each
# start, so several runs can coexist on one machine.
#
#   local-aws.sh start <statedir>   start both; write <statedir>/env (export lines)
#   local-aws.sh stop <statedir>    stop what start recorded; harmless if nothing runs
#   local-aws.sh exec <command...>  start both in a fresh state dir under .local/run/,
#                                   run the command with that env exported, always
#                                   stop both, exit with the command's status
#
# <statedir> also gets dynamodb.log, moto.log and the pid files.
set -euo pipefail
shopt -s inherit_errexit

SCRIPTS="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$SCRIPTS/../.." && pwd)"
LOCAL="$REPO/.local"
DYNAMODB_HOME="$LOCAL/dynamodb/current"
DYNAMODB_LAUNCHER="$LOCAL/dynamodb/launcher"
VENV="$LOCAL/venv"
HOST=127.0.0.1
REGION=us-east-1
# Seconds each emulator gets to answer after its launch.
declare -A TIMEOUT=([dynamodb]=60 [moto]=30)
# A free port can be taken by someone else between our check and the
# emulator's bind; the emulator then exits and is launched again on a new port.
START_ATTEMPTS=3
# Port each emulator listens on, chosen at start.
declare -A PORT=()
STATE=""

say() { printf 'local-aws: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

usage() {
    sed -n '2,12s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" >&2
    exit 2
}

# True when process $1 is alive. A dead child of this shell that is not yet
# reaped is a zombie, which `kill -0` still reports alive, so read /proc.
alive() {
    local stat
    stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
    stat="${stat##*) }"
    [[ "${stat:0:1}" != Z ]]
}

# True when process $1 is alive and its command line contains $2: a stale pid
# file must never make us signal an unrelated process that reused the pid.
is_ours() {
    alive "$1" && tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null | grep -qF -- "$2"
}

# The string that identifies emulator $1 in its command line.
marker() {
    case "$1" in
    dynamodb) echo LoopbackDynamoDBLocal ;;
    moto) echo moto_server ;;
    esac
}

# Prints two distinct free TCP ports on $HOST (bound at once, so they differ).
free_ports() {
    "$VENV/bin/python" - "$HOST" <<'EOF'
import socket, sys
socks = [socket.socket() for _ in range(2)]
for s in socks:
    s.bind((sys.argv[1], 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))
for s in socks:
    s.close()
EOF
}

# Starts emulator $1 on port $2 in the background, without `cd`, so that `$!`
# is the emulator's own pid; output to $STATE/$1.log, pid to $STATE/$1.pid.
launch() {
    local name="$1" port="$2"
    case "$name" in
    dynamodb)
        # The launcher runs DynamoDBLocal.jar's own server set-up, bound to
        # $HOST: the jar has no host option and listens on every interface.
        java -Djava.library.path="$DYNAMODB_HOME/DynamoDBLocal_lib" \
            -cp "$DYNAMODB_HOME/DynamoDBLocal.jar:$DYNAMODB_LAUNCHER" \
            LoopbackDynamoDBLocal "$HOST" \
            -inMemory -sharedDb -disableTelemetry -port "$port" \
            </dev/null >"$STATE/dynamodb.log" 2>&1 &
        ;;
    moto)
        "$VENV/bin/moto_server" -H "$HOST" -p "$port" \
            </dev/null >"$STATE/moto.log" 2>&1 &
        ;;
    esac
    echo "$!" >"$STATE/$name.pid"
}

# True once emulator $1 answers HTTP on port $2. Any status will do: it only
# shows the server is up. DynamoDB Local wants a POST; moto has GET /moto-api/.
answers() {
    local url="http://$HOST:$2/"
    if [[ "$1" == dynamodb ]]; then
        curl -s -o /dev/null --max-time 2 -X POST "$url"
    else
        curl -s -o /dev/null --max-time 2 "${url}moto-api/"
    fi
}

# Waits for emulator $1 (pid $2, port $3) for up to $4 seconds.
# Returns 0 when it answers, 1 on time-out, 2 when the process exited.
wait_ready() {
    local name="$1" pid="$2" port="$3" deadline=$((SECONDS + $4))
    while ((SECONDS < deadline)); do
        alive "$pid" || return 2
        # Alive after the answer too: had another process taken the port,
        # ours would have exited and the answer would not be its.
        if answers "$name" "$port" && alive "$pid"; then
            return 0
        fi
        sleep 0.2
    done
    return 1
}

# Waits for emulator $1, launched on port ${PORT[$1]}; when it exits at once
# (its port was taken meanwhile), launches it again on a new port.
ready_or_retry() {
    local name="$1" attempt status
    for ((attempt = 1; ; attempt++)); do
        status=0
        wait_ready "$name" "$(<"$STATE/$name.pid")" "${PORT[$name]}" "${TIMEOUT[$name]}" ||
            status=$?
        case "$status" in
        0) return 0 ;;
        1)
            say "$name did not answer on $HOST:${PORT[$name]} within ${TIMEOUT[$name]}s; end of $STATE/$name.log:"
            tail -n 30 "$STATE/$name.log" >&2 || true
            return 1
            ;;
        esac
        say "$name exited at start (attempt $attempt of $START_ATTEMPTS); end of $STATE/$name.log:"
        tail -n 15 "$STATE/$name.log" >&2 || true
        ((attempt < START_ATTEMPTS)) || return 1
        PORT[$name]="$(free_ports | cut -d' ' -f1)"
        launch "$name" "${PORT[$name]}"
    done
}

# Stops the emulators recorded in state dir $1: TERM, then KILL after 5 s.
stop_all() {
    local dir="$1" name pidfile pid waited
    for name in dynamodb moto; do
        pidfile="$dir/$name.pid"
        [[ -f "$pidfile" ]] || continue
        pid="$(<"$pidfile")"
        if [[ "$pid" =~ ^[0-9]+$ ]] && is_ours "$pid" "$(marker "$name")"; then
            kill -TERM "$pid" 2>/dev/null || true
            for ((waited = 0; waited < 50; waited++)); do
                alive "$pid" || break
                sleep 0.1
            done
            if alive "$pid"; then
                say "$name (pid $pid) ignored TERM; killing it"
                kill -KILL "$pid" 2>/dev/null || true
            fi
        fi
        rm -f "$pidfile"
    done
    # Its endpoints are gone.
    rm -f "$dir/env"
}

# Starts both emulators with state dir $1 (sets STATE) and writes $STATE/env.
# Exits non-zero on failure; the caller's EXIT trap stops what was started.
start_emulators() {
    mkdir -p "$1"
    STATE="$(cd "$1" && pwd)"
    local name pid
    for name in dynamodb moto; do
        [[ -f "$STATE/$name.pid" ]] || continue
        pid="$(<"$STATE/$name.pid")"
        if [[ "$pid" =~ ^[0-9]+$ ]] && is_ours "$pid" "$(marker "$name")"; then
            # Leave the running ones alone: no EXIT trap.
            trap - EXIT
            die "$name already runs from $STATE (pid $pid); run: $0 stop $STATE"
        fi
    done
    rm -f "$STATE/env"

    "$SCRIPTS/ensure-tools.sh"
    command -v java >/dev/null || die "java not found (needs Java 17 or later)"
    command -v curl >/dev/null || die "curl not found"

    # Launch both before waiting: DynamoDB Local's JVM takes seconds to start.
    local ports
    ports="$(free_ports)" # a plain assignment, so that set -e sees a failure
    read -r 'PORT[dynamodb]' 'PORT[moto]' <<<"$ports"
    launch dynamodb "${PORT[dynamodb]}"
    launch moto "${PORT[moto]}"
    ready_or_retry dynamodb || die "DynamoDB Local did not start"
    ready_or_retry moto || die "moto did not start"

    # Written last, so that its presence means both answer. Dummy credentials:
    # the emulators accept any, and real ones must never be sent to them.
    cat >"$STATE/env.tmp" <<EOF
export AWS_ENDPOINT_URL_DYNAMODB=http://$HOST:${PORT[dynamodb]}
export AWS_ENDPOINT_URL=http://$HOST:${PORT[moto]}
export AWS_REGION=$REGION
export AWS_DEFAULT_REGION=$REGION
export AWS_ACCESS_KEY_ID=test
export AWS_SECRET_ACCESS_KEY=test
export AWS_EC2_METADATA_DISABLED=true
EOF
    mv "$STATE/env.tmp" "$STATE/env"
}

cmd_start() {
    [[ $# -eq 1 ]] || usage
    # A failed or interrupted start stops what it began.
    trap 'stop_all "$STATE"' EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    start_emulators "$1"
    trap - EXIT INT TERM
    say "DynamoDB Local on $HOST:${PORT[dynamodb]}, moto on $HOST:${PORT[moto]}; env in $STATE/env"
}

cmd_stop() {
    [[ $# -eq 1 ]] || usage
    [[ -d "$1" ]] || return 0
    stop_all "$1"
}

# EXIT trap of exec: stops the emulators, and keeps their logs only when
# something failed, for reading.
exec_cleanup() {
    local status=$?
    trap - EXIT INT TERM
    stop_all "$STATE"
    if ((status == 0)); then
        rm -rf "$STATE"
    else
        say "emulator logs kept in $STATE"
    fi
    exit "$status"
}

cmd_exec() {
    [[ $# -ge 1 ]] || usage
    mkdir -p "$LOCAL/run"
    STATE="$(mktemp -d "$LOCAL/run/exec.XXXXXX")"
    trap exec_cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    start_emulators "$STATE"
    # shellcheck source=/dev/null
    source "$STATE/env"
    local status=0
    "$@" || status=$?
    exit "$status"
}

main() {
    [[ $# -ge 1 ]] || usage
    local sub="$1"
    shift
    case "$sub" in
    start) cmd_start "$@" ;;
    stop) cmd_stop "$@" ;;
    exec) cmd_exec "$@" ;;
    *) usage ;;
    esac
}

main "$@"
