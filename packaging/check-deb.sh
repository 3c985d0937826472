#!/usr/bin/env bash
# ioc-console: checks a built package (bash packaging/check-deb.sh FILE.deb).
# Contents and dependencies (dpkg-deb), lintian without errors; as root also installs it with apt,
# checks the installed layouts and storyboards with the installed binary, verifies the systemd
# units, and removes the package again (purge), so the machine is left as it was.
set -euo pipefail
deb="$1"
fail() { echo "check-deb: $*" >&2; exit 1; }

echo "== dpkg-deb --info"
info=$(dpkg-deb --info "$deb")
echo "$info"
depends=$(dpkg-deb --field "$deb" Depends)
for need in gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad \
  gstreamer1.0-libav libgstreamer1.0-0 libvulkan1 mesa-vulkan-drivers libsqlite3-0 fonts-dejavu-core; do
  grep -q "\b$need\b" <<<"$depends" || fail "Depends lacks $need"
done
if tr ',' '\n' <<<"$depends" | grep -q -- '-dev\b'; then
  fail "Depends names a -dev package: $depends"
fi
[ "$(dpkg-deb --ctrl-tarfile "$deb" | tar -xO ./conffiles)" = "/etc/ioc-console/config.toml" ] \
  || fail "conffiles is not exactly /etc/ioc-console/config.toml"

echo "== dpkg-deb --contents"
contents=$(dpkg-deb --contents "$deb" | awk '{print $6}')
for path in ./usr/bin/ioc-console ./etc/ioc-console/config.toml \
  ./usr/share/ioc-console/layouts/ioc-main.toml ./usr/share/ioc-console/layouts/desk.toml \
  ./usr/share/ioc-console/layouts/briefings/giao-ban-thang.toml \
  ./usr/lib/systemd/user/ioc-console.service ./lib/systemd/system/ioc-console-wall@.service \
  ./usr/share/applications/ioc-console.desktop \
  ./usr/share/icons/hicolor/scalable/apps/ioc-console.svg ./usr/share/doc/ioc-console/copyright \
  ./usr/share/doc/ioc-console/changelog.Debian.gz; do
  grep -qx -- "$path" <<<"$contents" || fail "the package lacks $path"
done
echo "all expected files present ($(wc -l <<<"$contents") entries)"

echo "== lintian"
if command -v lintian >/dev/null 2>&1; then
  lintian --fail-on error --suppress-tags initial-upload-closes-no-bugs "$deb" 2>&1 \
    | grep -v 'running with root privileges' || true
  lintian --fail-on error "$deb" >/dev/null 2>&1 || fail "lintian reports errors"
  echo "lintian: no errors"
else
  fail "lintian is not installed (packaging/dev.sh installs it)"
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "== not root: installing the package and checking it installed is skipped"
  exit 0
fi

echo "== apt-get install $deb"
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -qq --no-install-recommends "$(realpath "$deb")" >/dev/null
trap 'apt-get purge -y -qq ioc-console >/dev/null || true' EXIT
dpkg-query -W -f='${Status} ${Version}\n' ioc-console

echo "== ioc-console layout check /usr/share/ioc-console/layouts/*.toml"
# From / with no user configuration, so the installed /etc/ioc-console/config.toml is the one read
# (a configuration the console rejects stops every command with status 2).
(cd / && env -u XDG_CONFIG_HOME HOME=/nonexistent /usr/bin/ioc-console layout check \
  /usr/share/ioc-console/layouts/*.toml /usr/share/ioc-console/layouts/briefings/*.toml) \
  || fail "the installed layouts, storyboards or configuration do not check"

echo "== systemd-analyze verify"
command -v systemd-analyze >/dev/null 2>&1 || fail "systemd-analyze is not installed"
# Any line printed (an unknown key, a bad value, a command that is not there) is a failure.
for unit in /lib/systemd/system/ioc-console-wall@.service; do
  said=$(systemd-analyze verify "$unit" 2>&1) || fail "systemd-analyze verify $unit: $said"
  [ -z "$said" ] || fail "systemd-analyze verify $unit: $said"
  echo "$unit: good"
done
# The user unit is verified by a user manager, which needs a runtime directory of its own.
runtime=$(mktemp -d)
chmod 700 "$runtime"
unit=/usr/lib/systemd/user/ioc-console.service
said=$(XDG_RUNTIME_DIR="$runtime" systemd-analyze --user verify "$unit" 2>&1) \
  || fail "systemd-analyze --user verify $unit: $said"
[ -z "$said" ] || fail "systemd-analyze --user verify $unit: $said"
echo "$unit: good"
rm -rf "$runtime"

if command -v desktop-file-validate >/dev/null 2>&1; then
  echo "== desktop-file-validate"
  desktop-file-validate /usr/share/applications/ioc-console.desktop
fi
echo "check-deb: the package is good"
