#!/usr/bin/env bash
# Runs docs/deploy/nginx.conf in front of the server, over HTTPS with a self-signed certificate,
# loopback only: only the ports, the certificate's paths and the server's port are changed.
# Checks that a request goes through with the server's security headers intact, HSTS added,
# that plain HTTP redirects, and that the client's address reaches the server's throttles.
# Usage: tests/deploy/nginx_tls.sh [SERVER_BIN]   (default: target/debug/assiette-server)
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${1:-${ASSIETTE_SERVER_BIN:-target/debug/assiette-server}}
command -v nginx >/dev/null || { echo "nginx introuvable : lancez scripts/setup.sh" >&2; exit 1; }
[ -x "$BIN" ] || { echo "serveur introuvable : $BIN (cargo build -p assiette-server)" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/assiette-nginx-XXXXXX")
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "ÉCHEC : $*" >&2; for f in "$work"/*.log; do echo "--- $f" >&2; tail -n 20 "$f" >&2; done; exit 1; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
app_port=$(free_port); https_port=$(free_port); http_port=$(free_port)
host=assiette.example.fr

openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=$host" -addext "subjectAltName=DNS:$host" \
  -keyout "$work/privkey.pem" -out "$work/fullchain.pem" 2>"$work/openssl.log" || fail "certificat"

mkdir -p "$work/static"
echo '<!doctype html><title>Assiette</title>' >"$work/static/index.html"
ASSIETTE_PORT=$app_port DATABASE_URL="sqlite://$work/assiette.sqlite3" ASSIETTE_STATIC_DIR="$work/static" \
  ASSIETTE_TRUSTED_PROXIES=127.0.0.1 RUST_LOG=warn "$BIN" serve >"$work/server.log" 2>&1 &
pids+=($!)

# The example, with loopback ports and the temporary certificate.
sed -e "s|listen 80;|listen 127.0.0.1:$http_port;|" \
    -e "s|listen 443 ssl http2;|listen 127.0.0.1:$https_port ssl http2;|" \
    -e "s|/etc/ssl/assiette/|$work/|" \
    -e "s|proxy_pass http://127.0.0.1:8080;|proxy_pass http://127.0.0.1:$app_port;|" \
    docs/deploy/nginx.conf >"$work/assiette.conf"
for changed in "127.0.0.1:$http_port;" "127.0.0.1:$https_port ssl" "$work/fullchain.pem" "127.0.0.1:$app_port;"; do
  grep -qF "$changed" "$work/assiette.conf" || fail "docs/deploy/nginx.conf a changé : « $changed » non substitué"
done
mkdir -p "$work/nginx"
cat >"$work/nginx.conf" <<CONF
worker_processes 1;
pid $work/nginx.pid;
error_log $work/nginx-error.log warn;
events { worker_connections 64; }
http {
    access_log off;
    client_body_temp_path $work/nginx/body;
    proxy_temp_path $work/nginx/proxy;
    fastcgi_temp_path $work/nginx/fastcgi;
    uwsgi_temp_path $work/nginx/uwsgi;
    scgi_temp_path $work/nginx/scgi;
    include $work/assiette.conf;
}
CONF
# nginx started as root runs its worker as nobody: it must read the temporary folder.
chmod 755 "$work"
nginx -t -c "$work/nginx.conf" -p "$work" >"$work/nginx-test.log" 2>&1 || fail "nginx -t"
nginx -c "$work/nginx.conf" -p "$work" -g 'daemon off;' >"$work/nginx.log" 2>&1 &
pids+=($!)

curl_tls() { curl -sS --max-time 10 --cacert "$work/fullchain.pem" --resolve "$host:$https_port:127.0.0.1" "$@"; }
# -f: nginx answers 502 until the server listens (its migrations run first), and that must
# keep the loop waiting, not end it.
for _ in $(seq 300); do
  curl_tls -f -o /dev/null "https://$host:$https_port/api/v1/health" 2>/dev/null && break
  sleep 0.1
done

headers=$(curl_tls -D - -o "$work/health.json" "https://$host:$https_port/api/v1/health") || fail "HTTPS injoignable"
echo "$headers" | grep -q "^HTTP/[0-9.]* 200" || fail "health : $headers"
grep -q '"status":"ok"' "$work/health.json" || fail "health : $(cat "$work/health.json")"
page=$(curl_tls -D - -o /dev/null "https://$host:$https_port/") || fail "page"
for h in "content-security-policy: default-src 'self'" "x-content-type-options: nosniff" "referrer-policy: no-referrer" \
         "x-frame-options: DENY" "strict-transport-security: max-age=31536000"; do
  echo "$headers" | grep -qiF "$h" || fail "en-tête absent de l'API : $h"
  echo "$page" | grep -qiF "$h" || fail "en-tête absent de la page : $h"
done
# Plain HTTP answers a redirect to HTTPS.
redirect=$(curl -sS --max-time 10 -D - -o /dev/null -H "Host: $host" "http://127.0.0.1:$http_port/api/v1/health") || fail "HTTP"
echo "$redirect" | grep -q "^HTTP/[0-9.]* 301" || fail "pas de redirection : $redirect"
echo "$redirect" | grep -qiF "location: https://$host/api/v1/health" || fail "redirection : $redirect"
# A throttled reply keeps its Retry-After through nginx (enrolment: 20 attempts per address).
status=""
for _ in $(seq 25); do
  status=$(curl_tls -o /dev/null -w '%{http_code}' -H 'content-type: application/json' \
    --data '{"code":"ABCD-EFGH"}' "https://$host:$https_port/api/v1/enrol")
  [ "$status" = 429 ] && break
done
[ "$status" = 429 ] || fail "jamais 429 après 25 codes faux (dernier : $status)"
curl_tls -D - -o /dev/null -H 'content-type: application/json' --data '{"code":"ABCD-EFGH"}' \
  "https://$host:$https_port/api/v1/enrol" | grep -qi "^retry-after: [0-9]" || fail "Retry-After perdu"
echo "nginx (docs/deploy/nginx.conf) : HTTPS, en-têtes de sécurité, HSTS, redirection HTTP et Retry-After vérifiés."
