#!/bin/sh
# rootfs.sh BINARY OUT — lays out the root file system of the mirrorleech
# image in OUT, for deploy/Dockerfile. Both ways of building the image use
# it (the golang build stage, and `make image` on the host), so the image
# is the same whichever built it.
#
#   OUT/root/      owned by root: the binary, CA certificates, passwd/group
#   OUT/writable/  owned by the unprivileged user (65532) in the image:
#                  /data (STATE_DIR), /downloads (DOWNLOAD_DIR), /mirror
#                  (MIRROR_DEST) and /tmp
#
# The binary must be static (CGO_ENABLED=0): the image has no libc. Time zone
# data is compiled into it (-tags timetzdata), so no zoneinfo tree is copied.
set -eu
if [ $# -ne 2 ]; then
	echo "usage: $0 BINARY OUT" >&2
	exit 2
fi
bin=$1
out=$2
certs=/etc/ssl/certs/ca-certificates.crt
if [ ! -s "$certs" ]; then
	echo "$0: $certs missing: install the ca-certificates package" >&2
	exit 1
fi
rm -rf "$out"
mkdir -p "$out/root/etc/ssl/certs" "$out/writable/data" "$out/writable/downloads" "$out/writable/mirror" "$out/writable/tmp"
cp "$bin" "$out/root/mirrorleech"
chmod 0755 "$out/root/mirrorleech"
cp "$certs" "$out/root/etc/ssl/certs/ca-certificates.crt"
# A passwd entry for the user, so that programs asking who they are (and
# Go's os/user) get a name and a home instead of an error.
printf 'root:x:0:0:root:/root:/sbin/nologin\nmirrorleech:x:65532:65532:mirrorleech:/data:/sbin/nologin\n' >"$out/root/etc/passwd"
printf 'root:x:0:\nmirrorleech:x:65532:\n' >"$out/root/etc/group"
