#!/usr/bin/env bash
# Builds shadowmap-agent_<version>_<arch>.deb with dpkg-deb from a PyInstaller onedir
# folder (packaging/pyinstaller/build.sh). Usage: build-deb.sh DIST_DIR VERSION OUT_DIR
set -euo pipefail
dist=$1 version=$2 out=$3
here=$(cd "$(dirname "$0")" && pwd)
arch=$(dpkg --print-architecture)
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT

install -d -m 0755 "$root/opt/shadowmap" "$root/usr/bin" "$root/DEBIAN" \
  "$root/lib/systemd/system" "$root/usr/lib/systemd/user" "$root/etc/xdg/autostart"
install -d -m 0700 "$root/etc/shadowmap"
cp -a "$dist/." "$root/opt/shadowmap/"
ln -s /opt/shadowmap/shadowmap "$root/usr/bin/shadowmap"
install -m 0644 "$here/shadowmap-agent.service" "$root/lib/systemd/system/"
install -m 0644 "$here/shadowmap-notify.service" "$root/usr/lib/systemd/user/"
install -m 0644 "$here/shadowmap-notify.desktop" "$root/etc/xdg/autostart/"
install -m 0600 "$here/agent.toml" "$root/etc/shadowmap/agent.toml"
install -m 0755 "$here/debian/postinst" "$here/debian/prerm" "$here/debian/postrm" "$root/DEBIAN/"
echo "/etc/shadowmap/agent.toml" > "$root/DEBIAN/conffiles"
size=$(du -sk "$root" | cut -f1)
sed -e "s/@VERSION@/$version/" -e "s/@ARCH@/$arch/" -e "s/@SIZE@/$size/" \
  "$here/debian/control.in" > "$root/DEBIAN/control"
mkdir -p "$out"
dpkg-deb --root-owner-group --build "$root" "$out/shadowmap-agent_${version}_${arch}.deb" >/dev/null
echo "$out/shadowmap-agent_${version}_${arch}.deb"
