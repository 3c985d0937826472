#!/usr/bin/env bash
# ioc-console: the Debian package, target/debian/ioc-console_<version>-1_amd64.deb.
#   bash packaging/deb.sh                 a release build, packaged (what a province installs)
#   bash packaging/deb.sh --test-profile  the test profile's binary (target/debian-test/), as the
#                                         test run already built it; a release build would add
#                                         about 25 minutes to CI on 2 cores
#   bash packaging/deb.sh ... --check     then checks it: contents and dependencies, lintian, and
#                                         (as root) installs it, checks the installed layouts and
#                                         the units, and removes it again
# cargo-deb is installed here, pinned, into target/tools/.
set -euo pipefail
cd "$(dirname "$0")/.."

CARGO_DEB_VERSION=3.8.0
profile=release
check=0
for arg in "$@"; do
  case "$arg" in
    --test-profile) profile=dev ;;
    --check) check=1 ;;
    *) echo "usage: bash packaging/deb.sh [--test-profile] [--check]" >&2; exit 2 ;;
  esac
done

cargo_deb="target/tools/cargo-deb-$CARGO_DEB_VERSION/bin/cargo-deb"
if [ ! -x "$cargo_deb" ]; then
  echo "Installing cargo-deb $CARGO_DEB_VERSION into target/tools/"
  cargo install --locked --quiet cargo-deb --version "$CARGO_DEB_VERSION" \
    --root "target/tools/cargo-deb-$CARGO_DEB_VERSION"
fi

if [ "$profile" = release ]; then
  out=target/debian
  "$cargo_deb" --locked --output "$out/"
else
  # The binary the tests ran (target/debian-test/, so a release package is never mistaken for it).
  out=target/debian-test
  # Built again only when a source is newer: `cargo build --bin` alone would build it once more
  # without the dev-dependencies' features (about 30 crates, minutes on 2 cores).
  bin=target/debug/ioc-console
  if [ ! -x "$bin" ] || [ -n "$(find src assets shaders layouts Cargo.toml Cargo.lock build.rs -newer "$bin" -print -quit 2>/dev/null)" ]; then
    cargo build --locked --bin ioc-console
  else
    echo "packaging the binary the tests ran: $bin"
  fi
  "$cargo_deb" --profile dev --no-build --output "$out/"
fi
deb=$(ls -t "$out"/ioc-console_*_amd64.deb | head -n 1)
echo "built $deb"
if [ "$check" -eq 1 ]; then
  exec bash packaging/check-deb.sh "$deb"
fi
