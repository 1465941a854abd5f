#!/bin/sh
# Renders nginx/nginx.conf.template into a complete nginx.conf.
#
#   nginx/render.sh [OUTPUT]        OUTPUT omitted or "-": write to stdout
#
# Settings come from the environment (defaults in brackets):
#   ACTIVE_POOL             blue|green, the primary; the other pool is the backup [blue]
#   BLUE_UPSTREAM           host:port of the blue pool [127.0.0.1:8081]
#   GREEN_UPSTREAM          host:port of the green pool [127.0.0.1:8082]
#   NGINX_LISTEN            address nginx listens on [127.0.0.1]; 0.0.0.0 in a container
#   NGINX_PORT              port nginx listens on [8080]
#   NGINX_RUN_DIR           prefix for pid and temp files [${TMPDIR:-/tmp}/poolwatch-nginx]
#   ACCESS_LOG              the file poolwatch follows [$NGINX_RUN_DIR/logs/access.log]
#   ERROR_LOG               nginx's error log [$NGINX_RUN_DIR/logs/error.log]
#   NGINX_WORKER_PROCESSES  [auto]
#   NGINX_TEMPLATE          the template [nginx.conf.template next to this script]
#
# It creates NGINX_RUN_DIR and the log directories when missing (mode 755: nginx started as
# root runs its workers as nobody, who must reach them). POSIX sh, so it also runs in the
# nginx image, whose only extra tool it needs is envsubst.
#
# Then: nginx -p "$NGINX_RUN_DIR" -c OUTPUT [-g 'daemon off;'], or -s reload after a change.
set -eu

die() {
  echo "render.sh: $*" >&2
  exit 1
}

here=$(cd "$(dirname "$0")" && pwd)
template=${NGINX_TEMPLATE:-$here/nginx.conf.template}
output=${1:--}

ACTIVE_POOL=${ACTIVE_POOL:-blue}
BLUE_UPSTREAM=${BLUE_UPSTREAM:-127.0.0.1:8081}
GREEN_UPSTREAM=${GREEN_UPSTREAM:-127.0.0.1:8082}
NGINX_LISTEN=${NGINX_LISTEN:-127.0.0.1}
NGINX_PORT=${NGINX_PORT:-8080}
NGINX_RUN_DIR=${NGINX_RUN_DIR:-${TMPDIR:-/tmp}/poolwatch-nginx}
ACCESS_LOG=${ACCESS_LOG:-$NGINX_RUN_DIR/logs/access.log}
ERROR_LOG=${ERROR_LOG:-$NGINX_RUN_DIR/logs/error.log}
NGINX_WORKER_PROCESSES=${NGINX_WORKER_PROCESSES:-auto}

case "$ACTIVE_POOL" in
  blue)
    BACKUP_POOL=green
    PRIMARY_UPSTREAM=$BLUE_UPSTREAM
    BACKUP_UPSTREAM=$GREEN_UPSTREAM
    ;;
  green)
    BACKUP_POOL=blue
    PRIMARY_UPSTREAM=$GREEN_UPSTREAM
    BACKUP_UPSTREAM=$BLUE_UPSTREAM
    ;;
  *) die "ACTIVE_POOL must be blue or green, not '$ACTIVE_POOL'" ;;
esac

# Values land inside nginx directives: refuse anything that could end one (; { } or spaces)
# rather than render a config that means something else.
for pair in "BLUE_UPSTREAM=$BLUE_UPSTREAM" "GREEN_UPSTREAM=$GREEN_UPSTREAM" \
  "NGINX_LISTEN=$NGINX_LISTEN" "NGINX_RUN_DIR=$NGINX_RUN_DIR" "ACCESS_LOG=$ACCESS_LOG" \
  "ERROR_LOG=$ERROR_LOG" "NGINX_WORKER_PROCESSES=$NGINX_WORKER_PROCESSES"; do
  name=${pair%%=*}
  value=${pair#*=}
  case "$value" in
    "" | *[\;\{\}\ \	\'\"\$]*) die "$name has an empty or unsafe value: '$value'" ;;
  esac
done
for pair in "BLUE_UPSTREAM=$BLUE_UPSTREAM" "GREEN_UPSTREAM=$GREEN_UPSTREAM"; do
  case "${pair#*=}" in
    *:[0-9]*) ;;
    *) die "${pair%%=*} must be host:port, not '${pair#*=}'" ;;
  esac
done
case "$NGINX_PORT" in
  "" | *[!0-9]*) die "NGINX_PORT must be a number, not '$NGINX_PORT'" ;;
esac
[ -r "$template" ] || die "cannot read template $template"
command -v envsubst >/dev/null 2>&1 || die "envsubst not found (Debian: gettext-base)"

export ACTIVE_POOL BACKUP_POOL BLUE_UPSTREAM GREEN_UPSTREAM PRIMARY_UPSTREAM BACKUP_UPSTREAM \
  NGINX_LISTEN NGINX_PORT NGINX_RUN_DIR ACCESS_LOG ERROR_LOG NGINX_WORKER_PROCESSES

# The explicit list is the point: only these are replaced, nginx's $variables stay.
# shellcheck disable=SC2016 # the ${NAME}s are for envsubst, not for the shell
variables='${ACTIVE_POOL} ${BACKUP_POOL} ${BLUE_UPSTREAM} ${GREEN_UPSTREAM}
${PRIMARY_UPSTREAM} ${BACKUP_UPSTREAM} ${NGINX_LISTEN} ${NGINX_PORT} ${NGINX_RUN_DIR}
${ACCESS_LOG} ${ERROR_LOG} ${NGINX_WORKER_PROCESSES}'

rendered=$(envsubst "$variables" <"$template")
# shellcheck disable=SC2016 # a pattern, not an expansion
# A ${NAME} left over is a template variable missing from the list above; nginx would
# reject it with a less helpful message, or worse, read it as one of its own.
leftover=$(printf '%s\n' "$rendered" | grep -o '\${[A-Za-z_][A-Za-z0-9_]*}' | sort -u | tr '\n' ' ' || true)
[ -z "$leftover" ] || die "template variables not in render.sh's list: $leftover"

make_dir() {
  [ -d "$1" ] && return 0
  mkdir -p "$1"
  chmod 755 "$1"
}
make_dir "$NGINX_RUN_DIR"
make_dir "$(dirname "$ACCESS_LOG")"
case "$ERROR_LOG" in
  stderr | /dev/* | syslog:*) ;;
  *) make_dir "$(dirname "$ERROR_LOG")" ;;
esac

if [ "$output" = "-" ]; then
  printf '%s\n' "$rendered"
else
  # Write then rename, so an nginx reload never reads a half-written file.
  tmp="$output.tmp.$$"
  printf '%s\n' "$rendered" >"$tmp"
  chmod 644 "$tmp"
  mv -f "$tmp" "$output"
fi
