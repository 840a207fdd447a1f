#!/usr/bin/env bash
# Runs deploy/nginx/auth-web.conf in the foreground on this machine:
#
#   deploy/nginx/run-local.sh LISTEN_PORT APP_PORT
#
# HTTPS on 127.0.0.1:LISTEN_PORT, with a self-signed certificate made for
# this run, in front of auth-web on 127.0.0.1:APP_PORT. The configuration is
# the production file with only its addresses, ports and certificate paths
# changed (the plain-HTTP redirect listens on LISTEN_PORT + 1). Everything it
# makes lives in a temporary directory, removed when nginx exits (Ctrl-C, or
# a TERM signal). Once nginx accepts connections it prints a line starting
# "ready:" that ends with the path of the run's CA certificate, for clients
# to trust.
set -euo pipefail

if [ $# -ne 2 ]; then
    echo "usage: $0 LISTEN_PORT APP_PORT" >&2
    exit 2
fi
listen_port=$1
app_port=$2
redirect_port=$((listen_port + 1))
here=$(cd "$(dirname "$0")" && pwd)
nginx=$(command -v nginx || echo /usr/sbin/nginx)

dir=$(mktemp -d)
cleanup() {
    if [ -n "${nginx_pid:-}" ]; then
        kill "$nginx_pid" 2> /dev/null || true
        wait "$nginx_pid" 2> /dev/null || true
    fi
    rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 0' INT TERM

# A CA for this run, and the server's certificate signed by it: clients
# trust ca.pem, as they would a real CA.
key_options=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
openssl req -x509 "${key_options[@]}" -days 1 -subj "/CN=auth-web run-local CA" \
    -keyout "$dir/ca-key.pem" -out "$dir/ca.pem" 2> /dev/null
openssl req "${key_options[@]}" -subj "/CN=127.0.0.1" \
    -keyout "$dir/key.pem" -out "$dir/cert.csr" 2> /dev/null
printf '%s\n' "subjectAltName=IP:127.0.0.1,DNS:localhost" "basicConstraints=CA:FALSE" \
    "extendedKeyUsage=serverAuth" > "$dir/cert.ext"
openssl x509 -req -in "$dir/cert.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca-key.pem" \
    -CAcreateserial -days 1 -extfile "$dir/cert.ext" -out "$dir/cert.pem" 2> /dev/null

sed -e "s|listen 443 ssl http2;|listen 127.0.0.1:$listen_port ssl http2;|" \
    -e "s|listen 80;|listen 127.0.0.1:$redirect_port;|" \
    -e "/listen \[::\]/d" \
    -e "s|server 127.0.0.1:8000;|server 127.0.0.1:$app_port;|" \
    -e "s|/etc/letsencrypt/live/auth.example.com/fullchain.pem|$dir/cert.pem|" \
    -e "s|/etc/letsencrypt/live/auth.example.com/privkey.pem|$dir/key.pem|" \
    "$here/auth-web.conf" > "$dir/auth-web.conf"

mkdir -p "$dir/tmp"
cat > "$dir/nginx.conf" << CONF
daemon off;
worker_processes 1;
pid $dir/nginx.pid;
error_log stderr warn;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $dir/tmp/body;
    proxy_temp_path $dir/tmp/proxy;
    fastcgi_temp_path $dir/tmp/fastcgi;
    uwsgi_temp_path $dir/tmp/uwsgi;
    scgi_temp_path $dir/tmp/scgi;
    include $dir/auth-web.conf;
}
CONF

"$nginx" -t -q -p "$dir" -c "$dir/nginx.conf"
"$nginx" -p "$dir" -c "$dir/nginx.conf" &
nginx_pid=$!
for _ in $(seq 50); do
    if (exec 3<> "/dev/tcp/127.0.0.1/$listen_port") 2> /dev/null; then
        echo "ready: https://127.0.0.1:$listen_port -> http://127.0.0.1:$app_port, certificate $dir/ca.pem"
        break
    fi
    sleep 0.1
done
wait "$nginx_pid"
