#!/bin/sh
# entrypoint.sh: the bundled entrypoint of sandbox-api images.
#
# Copy it into an image next to the daemon:
#   COPY --from=sandbox-api:latest /sandbox-api /usr/local/bin/sandbox-api
#   COPY entrypoint.sh /entrypoint.sh
#   ENTRYPOINT ["/entrypoint.sh"]
#
# It starts sandbox-api in the background, waits until GET /health answers,
# starts the image's startup commands through the API (POST /process, so
# their status and logs can be read by name with GET /process/{name}), then
# waits for the daemon, forwarding SIGTERM and SIGINT to it: `docker stop`
# makes the daemon end every process group and exit. The entrypoint's exit
# status is the daemon's.
#
# A daemon that dies on its own once it has answered (a crash, the OOM
# killer, a kill -9) is started again with the same arguments and token,
# unless the entrypoint was told to stop: at once the first time, then
# after about 1, 2, 4... (at most 30) seconds, at most SANDBOX_RESTART_MAX
# times within SANDBOX_RESTART_WINDOW seconds; past that the entrypoint
# exits with the daemon's status. Each restart is said on stderr. The new
# daemon lists the earlier processes from its log folder (failed, no longer
# supervised; those still running are not stopped); the startup commands
# are not started again.
#
# Environment:
#   SANDBOX_API_BIN        the daemon (default /usr/local/bin/sandbox-api)
#   SANDBOX_API_PORT       its port (default 8080); the entrypoint talks to
#                          http://127.0.0.1:PORT, so do not put --port or
#                          --host in SANDBOX_API_ARGS
#   SANDBOX_API_ARGS       extra daemon flags, split on blanks (no quoting)
#   SANDBOX_API_TOKEN      given to the daemon; also sent by the entrypoint
#                          (use it rather than --token in SANDBOX_API_ARGS).
#                          Neither the entrypoint's environment nor the
#                          commands' hold it once the script has started.
#   SANDBOX_READY_TIMEOUT  seconds to wait for /health (default 30, 0 = no
#                          limit); on expiry: an error, the daemon is
#                          stopped, exit 1
#   SANDBOX_RESTART_MAX    restarts of a daemon that died on its own allowed
#                          within the window (default 5, 0 = never restart)
#   SANDBOX_RESTART_WINDOW that window, in seconds (default 60)
#   SANDBOX_STARTUP        startup commands, one per line, started in order;
#                          a line "NAME: command" (NAME of [A-Za-z0-9_.-]+)
#                          names its process NAME, any other line is named
#                          startup-N, N being its rank among the commands
#                          (from 1). Blank lines and lines starting with #
#                          are skipped; blanks around a line are ignored.
#
# Arguments: the container's arguments, if any, joined with spaces, form
# ONE command started as process "main", after the SANDBOX_STARTUP lines.
# Every command runs as `$SHELL -c command` in the entrypoint's working
# directory, with waitForCompletion false. A command that cannot be started
# is reported on stderr with the API's error; the entrypoint goes on, the
# daemon stays up so the failure can be investigated.
#
# Needs: sh (dash, bash or busybox ash), sleep, date, and an HTTP client:
# curl, else GNU wget, else nc (with wc), else busybox's wget (which cannot
# show the API's error when a start fails). Without any, use
# ENTRYPOINT ["/usr/local/bin/sandbox-api", "-c", "command"] instead.

# The token must not stay in this shell's environment: a process that may
# read /proc/<pid>/environ sees the block the shell was started with, which
# unset does not change. So the script executes its shell again, once and
# as the same process, with the token moved to a pipe on descriptor 9 (a
# here-document), and reads it back. Without /proc or readlink it cannot,
# and only unsets it: the daemon and the commands do not inherit it.
token=${SANDBOX_API_TOKEN:-}
unset SANDBOX_API_TOKEN
if [ -n "${SANDBOX_ENTRYPOINT_TOKEN_FD:-}" ]; then
	unset SANDBOX_ENTRYPOINT_TOKEN_FD
	IFS= read -r token <&9 || token=
	exec 9<&-
elif [ -n "$token" ] && [ -f "$0" ] && self=$(readlink "/proc/$$/exe" 2>/dev/null) && [ -x "$self" ]; then
	# busybox and toybox pick the applet from their first argument.
	case ${self##*/} in
	*busybox* | *toybox*) set -- sh "$0" "$@" ;;
	*) set -- "$0" "$@" ;;
	esac
	SANDBOX_ENTRYPOINT_TOKEN_FD=9
	export SANDBOX_ENTRYPOINT_TOKEN_FD
	exec "$self" "$@" 9<<EOF
$token
EOF
fi

nl='
'
tab=$(printf '\t')
cr=$(printf '\r')
# A shell may inherit IFS; splitting of SANDBOX_API_ARGS needs the default.
IFS=" $tab$nl"
# Control characters JSON cannot hold raw (\001 to \037).
ctl=$(printf '\001\002\003\004\005\006\007\010\011\012\013\014\015\016\017\020\021\022\023\024\025\026\027\030\031\032\033\034\035\036\037')

bin=${SANDBOX_API_BIN:-/usr/local/bin/sandbox-api}
port=${SANDBOX_API_PORT:-8080}
ready_timeout=${SANDBOX_READY_TIMEOUT:-30}
restart_max=${SANDBOX_RESTART_MAX:-5}
restart_window=${SANDBOX_RESTART_WINDOW:-60}
base_url="http://127.0.0.1:$port"

say() { printf 'entrypoint: %s\n' "$*" >&2; }
fail() {
	say "error: $*"
	exit 1
}
has() { command -v "$1" >/dev/null 2>&1; }

case $port in '' | *[!0-9]*) fail "SANDBOX_API_PORT=$port is not a port number" ;; esac
case $ready_timeout in '' | *[!0-9]*) fail "SANDBOX_READY_TIMEOUT=$ready_timeout is not a whole number of seconds" ;; esac
case $restart_max in '' | *[!0-9]*) fail "SANDBOX_RESTART_MAX=$restart_max is not a whole number" ;; esac
case $restart_window in '' | *[!0-9]*) fail "SANDBOX_RESTART_WINDOW=$restart_window is not a whole number of seconds" ;; esac
case $bin in */*) [ -f "$bin" ] && [ -x "$bin" ] ;; *) has "$bin" ;; esac ||
	fail "SANDBOX_API_BIN=$bin: not found or not executable"

# The HTTP client: whichever the image has, curl first. A failed start must
# be reported with the API's error, which busybox's wget cannot show (it
# prints the status line only): nc goes before any wget but GNU's.
gnu_wget() { has wget && case $(wget --version 2>/dev/null) in *'GNU Wget'*) true ;; *) false ;; esac; }
if has curl; then
	tool=curl
elif gnu_wget; then
	tool=gnu-wget
elif has nc; then
	tool=nc
elif has wget; then
	tool=wget
else
	fail "none of curl, wget or nc is installed: install one, or make the daemon the entrypoint: [\"$bin\", \"-c\", \"<command>\"]"
fi

now() { date +%s; }
nap() { sleep 0.1 2>/dev/null || sleep 1; }

# json_escape S: sets $json to S as the inside of a JSON string. Pure sh,
# because an image with a shell may still lack sed or awk. Only ASCII
# characters are escaped, so UTF-8 passes through untouched.
json_escape() {
	_rest=$1
	json=
	while :; do
		_plain=${_rest%%[\"\\"$ctl"]*}
		json=$json$_plain
		[ "$_plain" = "$_rest" ] && return
		_rest=${_rest#"$_plain"}
		_char=${_rest%"${_rest#?}"}
		_rest=${_rest#?}
		case $_char in
		\") json=$json'\"' ;;
		\\) json=$json\\\\ ;;
		"$nl") json=$json'\n' ;;
		"$tab") json=$json'\t' ;;
		"$cr") json=$json'\r' ;;
		*) json=$json$(printf '\\u%04x' "'$_char") ;;
		esac
	done
}

# http PATH [JSON]: GET PATH, or POST JSON to it. Returns 0 on a 2xx answer;
# otherwise sets $http_error to what went wrong (the API's error body when
# the tool can show it). The token goes through stdin where the tool allows,
# to keep it out of the process list.
http() {
	_url=$base_url$1
	http_error=
	case $tool in
	curl)
		if [ $# -gt 1 ]; then
			_out=$(auth_header | curl -sS --noproxy "*" --max-time 30 -H @- -H 'Content-Type: application/json' --data-binary "$2" -w "$nl%{http_code}" "$_url" 2>&1)
		else
			_out=$(curl -sS --noproxy "*" --max-time 2 -w "$nl%{http_code}" "$_url" 2>&1)
		fi
		_rc=$?
		_code=${_out##*"$nl"}
		_body=${_out%"$nl"*}
		[ "$_rc" -eq 0 ] && case $_code in 2??) return 0 ;; esac
		[ "$_rc" -eq 0 ] && _body="HTTP $_code: $_body"
		;;
	wget | gnu-wget)
		_data=${2-}
		_post=$#
		# -Y off: no proxy for 127.0.0.1. busybox's wget has no timeout
		# option (Debian's crashes on -T); GNU wget would retry 20 times.
		set -- -q -O -
		if [ "$tool" = gnu-wget ]; then
			set -- "$@" --no-proxy --tries=1 --content-on-error -T "$([ "$_post" -gt 1 ] && echo 30 || echo 2)"
		else
			set -- "$@" -Y off
		fi
		[ -n "$token" ] && set -- "$@" --header "Authorization: Bearer $token"
		[ "$_post" -gt 1 ] && set -- "$@" --header 'Content-Type: application/json' --post-data "$_data"
		_out=$(wget "$@" "$_url" 2>&1)
		_rc=$?
		[ "$_rc" -eq 0 ] && return 0
		_body=${_out:-wget exited with status $_rc}
		;;
	nc)
		if [ $# -gt 1 ]; then
			_len=$(printf '%s' "$2" | wc -c)
			_req="POST $1 HTTP/1.0${cr}${nl}Content-Type: application/json${cr}${nl}Content-Length: ${_len#"${_len%%[!" "]*}"}${cr}${nl}"
			[ -n "$token" ] && _req="${_req}Authorization: Bearer $token${cr}${nl}"
			_req="$_req${cr}${nl}$2"
		else
			_req="GET $1 HTTP/1.0${cr}${nl}${cr}${nl}"
		fi
		_out=$(printf '%s' "$_req" | nc -w 5 127.0.0.1 "$port" 2>&1)
		_status=${_out%%"$cr"*}
		case $_status in "HTTP/1."?" 2"??" "*) return 0 ;; esac
		_body=${_out#*"$cr$nl$cr$nl"}
		case $_status in
		"HTTP/"*)
			_code=${_status#* }
			_body="HTTP ${_code%% *}: $_body"
			;;
		*) _body=${_out:-nc exited without an answer} ;;
		esac
		;;
	esac
	# Error bodies end with a newline; the report is one line.
	while :; do
		case $_body in
		*"$nl" | *"$cr") _body=${_body%?} ;;
		*) break ;;
		esac
	done
	http_error=$_body
	return 1
}

auth_header() {
	[ -n "$token" ] && printf 'Authorization: Bearer %s\n' "$token"
	return 0
}

# start NAME COMMAND: starts COMMAND through the API as process NAME.
start() {
	json_escape "$1"
	_body="{\"name\":\"$json\""
	json_escape "$2"
	_body="$_body,\"command\":\"$json\""
	json_escape "$workdir"
	_body="$_body,\"workingDir\":\"$json\",\"waitForCompletion\":false}"
	if http /process "$_body"; then
		say "started $1: $2"
	else
		say "error: could not start $1 ($2): $http_error"
	fi
}

# trim S: sets $trimmed to S without surrounding blanks (a CR included, for
# variables written with Windows line ends).
trim() {
	trimmed=${1#"${1%%[!" $tab$cr"]*}"}
	trimmed=${trimmed%"${trimmed##*[!" $tab$cr"]}"}
}

# stop_daemon: the daemon had its chance; SIGTERM, then SIGKILL if it is
# still there after its default grace period and a margin.
stop_daemon() {
	kill -TERM "$daemon" 2>/dev/null
	_until=$(($(now) + 15))
	while kill -0 "$daemon" 2>/dev/null && [ "$(now)" -lt "$_until" ]; do nap; done
	kill -KILL "$daemon" 2>/dev/null
	wait "$daemon" 2>/dev/null
}

# Signals only set a flag and pass on: the daemon does the shutting down.
# Set before the daemon starts so that no signal is lost in between.
daemon=
stopping=
# shellcheck disable=SC2317 # called by the traps
forward() {
	stopping=1
	[ -n "$daemon" ] && kill -"$1" "$daemon" 2>/dev/null
}
trap 'forward TERM' TERM
trap 'forward INT' INT

# start_daemon: the daemon in the background, its pid in $daemon.
start_daemon() {
	# Word splitting of SANDBOX_API_ARGS is the interface; globbing is not.
	set -f
	# The token goes in the daemon's environment only (the daemon hides it
	# in turn).
	# shellcheck disable=SC2086
	SANDBOX_API_TOKEN=$token "$bin" --port "$port" ${SANDBOX_API_ARGS:-} &
	daemon=$!
	set +f
	# A signal trapped before $daemon was set was not passed on.
	[ -n "$stopping" ] && kill -TERM "$daemon" 2>/dev/null
	return 0
}
start_daemon

# Wait for /health, unless the daemon dies or is told to stop first.
deadline=$(($(now) + ready_timeout))
until http /health; do
	if ! kill -0 "$daemon" 2>/dev/null; then
		wait "$daemon"
		status=$?
		say "error: sandbox-api exited with status $status before answering $base_url/health"
		exit "$status"
	fi
	[ -n "$stopping" ] && break
	# -gt: whole seconds, so waiting past the deadline's second is the
	# only way to never give up before the limit.
	if [ "$ready_timeout" -gt 0 ] && [ "$(now)" -gt "$deadline" ]; then
		say "error: sandbox-api did not answer $base_url/health within ${ready_timeout}s (SANDBOX_READY_TIMEOUT); stopping it"
		stop_daemon
		exit 1
	fi
	nap
done

if [ -z "$stopping" ]; then
	say "sandbox-api is ready on $base_url (checked with $tool)"
	workdir=$(pwd)
	rank=0
	while IFS= read -r line <&3; do
		[ -n "$stopping" ] && break
		trim "$line"
		case $trimmed in '' | '#'*) continue ;; esac
		rank=$((rank + 1))
		name=${trimmed%%: *}
		case $name in
		"$trimmed" | '' | *[!A-Za-z0-9_.-]*)
			name=startup-$rank
			cmd=$trimmed
			;;
		*)
			trim "${trimmed#*: }"
			cmd=$trimmed
			;;
		esac
		start "$name" "$cmd"
	done 3<<EOF
${SANDBOX_STARTUP:-}
EOF
	if [ $# -gt 0 ] && [ -z "$stopping" ]; then
		IFS=' '
		cmd="$*"
		IFS=" $tab$nl"
		start main "$cmd"
	fi
fi

# A trapped signal interrupts wait; the daemon is then shutting down, so
# wait again until it is gone. Shells remember a reaped child's status, so
# the last wait gives the daemon's own. A daemon that died on its own
# while nobody asked for a stop is started again, within the bound.
restarts=0
window_start=$(now)
while :; do
	while kill -0 "$daemon" 2>/dev/null; do wait "$daemon"; done
	wait "$daemon"
	status=$?
	[ -n "$stopping" ] && exit "$status"
	t=$(now)
	if [ $((t - window_start)) -ge "$restart_window" ]; then
		restarts=0
		window_start=$t
	fi
	if [ "$restarts" -ge "$restart_max" ]; then
		say "error: sandbox-api exited with status $status on its own, after $restarts restarts within ${restart_window}s (SANDBOX_RESTART_MAX=$restart_max); giving up"
		exit "$status"
	fi
	# At once the first time, then 1, 2, 4... seconds, 30 at most.
	delay=0
	[ "$restarts" -gt 0 ] && delay=30
	[ "$restarts" -gt 0 ] && [ "$restarts" -le 5 ] && delay=$((1 << (restarts - 1)))
	restarts=$((restarts + 1))
	say "sandbox-api exited with status $status on its own; restarting it in ${delay}s (restart $restarts of at most $restart_max within ${restart_window}s)"
	_until=$(($(now) + delay))
	while [ -z "$stopping" ] && [ "$(now)" -lt "$_until" ]; do nap; done
	[ -n "$stopping" ] && exit "$status"
	start_daemon
done
