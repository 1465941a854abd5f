#!/usr/bin/env bash
# The local demo: nginx on :8080 in front of blue (:8081) and green (:8082), and poolwatch
# (:10090) following nginx's access log. Alerts print here, or go to Slack when
# SLACK_WEBHOOK_URL is set. Ctrl-C stops everything this script started.
# Settings: ACTIVE_POOL, ERROR_RATE_THRESHOLD, WINDOW_SIZE, ALERT_COOLDOWN_SEC,
# MAINTENANCE_MODE (see .env.example); NGINX_PORT, BLUE_PORT, GREEN_PORT, POOLWATCH_PORT.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

bash scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build --parallel "$(nproc)" --target poolwatch poolwatch-demo-app

NGINX_PORT=${NGINX_PORT:-8080}
BLUE_PORT=${BLUE_PORT:-8081}
GREEN_PORT=${GREEN_PORT:-8082}
POOLWATCH_PORT=${POOLWATCH_PORT:-10090}
export ACTIVE_POOL=${ACTIVE_POOL:-blue}

for port in "$NGINX_PORT" "$BLUE_PORT" "$GREEN_PORT" "$POOLWATCH_PORT"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "demo: port $port on 127.0.0.1 is already in use; stop what runs there or set the *_PORT variables" >&2
    exit 1
  fi
done

run_dir=$root/.demo
rm -rf "$run_dir"
mkdir -p "$run_dir/nginx/logs"
chmod 755 "$run_dir" "$run_dir/nginx" "$run_dir/nginx/logs"

pids=()
nginx_pid_file=$run_dir/nginx/nginx.pid
stop_all() {
  trap - INT TERM EXIT
  echo
  echo "demo: stopping"
  [ -f "$nginx_pid_file" ] && kill -QUIT "$(cat "$nginx_pid_file")" 2>/dev/null || true
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap stop_all INT TERM EXIT

RELEASE_ID=${RELEASE_ID_BLUE:-v1.0.0} build/demo/poolwatch-demo-app --port "$BLUE_PORT" --pool blue \
  >"$run_dir/blue.log" 2>&1 &
pids+=($!)
RELEASE_ID=${RELEASE_ID_GREEN:-v2.0.0} build/demo/poolwatch-demo-app --port "$GREEN_PORT" --pool green \
  >"$run_dir/green.log" 2>&1 &
pids+=($!)

BLUE_UPSTREAM=127.0.0.1:$BLUE_PORT GREEN_UPSTREAM=127.0.0.1:$GREEN_PORT NGINX_PORT=$NGINX_PORT \
  NGINX_RUN_DIR=$run_dir/nginx sh nginx/render.sh "$run_dir/nginx/nginx.conf"
nginx=$(command -v nginx || echo /usr/sbin/nginx)
"$nginx" -p "$run_dir/nginx" -c "$run_dir/nginx/nginx.conf"

build/app/poolwatch --log.path "$run_dir/nginx/logs/access.log" \
  --web.listen-address "127.0.0.1:$POOLWATCH_PORT" --web.enable-admin-api &
pids+=($!)

for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$POOLWATCH_PORT/-/ready" >/dev/null 2>&1 && break
  sleep 0.1
done

# The webhook URL is a secret: say where alerts go, never print the URL itself.
if [ -n "${SLACK_WEBHOOK_URL:-}" ]; then
  alerts="sent to Slack (SLACK_WEBHOOK_URL is set)"
else
  alerts="printed below (set SLACK_WEBHOOK_URL to send them to Slack)"
fi
nginx_url=http://127.0.0.1:$NGINX_PORT
poolwatch_url=http://127.0.0.1:$POOLWATCH_PORT

cat <<INFO

poolwatch demo is running (primary pool: $ACTIVE_POOL).
  app through nginx   $nginx_url/version
  blue / green        http://127.0.0.1:$BLUE_PORT/version  http://127.0.0.1:$GREEN_PORT/version
  status page         $poolwatch_url/
  metrics             $poolwatch_url/metrics
  access log          $run_dir/nginx/logs/access.log
Alerts: $alerts.

Try, in another terminal (watch the status page meanwhile):
  traffic() { for i in \$(seq \${1:-50}); do curl -s $nginx_url/version; echo; done; }
  traffic
  curl -X POST "http://127.0.0.1:$BLUE_PORT/chaos/start?mode=error"     # blue fails:
  traffic                                                             #   failover alert
  curl -X POST "http://127.0.0.1:$GREEN_PORT/chaos/start?mode=error"    # green fails too:
  traffic                                                             #   error-rate alert
  curl -X POST http://127.0.0.1:$GREEN_PORT/chaos/stop
  curl -X POST http://127.0.0.1:$BLUE_PORT/chaos/stop                   # both healthy again:
  sleep 6; traffic 650                                                #   back on blue; both resolve a minute later
  curl -X POST -H 'Content-Type: application/json' \\
       -d '{"enabled": true, "until": "$(date -u -d '+1 hour' +%Y-%m-%dT%H:%M:%SZ)"}' \\
       $poolwatch_url/api/v1/maintenance                   # mute failover alerts for an hour
An alert resolves only once it is clearly over, so an incident is one alert and one all-clear:
the failover 30 s after blue answers again (and 10 requests), the error rate once the failed
requests have left its window of the last 200 and 400 more have come clean over a minute, which
the 650 requests of the last step give (the status page says "resolving" meanwhile).
Press Ctrl-C to stop.

INFO
wait "${pids[2]}"
