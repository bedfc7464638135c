#!/usr/bin/env bash
# Builds a small `busybox:latest` image as a docker-archive tarball (what `docker save`
# writes; `navarch image import`, skopeo and `docker load` all read it) without Docker.
#
#   scripts/images/build-busybox.sh [OUTPUT.tar]
#   default OUTPUT: ${NAVARCH_DATA_DIR:-/var/lib/navarch}/images/busybox.tar
#
# Why not Debian's busybox-static: it is linked against static glibc, whose getaddrinfo still
# dlopen()s NSS modules at run time; in an image without a matching glibc that crashes, so
# wget/nc fail to resolve names. Instead this uses the dynamic `busybox` package plus exactly
# the shared libraries `ldd` reports (libc, libresolv, the loader) and the NSS modules for
# `hosts: files dns`, with an /etc/nsswitch.conf. (nslookup carries its own resolver, but
# wget and nc go through getaddrinfo/NSS.)
#
# Idempotent and fast: the result is reproducible (fixed mtimes, sorted, numeric owners) and
# a stamp of this script + the package version lets a second run return at once.
set -euo pipefail
out="${1:-${NAVARCH_DATA_DIR:-/var/lib/navarch}/images/busybox.tar}"
out_dir="$(dirname "$out")"
mkdir -p "$out_dir"
out="$(cd "$out_dir" && pwd)/$(basename "$out")"
work="$out_dir/.busybox-build"
mkdir -p "$work"
libdir=/lib/x86_64-linux-gnu

stamp_of() { { sha256sum "$0" | cut -d' ' -f1; echo "$1"; } | sha256sum | cut -d' ' -f1; }

deb="$(ls "$work"/busybox_*.deb 2>/dev/null | head -1 || true)"
if [ -z "$deb" ]; then
  # apt-get download needs no root and installs nothing; it conflicts with busybox-static otherwise.
  (cd "$work" && { apt-get download busybox >/dev/null 2>&1 || { apt-get update -qq >/dev/null && apt-get download busybox >/dev/null; }; }) || {
    echo "build-busybox: cannot download Debian's 'busybox' package (apt-get download busybox)" >&2; exit 1; }
  deb="$(ls "$work"/busybox_*.deb | head -1)"
fi
version="$(dpkg-deb -f "$deb" Version)"
stamp="$(stamp_of "$version")"
if [ -f "$out" ] && [ "$(cat "$out.stamp" 2>/dev/null)" = "$stamp" ]; then
  echo "$out"; exit 0
fi

rootfs="$work/rootfs"
rm -rf "$rootfs" "$work/pkg" "$work/image"
mkdir -p "$rootfs" "$work/pkg" "$work/image"
dpkg-deb -x "$deb" "$work/pkg"
for d in bin sbin usr/bin usr/sbin etc tmp root home dev proc sys run var/www var/spool/cron lib64 "${libdir#/}"; do mkdir -p "$rootfs/$d"; done
chmod 1777 "$rootfs/tmp"; chmod 700 "$rootfs/root"
install -m 0755 "$work/pkg/bin/busybox" "$rootfs/bin/busybox"
# Every applet as a symlink, as `busybox --install -s` would (that needs to run inside the image).
"$rootfs/bin/busybox" --list-full | while read -r applet; do
  [ "$applet" = bin/busybox ] && continue
  mkdir -p "$rootfs/$(dirname "$applet")"
  ln -sf /bin/busybox "$rootfs/$applet"
done

# The exact libraries the binary needs, resolved on this (Debian) host, plus the NSS modules.
copy_lib() { local src="$1" dst="$2"; mkdir -p "$rootfs/$(dirname "$dst")"; cp -L "$src" "$rootfs/$dst"; }
ldd "$rootfs/bin/busybox" | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}' | while read -r lib; do
  case "$lib" in
    */ld-linux*) copy_lib "$lib" "/lib64/$(basename "$lib")" ;;
    *) copy_lib "$lib" "$libdir/$(basename "$lib")" ;;
  esac
done
for nss in libnss_files.so.2 libnss_dns.so.2 libresolv.so.2; do
  [ -e "$libdir/$nss" ] && copy_lib "$libdir/$nss" "$libdir/$nss"
done

cat > "$rootfs/etc/passwd" <<'P'
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
www-data:x:33:33:www-data:/var/www:/bin/false
nobody:x:65534:65534:nobody:/home:/bin/false
P
cat > "$rootfs/etc/group" <<'G'
root:x:0:
daemon:x:1:
www-data:x:33:
nogroup:x:65534:
G
cat > "$rootfs/etc/nsswitch.conf" <<'N'
passwd: files
group: files
hosts: files dns
networks: files
services: files
protocols: files
N
printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' > "$rootfs/etc/hosts"
: > "$rootfs/etc/resolv.conf"
echo busybox > "$rootfs/etc/hostname"
printf 'tcp 6 TCP\nudp 17 UDP\nicmp 1 ICMP\n' > "$rootfs/etc/protocols"
printf 'http 80/tcp\nhttps 443/tcp\ndomain 53/tcp\ndomain 53/udp\n' > "$rootfs/etc/services"
echo '<html><body>busybox httpd</body></html>' > "$rootfs/var/www/index.html"

# The image must run on its own: every library the loader needs has to be inside it.
if [ "$(id -u)" = 0 ]; then
  chroot "$rootfs" /bin/sh -c 'true' || { echo "build-busybox: the image's /bin/sh does not run (missing libraries?)" >&2; exit 1; }
else
  interp="$(ls "$rootfs"/lib64/ld-linux* | head -1)"
  "$interp" --library-path "$rootfs$libdir" "$rootfs/bin/busybox" true || { echo "build-busybox: busybox does not run with the image's libraries" >&2; exit 1; }
fi

# docker-archive layout: <diffid>/layer.tar, <config-digest>.json, manifest.json, repositories.
layer="$work/image/layer.tar"
tar --numeric-owner --owner=0 --group=0 --sort=name --mtime=@0 --format=posix \
  --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime -C "$rootfs" -cf "$layer" .
diff_id="$(sha256sum "$layer" | cut -d' ' -f1)"
mkdir -p "$work/image/$diff_id"
mv "$layer" "$work/image/$diff_id/layer.tar"
config=$(printf '{"architecture":"amd64","os":"linux","created":"1970-01-01T00:00:00Z","config":{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"Cmd":["sh"],"WorkingDir":"/"},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]},"history":[{"created":"1970-01-01T00:00:00Z","created_by":"navarch build-busybox.sh (Debian busybox %s)"}]}' "$diff_id" "$version")
printf '%s' "$config" > "$work/image/config.json"
config_id="$(sha256sum "$work/image/config.json" | cut -d' ' -f1)"
mv "$work/image/config.json" "$work/image/$config_id.json"
printf '[{"Config":"%s.json","RepoTags":["busybox:latest"],"Layers":["%s/layer.tar"]}]' "$config_id" "$diff_id" > "$work/image/manifest.json"
printf '{"busybox":{"latest":"%s"}}' "$diff_id" > "$work/image/repositories"
tar --numeric-owner --owner=0 --group=0 --sort=name --mtime=@0 -C "$work/image" -cf "$out.tmp" .
mv "$out.tmp" "$out"
echo "$stamp" > "$out.stamp"
rm -rf "$rootfs" "$work/pkg" "$work/image"
echo "$out"
