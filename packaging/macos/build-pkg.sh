#!/usr/bin/env bash
# Recipe, not run here (needs macOS): a signed, notarized flat package for MDM.
# Usage: build-pkg.sh DIST_DIR NOTIFIER_APP VERSION "Developer ID Installer: Org (TEAMID)"
# DIST_DIR is packaging/pyinstaller/build.sh's output, built and signed on a Mac with
#   codesign --force --options runtime --timestamp --entitlements entitlements.plist \
#     --sign "Developer ID Application: Org (TEAMID)" DIST_DIR/shadowmap (and every dylib)
set -euo pipefail
dist=$1 app=$2 version=$3 identity=$4
here=$(cd "$(dirname "$0")" && pwd)
root=$(mktemp -d)
install -d "$root/opt/shadowmap" "$root/Library/LaunchDaemons" "$root/Library/LaunchAgents" \
  "$root/Applications"
cp -a "$dist/." "$root/opt/shadowmap/"
cp -a "$app" "$root/Applications/shadowmap Notifier.app"
install -m 0644 "$here/com.shadowmap.agent.plist" "$root/Library/LaunchDaemons/"
install -m 0644 "$here/com.shadowmap.notify.plist" "$root/Library/LaunchAgents/"
pkgbuild --root "$root" --scripts "$here/scripts" --identifier com.shadowmap.agent \
  --version "$version" --install-location / --sign "$identity" "shadowmap-agent-$version.pkg"
xcrun notarytool submit "shadowmap-agent-$version.pkg" --keychain-profile shadowmap --wait
xcrun stapler staple "shadowmap-agent-$version.pkg"
