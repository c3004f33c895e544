#!/bin/sh
# rootfs.sh OUT — lays out, in OUT/root, a root file system holding this
# machine's own redis-server and redis-cli (Debian's redis-server package)
# with the shared libraries they load, for deploy/redis/Dockerfile.
#
# It exists because no image can be pulled where mirrorleech is tested: the
# compose file takes its Redis from ${REDIS_IMAGE}, which is an official
# redis image wherever a registry answers, and this one where none does.
set -eu
if [ $# -ne 1 ]; then
	echo "usage: $0 OUT" >&2
	exit 2
fi
out=$1
server=$(command -v redis-server || true)
cli=$(command -v redis-cli || true)
if [ -z "$server" ] || [ -z "$cli" ]; then
	echo "$0: redis-server and redis-cli are needed (apt-get install redis-server)" >&2
	exit 1
fi
rm -rf "$out"
mkdir -p "$out/root/usr/bin" "$out/root/etc" "$out/writable/data" "$out/writable/tmp"
# Debian's redis-server is a link to redis-check-rdb: copy what it points to.
cp -L "$server" "$out/root/usr/bin/redis-server"
cp -L "$cli" "$out/root/usr/bin/redis-cli"
# Every library either program loads, and the dynamic loader, at the paths
# the programs look for them.
for lib in $( (ldd "$server"; ldd "$cli") | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}' | sort -u); do
	mkdir -p "$out/root$(dirname "$lib")"
	cp -L "$lib" "$out/root$lib"
done
printf 'root:x:0:0:root:/root:/sbin/nologin\nredis:x:999:999:redis:/data:/sbin/nologin\n' >"$out/root/etc/passwd"
printf 'root:x:0:\nredis:x:999:\n' >"$out/root/etc/group"
