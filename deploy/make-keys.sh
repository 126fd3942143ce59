#!/bin/sh
# Makes the compose cluster's keys in DIR once: one pair for the brokers (shared by the
# pool), one per node and client, and the authorized_keys file that admits them.
set -eu
dir=${1:-/keys}
mkdir -p "$dir"
cd "$dir"
if [ -f authorized_keys ]; then
  echo "keys already in $dir"
  exit 0
fi
for name in broker echo-1 echo-2 client orders integrations store gateway logic; do
  strata keygen "$name" >/dev/null
done
{
  echo "# <public key> <name> <layer>"
  echo "$(cat echo-1.pub) echo-1 2"
  echo "$(cat echo-2.pub) echo-2 2"
  echo "$(cat client.pub) client 4"
  echo "$(cat orders.pub) orders 2"
  echo "$(cat integrations.pub) integrations 1"
  echo "$(cat store.pub) store 1"
  echo "$(cat gateway.pub) gateway 4"
  echo "# for calls a layer-2 service would make (sql.query, mail.send) from the client container"
  echo "$(cat logic.pub) logic 2"
} > authorized_keys.tmp
# The HTTP gateway's bearer token: <token> <name> <layer>, readable by its owner only.
umask 077
printf 'web-%s web 4\n' "$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')" > http-tokens
mv authorized_keys.tmp authorized_keys
echo "made keys in $dir"
