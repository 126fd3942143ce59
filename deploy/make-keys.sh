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
for name in broker echo-1 echo-2 client; do
  strata keygen "$name" >/dev/null
done
{
  echo "# <public key> <name> <layer>"
  echo "$(cat echo-1.pub) echo-1 2"
  echo "$(cat echo-2.pub) echo-2 2"
  echo "$(cat client.pub) client 4"
} > authorized_keys.tmp
mv authorized_keys.tmp authorized_keys
echo "made keys in $dir"
