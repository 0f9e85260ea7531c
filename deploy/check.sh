#!/usr/bin/env bash
# Validates deploy/: the compose file (docker compose config), the nginx configurations
# (nginx -t) and the systemd units (systemd-analyze verify), each when its tool is here.
# Exits non-zero on a real error; a missing tool is a skip, said so.
#   bash deploy/check.sh
set -euo pipefail
cd "$(dirname "$0")"
deploy=$PWD
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=0
fail() { echo "deploy-check: FAIL: $*" >&2; failed=1; }

# ---- compose ------------------------------------------------------------------------------------
if docker compose version >/dev/null 2>&1; then
  # a fresh clone has no .env: interpolate .env.example, with dummies for the required secrets
  env_file=.env
  [ -f .env ] || env_file=.env.example
  for profile in "" trial; do
    if POSTGRES_PASSWORD=${POSTGRES_PASSWORD:-check} \
       IMPORTER_DB_OWNER_PASSWORD=${IMPORTER_DB_OWNER_PASSWORD:-check} \
       IMPORTER_DB_APP_PASSWORD=${IMPORTER_DB_APP_PASSWORD:-check} \
       REDIS_PASSWORD=${REDIS_PASSWORD:-check} \
       docker compose -f compose.yaml --env-file "$env_file" ${profile:+--profile "$profile"} config -q; then
      echo "deploy-check: compose.yaml${profile:+ (profile $profile)}: ok"
    else
      fail "docker compose config${profile:+ --profile $profile} on compose.yaml"
    fi
  done
else
  echo "docker compose not available: skipped"
fi

# ---- nginx --------------------------------------------------------------------------------------
if command -v nginx >/dev/null 2>&1; then
  nginx_version=$(nginx -v 2>&1 | sed -n 's|.*nginx/\([0-9.]*\).*|\1|p')
  mkdir -p "$tmp/nginx/snippets" "$tmp/nginx/logs"
  cp nginx/snippets/*.conf "$tmp/nginx/snippets/"
  if [ -f /etc/nginx/mime.types ]; then cp /etc/nginx/mime.types "$tmp/nginx/"; else : >"$tmp/nginx/mime.types"; fi
  # a throw-away certificate stands in for the real ones
  if command -v openssl >/dev/null 2>&1; then
    openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=deploy-check \
      -keyout "$tmp/nginx/tls.key" -out "$tmp/nginx/tls.crt" >/dev/null 2>&1
  else
    echo "deploy-check: openssl not available: the TLS server blocks are checked without certificates"
  fi
  strip_tls() { if [ ! -f "$tmp/nginx/tls.crt" ]; then sed -i '/ssl_certificate/d; s/ ssl / /; s/ ssl;/;/' "$1"; fi; }

  # compose: nginx.conf as the web image holds it (paths moved into the scratch prefix)
  sed -e "s|/etc/nginx/tls/|$tmp/nginx/|g" -e "s|/tmp/nginx|$tmp/nginx/tmp|g" -e "s|/tmp/nginx.pid|$tmp/nginx/nginx.pid|" \
    nginx.conf >"$tmp/nginx/compose.conf"
  # `http2 on;` is nginx >= 1.25.1 (the image's 1.28); an older local nginx checks the rest
  if [ "$(printf '%s\n' "$nginx_version" 1.25.1 | sort -V | head -n1)" != 1.25.1 ]; then
    sed -i '/^[[:space:]]*http2 on;/d' "$tmp/nginx/compose.conf"
    echo "deploy-check: local nginx $nginx_version < 1.25.1: nginx.conf checked without 'http2 on;'"
  fi
  strip_tls "$tmp/nginx/compose.conf"
  if nginx -t -q -e stderr -p "$tmp/nginx/" -c "$tmp/nginx/compose.conf"; then
    echo "deploy-check: nginx.conf (compose): ok"
  else
    fail "nginx -t on nginx.conf"
  fi

  # Debian: the site file inside a minimal http block, as /etc/nginx/nginx.conf includes it
  mkdir -p "$tmp/nginx/sites"
  sed -e "s|/etc/ssl/certs/ssl-cert-snakeoil.pem|$tmp/nginx/tls.crt|" \
      -e "s|/etc/ssl/private/ssl-cert-snakeoil.key|$tmp/nginx/tls.key|" \
      -e "s|/var/log/nginx/|$tmp/nginx/logs/|g" \
      nginx/pacs-media-import.conf >"$tmp/nginx/sites/pacs-media-import.conf"
  strip_tls "$tmp/nginx/sites/pacs-media-import.conf"
  cat >"$tmp/nginx/site-test.conf" <<CONF
pid $tmp/nginx/site.pid;
error_log stderr;
events {}
http {
    include mime.types;
    client_body_temp_path $tmp/nginx/tmp-body;
    proxy_temp_path $tmp/nginx/tmp-proxy;
    fastcgi_temp_path $tmp/nginx/tmp-fastcgi;
    uwsgi_temp_path $tmp/nginx/tmp-uwsgi;
    scgi_temp_path $tmp/nginx/tmp-scgi;
    access_log off;
    include sites/pacs-media-import.conf;
}
CONF
  if nginx -t -q -e stderr -p "$tmp/nginx/" -c "$tmp/nginx/site-test.conf"; then
    echo "deploy-check: nginx/pacs-media-import.conf (Debian site): ok"
  else
    fail "nginx -t on nginx/pacs-media-import.conf"
  fi
else
  echo "nginx not available: nginx -t skipped"
fi

# ---- systemd ------------------------------------------------------------------------------------
# verify only where it works at all (a container without systemd may not run it): a trivial
# unit must pass first. Unknown keys and bad values are only warnings to systemd-analyze (exit
# 0), so any message about our units counts as an error here.
mkdir -p "$tmp/systemd"
printf '[Unit]\nDescription=probe\n[Service]\nType=oneshot\nExecStart=/bin/true\n' >"$tmp/systemd/deploy-check-probe.service"
if command -v systemd-analyze >/dev/null 2>&1 \
   && out=$(cd "$tmp" && systemd-analyze verify "$tmp/systemd/deploy-check-probe.service" 2>&1) && [ -z "$out" ]; then
  # ExecStart= names the install's virtualenv (/opt/pacs-media-import/app/.venv): point it at
  # this checkout's when it has one (`uv sync`), so the commands are checked to exist too
  app=/opt/pacs-media-import/app
  repo=$(cd .. && pwd)
  if [ -x "$repo/.venv/bin/uvicorn" ] && [ -x "$repo/.venv/bin/arq" ] && [ -x "$repo/.venv/bin/alembic" ]; then
    app=$repo
  else
    echo "deploy-check: no .venv in this checkout: ExecStart= commands not checked to exist"
  fi
  for unit in systemd/*.service systemd/*.target; do
    name=$(basename "$unit")
    sed "s|/opt/pacs-media-import/app|$app|g" "$unit" >"$tmp/systemd/$name"
  done
  # a template is verified through an instance
  cp "$tmp/systemd/pacs-media-import-worker@.service" "$tmp/systemd/pacs-media-import-worker@1.service"
  units=("$tmp"/systemd/pacs-media-import*.service "$tmp"/systemd/pacs-media-import*.target)
  out=$(cd "$tmp" && systemd-analyze verify "${units[@]}" 2>&1) || fail "systemd-analyze verify: exit $?"
  if [ "$app" != "$repo" ]; then
    out=$(printf '%s\n' "$out" | grep -v "Command $app/.venv/bin/[a-z]* is not executable" || true)
  fi
  if [ -n "$out" ]; then
    printf '%s\n' "$out" >&2
    fail "systemd-analyze verify reported the messages above"
  else
    echo "deploy-check: systemd units: ok"
  fi
else
  echo "systemd-analyze not usable here: systemd units skipped"
fi

exit "$failed"
