#!/usr/bin/env bash
# A guided tour of Strata on one machine: makes keys, starts a broker and two echo
# workers on loopback, calls them, shows the load shared between the workers and an
# unknown key refused; then plug-ins: a layer-3 module in process; events through a pool of
# two brokers, one of them killed while events flow; SQL on SQLite, mail to a local SMTP
# sink, XML, the store with live watches down to the attribute, and the HTTP gateway with
# curl, XML-RPC and a store watch streamed to the web; then stops everything cleanly.
# Installs and builds what it needs.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/setup.sh"

strata_setup >&2
BIN=$STRATA_BUILD
export PATH="$BIN/bin:$PATH"
STRATA=strata
RUN=$STRATA_BUILD/demo
rm -rf "$RUN" && mkdir -p "$RUN" && cd "$RUN"

pids=()
cleanup() { for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

step() { printf '\n\033[1;34m## %s\033[0m\n' "$*"; }
say() { printf '%s\n' "$*"; }
show() {  # prints a command as typed, then runs it
  printf '\033[1m$ %s\033[0m\n' "$*"
  "$@"
}
wait_for() {  # wait_for FILE TEXT: until the log shows TEXT (at most 15 s)
  for _ in $(seq 150); do grep -q -- "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
  say "timed out waiting for '$2' in $1:"; cat "$1"; exit 1
}

step "1. Keys: every process has a CURVE key pair"
say "The broker admits only the public keys listed in authorized_keys, each with a name and a layer."
for name in broker echo-a echo-b front orders data gateway; do show "$STRATA" keygen "$name" >/dev/null; done
ls -l ./*.key ./*.pub | awk '{print $1, $NF}'
cat > authorized_keys <<KEYS
# <public key>                           <name>  <layer>
$(cat echo-a.pub) echo-a 2
$(cat echo-b.pub) echo-b 2
$(cat front.pub) front 4
$(cat orders.pub) orders 2
$(cat data.pub) data 1
$(cat gateway.pub) gateway 4
KEYS
show cat authorized_keys

step "2. A broker on loopback"
cat > broker.properties <<CONF
strata.broker.bind=tcp://127.0.0.1:*
strata.key=broker.key
strata.authorized_keys=authorized_keys
# front ends (layer 4) may read and watch the layer-1 store (step 12)
strata.policy.store.get=2,3,4
strata.policy.store.list=2,3,4
strata.policy.store.watch=2,3,4
# health, Prometheus metrics and the live dashboard on a free loopback port (step 14)
strata.admin.bind=127.0.0.1:0
CONF
show cat broker.properties
strata-broker --config broker.properties >broker.log 2>&1 &
pids+=($!)
BROKER_PID=$!
wait_for broker.log "listening on"
ENDPOINT=$(grep -o 'tcp://127.0.0.1:[0-9]*' broker.log | head -1)
say "broker.log: $(grep 'listening on' broker.log)"

step "3. Two workers running the built-in echo service (layer 2)"
for w in echo-a echo-b; do
  cat > $w.properties <<CONF
strata.brokers=$ENDPOINT
strata.key=$w.key
strata.broker_key=broker.pub
strata.services=echo,sleep
strata.node.name=$w
CONF
  strata-node --config $w.properties >$w.log 2>&1 &
  pids+=($!)
  wait_for broker.log "worker registered name=$w "
done
grep "worker registered name=" broker.log | sed 's/^/broker.log: /'

step "4. A front end (layer 4) calls echo"
cat > front.properties <<CONF
strata.brokers=$ENDPOINT
strata.key=front.key
strata.broker_key=broker.pub
CONF
show "$STRATA" call --config front.properties --verbose echo "hello, strata"
show "$STRATA" services --config front.properties

step "5. Load shared between the workers: 20,000 requests, 100 in flight"
say "(workers= counts which worker answered)"
show "$STRATA" call --config front.properties --repeat 20000 --window 100 echo ping

step "6. A deadline: sleep 2000 ms with a 300 ms deadline"
show "$STRATA" call --config front.properties --timeout 300 sleep 2000 || say "(exit code $?: timeout)"

step "7. An unknown key is refused"
show "$STRATA" keygen stranger >/dev/null
show "$STRATA" call --config front.properties --define strata.key=stranger.key echo "let me in" ||
  say "(exit code $?: unavailable)"
say "broker.log: $(grep -m1 'handshake refused' broker.log)"
say "Listed without a restart: a new authorized_keys renamed over the old, then SIGHUP."
cp authorized_keys authorized_keys.new && echo "$(cat stranger.pub) stranger 4" >>authorized_keys.new
show mv authorized_keys.new authorized_keys
show kill -HUP "$BROKER_PID"
wait_for broker.log "keys reloaded"
say "broker.log: $(grep -m1 'keys reloaded' broker.log)"
show "$STRATA" call --config front.properties --define strata.key=stranger.key --timeout 5000 echo "let me in"

step "8. A layer the policy forbids: echo-a (layer 2) may not call echo (layer 2)"
show "$STRATA" call --config front.properties --define strata.key=echo-a.key echo hi || say "(exit code $?: forbidden)"

step "9. Plug-ins: a layer-2 node hosting a layer-3 module in its own process"
say "orders.place (layer 2) prices each line with pricing.quote, a module loaded into the same"
say "process: a function call, no socket. The module is offered to no broker."
cat > orders.properties <<CONF
strata.brokers=$ENDPOINT
strata.key=orders.key
strata.broker_key=broker.pub
strata.node.name=orders
strata.plugins=pricing, orders
strata.plugin.pricing.layer=3
strata.plugin.pricing.discount_percent=10
CONF
show cat orders.properties
strata-node --config orders.properties >orders.log 2>&1 &
pids+=($!)
wait_for broker.log "worker registered name=orders "
grep "plug-in" orders.log | sed 's/^/orders.log: /'
show "$STRATA" call --config front.properties orders.place "$(printf 'apple 10\nplum 4')"
show "$STRATA" call --config front.properties pricing.quote "apple 1" || say "(exit code $?: the broker knows no such service)"

step "10. Events: publish and subscribe through a pool of two brokers"
say "A second broker joins the first (same key, same authorized keys). A subscriber holds its"
say "subscriptions on both; a publisher sends each event to both, and the subscriber drops the copies."
cp broker.properties broker-b.properties
strata-broker --config broker-b.properties >broker-b.log 2>&1 &
BROKER_B=$!
pids+=($BROKER_B)
wait_for broker-b.log "listening on"
ENDPOINT_B=$(grep -o 'tcp://127.0.0.1:[0-9]*' broker-b.log | head -1)
for who in front data; do
  cat > $who-pool.properties <<CONF
strata.brokers=$ENDPOINT,$ENDPOINT_B
strata.key=$who.key
strata.broker_key=broker.pub
CONF
done
show cat front-pool.properties
strata subscribe --config front-pool.properties 'demo.>' orders.placed >subscriber.log 2>&1 &
pids+=($!)
wait_for subscriber.log "subscribed to"
say "subscriber: $(head -1 subscriber.log)"
show "$STRATA" publish --config data-pool.properties demo.greeting "hello, subscribers (published from the CLI)"
say "An order placed now is published by the orders plug-in (on orders.placed); the pricing"
say "module in the same process hears it by function call:"
show "$STRATA" call --config front.properties orders.place "$(printf 'pear 3')"
wait_for subscriber.log "orders.placed"
wait_for orders.log "pricing heard of an order"
grep "pricing heard" orders.log | sed 's/^/orders.log: /'
say "What the subscriber printed (SUBJECT BODY):"
sed 's/^/subscriber: /' subscriber.log
say ""
say "Now 3,000 events at 1,000 a second, and the second broker killed with SIGKILL after one second:"
strata subscribe --config front-pool.properties demo.tick --count 3000 --timeout 10000 --quiet --summary --stamped \
  >ticks.log 2>&1 &
TICKS=$!
pids+=($TICKS)
wait_for ticks.log "subscribed to"
strata publish --config data-pool.properties demo.tick --repeat 3000 --rate 1000 --size 32 --stamp >publisher.log 2>&1 &
PUBLISHER=$!
pids+=($PUBLISHER)
sleep 1  # let the stream run for a second before the kill: the demo shows a kill mid-stream
show kill -9 "$BROKER_B"
wait "$PUBLISHER"
wait "$TICKS" || true
say "publisher:  $(tail -1 publisher.log)"
say "subscriber: $(tail -1 ticks.log)   (every event once; dropped counts what a broker had to drop)"

step "11. Integration plug-ins on their embedded defaults: SQL (SQLite), SMTP, XML"
SMTP_PORT=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
/usr/bin/python3 -m aiosmtpd -n -l "127.0.0.1:$SMTP_PORT" >smtp-sink.log 2>&1 &
pids+=($!)
say "A local SMTP sink (Debian's aiosmtpd) listens on 127.0.0.1:$SMTP_PORT and prints what it receives."
cat > schema.sql <<SQL
CREATE TABLE IF NOT EXISTS notes (title TEXT PRIMARY KEY, body TEXT NOT NULL);
SQL
cat > data.properties <<CONF
strata.brokers=$ENDPOINT
strata.key=data.key
strata.broker_key=broker.pub
strata.node.name=data
strata.plugins=sql, smtp, xml, store
strata.data_dir=data
strata.plugin.store.collection.accounts.attribute.secret.read=0-2
strata.plugin.sql.init=schema.sql
strata.plugin.sql.statement.add_note=INSERT INTO notes (title, body) VALUES (:title, :body)
strata.plugin.sql.statement.get_note=SELECT title, body FROM notes WHERE title = :title
strata.plugin.smtp.port=$SMTP_PORT
strata.plugin.smtp.from=Strata demo <demo@strata.example>
strata.plugin.smtp.retry_ms=200
CONF
show cat data.properties
strata-node --config data.properties >data.log 2>&1 &
pids+=($!)
wait_for broker.log "worker registered name=data "
grep "plug-in" data.log | sed 's/^/data.log: /'
say "Layer 1 integrations are called by layer-2 logic: these calls use the echo-a key (layer 2)."
cat > logic.properties <<CONF
strata.brokers=$ENDPOINT
strata.key=echo-a.key
strata.broker_key=broker.pub
CONF
show "$STRATA" call --config logic.properties -H content-type=application/json sql.query \
  '{"statement": "add_note", "params": {"title": "first", "body": "written through the bus"}}'
show "$STRATA" call --config logic.properties -H content-type=application/json sql.query \
  '{"statement": "get_note", "params": {"title": "first"}}'
say "Hostile input is data, never SQL:"
show "$STRATA" call --config logic.properties -H content-type=application/json sql.query \
  '{"statement": "add_note", "params": {"title": "x'"'"'); DROP TABLE notes; --", "body": "b"}}'
show "$STRATA" call --config logic.properties -H content-type=application/json sql.query \
  '{"statement": "get_note", "params": {"title": "x'"'"'); DROP TABLE notes; --"}}'

show "$STRATA" call --config logic.properties -H content-type=application/json mail.send \
  '{"to": ["ops@strata.example"], "subject": "hello from the bus", "body": "A line.\n.\nA line after a lone dot."}'
wait_for smtp-sink.log "hello from the bus"
say "The SMTP sink received:"
sed 's/^/smtp-sink.log: /' smtp-sink.log
show "$STRATA" call --config logic.properties -H content-type=application/json mail.send \
  '{"to": ["ops@strata.example"], "subject": "hi\r\nBcc: everyone@strata.example", "body": "x"}' ||
  say "(exit code $?: header injection refused, nothing queued)"

show "$STRATA" call --config logic.properties -H content-type=application/xml xml.to_json \
  '<order id="7"><item sku="apple">10</item><item sku="plum">4</item></order>'

step "12. The store: objects watched live, down to the attribute"
say "data also runs the store plug-in (layer 1). Two watchers of the collection 'accounts': echo-a"
say "(layer 2) reads every attribute, front (layer 4) never 'secret' (strata.plugin.store...secret.read=0-2)."
"$STRATA" watch --config logic.properties accounts >watch-logic.log 2>&1 &
WATCH_LOGIC=$!
pids+=($WATCH_LOGIC)
"$STRATA" watch --config front.properties accounts >watch-front.log 2>&1 &
WATCH_FRONT=$!
pids+=($WATCH_FRONT)
wait_for watch-logic.log "ready at revision"
wait_for watch-front.log "ready at revision"
show "$STRATA" call --config logic.properties store.put \
  '{"collection": "accounts", "key": "acme", "attributes": {"name": "Acme", "balance": 10, "secret": "s3cr3t"}}'
show "$STRATA" call --config logic.properties store.patch \
  '{"collection": "accounts", "key": "acme", "attributes": {"balance": 12}, "expect": 1}'
say "The same write again expects revision 1, which is gone: a compare-and-set conflict that changes nothing."
show "$STRATA" call --config logic.properties store.patch \
  '{"collection": "accounts", "key": "acme", "attributes": {"balance": 99}, "expect": 1}' ||
  say "(exit code $?: conflict)"
say "A change to 'secret' alone reaches echo-a's watcher and not front's:"
show "$STRATA" call --config logic.properties store.patch \
  '{"collection": "accounts", "key": "acme", "attributes": {"secret": "n3w"}}'
wait_for watch-logic.log "n3w"
show "$STRATA" call --config front.properties store.get '{"collection": "accounts", "key": "acme"}'
kill -INT "$WATCH_LOGIC" "$WATCH_FRONT"
wait "$WATCH_LOGIC" "$WATCH_FRONT" || true
say "echo-a's watch (layer 2):"
sed 's/^/  /' watch-logic.log
say "front's watch (layer 4):"
sed 's/^/  /' watch-front.log

step "13. The HTTP gateway: curl and XML-RPC reach bus services, and a watch streams to the web"
printf 'demo-token-%s front 4\n' "$RANDOM$RANDOM" > tokens
chmod 600 tokens
TOKEN=$(cut -d' ' -f1 tokens)
cat > gateway.properties <<CONF
strata.brokers=$ENDPOINT
strata.key=gateway.key
strata.broker_key=broker.pub
strata.node.name=gateway
strata.plugins=http
strata.plugin.http.listen=127.0.0.1:0
strata.plugin.http.tokens=tokens
strata.plugin.http.anonymous_layer=4
strata.plugin.http.xmlrpc=true
strata.plugin.http.service_layer.store.watch=1
strata.plugin.http.policy.store.watch=4
strata.plugin.http.ui_dir=$STRATA_ROOT/examples/live
CONF
show cat gateway.properties
strata-node --config gateway.properties >gateway.log 2>&1 &
pids+=($!)
wait_for gateway.log "http gateway listening on"
URL=$(grep -o 'http://127.0.0.1:[0-9]*' gateway.log | head -1)
say "gateway.log: $(grep 'http gateway listening on' gateway.log)"
show curl -sS -X POST -H "Authorization: Bearer $TOKEN" --data 'hello over HTTP' "$URL/v1/services/echo"
echo
show curl -sS -X POST -H "Authorization: Bearer $TOKEN" --data "$(printf 'pear 3')" "$URL/v1/services/orders.place"
echo
show curl -sS -o /dev/null -w '%{http_code} (unknown service)\n' -X POST -H "Authorization: Bearer $TOKEN" \
  --data x "$URL/v1/services/nosuch"
show curl -sS -o /dev/null -w '%{http_code} (unknown token)\n' -X POST -H "Authorization: Bearer wrong" --data x \
  "$URL/v1/services/echo"
show /usr/bin/python3 -c "import xmlrpc.client; print(xmlrpc.client.ServerProxy('$URL/RPC2').echo('hi'))"

say ""
say "A browser watches the store through the gateway: GET /v1/watch/accounts as Server-Sent Events."
say "This one is anonymous (layer 4), so 'secret' never reaches it; a change shows as it happens."
curl -sS -N --max-time 15 "$URL/v1/watch/accounts" >sse-accounts.log 2>&1 &
SSE=$!
pids+=($SSE)
wait_for sse-accounts.log "event: ready"
show "$STRATA" call --config logic.properties store.patch \
  '{"collection": "accounts", "key": "acme", "attributes": {"balance": 20, "secret": "hidden again"}}'
wait_for sse-accounts.log "event: changes"
kill "$SSE" 2>/dev/null || true
wait "$SSE" 2>/dev/null || true
sed 's/^/  /' sse-accounts.log
say "The same, live in a page: examples/live, served at /ui/ (docker compose up: http://127.0.0.1:8080/ui/?collection=accounts)."

step "14. Operations: strata status, the probes and /metrics of the broker's admin endpoint"
ADMIN=$(grep -o 'admin listening on http://127.0.0.1:[0-9]*' broker.log | head -1 | awk '{print $NF}')
show "$STRATA" status --config front.properties --timeout 1000
show curl -sS "$ADMIN/readyz"
say "$ADMIN/metrics, a few lines of it:"
curl -sS "$ADMIN/metrics" | grep -E '^strata_(requests_total\{service="echo"\}|handshakes_total|key_reloads_total|connections )' | sed 's/^/  /'
say "The live dashboard: open $ADMIN/ in a browser."

step "15. Clean shutdown on SIGTERM"
for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
  kill -TERM "${pids[$i]}" 2>/dev/null || true  # the killed broker and finished clients are gone already
  wait "${pids[$i]}" || true
done
pids=()
grep -h "stopp" echo-a.log echo-b.log broker.log | sed 's/^/log: /'
say ""
say "Done. Logs and configs are in ${RUN#"$STRATA_ROOT"/}/."
