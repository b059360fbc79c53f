#!/bin/sh
# Entry point of the syncd image.
#   syncd-entrypoint ARGS...     exec `syncd ARGS` (default: run), so SIGTERM reaches syncd
#   syncd-entrypoint healthcheck probe $SYNCD_HEALTH_URL (the image's HEALTHCHECK)
# With $SYNCD_SANDBOX_CONFIG set (compose.yaml), it first waits up to $SYNCD_WAIT_S seconds
# for the config the sandbox service writes, and runs on a copy of it with the state in
# $SYNCD_STATE_URL (password: $SYNCD_STATE_PASSWORD, a secret reference) and the metrics
# listener on $SYNCD_METRICS_LISTEN.
set -eu

if [ "${1:-}" = "healthcheck" ]; then
    exec python -c 'import os, sys, urllib.request
try:
    urllib.request.urlopen(os.environ["SYNCD_HEALTH_URL"], timeout=5)
except Exception as exc:
    sys.exit(f"healthcheck: {type(exc).__name__}")'
fi

if [ -n "${SYNCD_SANDBOX_CONFIG:-}" ]; then
    waited=0
    while [ ! -s "$SYNCD_SANDBOX_CONFIG" ]; do
        if [ "$waited" -ge "${SYNCD_WAIT_S:-120}" ]; then
            echo "syncd-entrypoint: $SYNCD_SANDBOX_CONFIG did not appear within ${SYNCD_WAIT_S:-120}s; is the sandbox service running?" >&2
            exit 78
        fi
        sleep 1
        waited=$((waited + 1))
    done
    SYNCD_CONFIG="${TMPDIR:-/tmp}/syncd-instance.toml"
    export SYNCD_CONFIG
    python - <<'PY'
import os, tomllib
from pathlib import Path

from syncd.sandbox import to_toml

config = tomllib.loads(Path(os.environ["SYNCD_SANDBOX_CONFIG"]).read_text(encoding="utf-8"))
state = {"url": os.environ.get("SYNCD_STATE_URL", "")}
if os.environ.get("SYNCD_STATE_PASSWORD"):
    state["password"] = os.environ["SYNCD_STATE_PASSWORD"]
config["state"] = state
if os.environ.get("SYNCD_METRICS_LISTEN"):
    config["metrics"] = {"listen": os.environ["SYNCD_METRICS_LISTEN"]}
if os.environ.get("SYNCD_POLL_INTERVAL_S"):
    config["daemon"] = {"poll_interval_s": float(os.environ["SYNCD_POLL_INTERVAL_S"]), "watchdog": False}
target = Path(os.environ["SYNCD_CONFIG"])
target.write_text(to_toml(config), encoding="utf-8")
target.chmod(0o600)
PY
fi

exec syncd "$@"
