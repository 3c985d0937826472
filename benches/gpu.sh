#!/usr/bin/env bash
# The wall on a real GPU (issue 17): one script, prepared here, run once on a GPU machine.
#
#   bash benches/gpu.sh prepare      here: target/gpu/bundle.tar.xz (under 60 MiB): the release
#                                    binary, the GStreamer libraries and plugins it needs, the
#                                    Vulkan loader and a font, copied from this machine's Debian
#                                    packages (listed in MANIFEST with package and version), and
#                                    two 1080p test clips (H.264, H.265)
#   bash benches/gpu.sh run          there: unpacks the bundle, stops with exit 3 and the reason
#                                    when no GPU is found, else measures (in under 8 minutes):
#                                      - the whole ioc-main wall rendered offscreen at
#                                        6 × 1920×1080 and 6 × 3840×2160 (fps, CPU and GPU time
#                                        per frame), with the demo's data and its ten cameras
#                                      - the camera path's upload of a 1080p frame
#                                      - 16 × 1080p H.264 and H.265 decoded in real time through
#                                        nvh264dec / nvh265dec against the CPU decoders
#                                        openh264dec / libde265dec (libav's avdec_* do not fit:
#                                        see prepare)
#                                    and writes target/gpu/report.md (also $OUT/report.md when
#                                    the device tool gives $OUT)
#   bash benches/gpu.sh run --allow-cpu
#                                    the same on whatever is there (lavapipe, CPU decoders),
#                                    fewer frames: a dry run of the script on a machine without
#                                    a GPU
#
# The device tool carries ignored paths: carry ["target/gpu/bundle.tar.xz"] and run
# `bash benches/gpu.sh run`.
set -euo pipefail
cd "$(dirname "$0")/.."
GPU_DIR=target/gpu
BUNDLE=$GPU_DIR/bundle.tar.xz
LIMIT_MIB=60
ARCH_LIB=/usr/lib/x86_64-linux-gnu
PLUGIN_DIR=$ARCH_LIB/gstreamer-1.0

# Plugins the measured paths load: files and RTSP in (uridecodebin, rtspsrc, the jitter buffer,
# depayloaders, parsers), the hardware and CPU decoders, the camera sink's converter, and the
# demo cameras the wall benchmark serves (videotestsrc, text overlays, openh264enc, jpegenc,
# gst-rtsp-server's payloaders).
PLUGINS=(coreelements typefindfunctions playback app videoconvertscale matroska
  videoparsersbad nvcodec openh264 de265 rtsp rtp rtpmanager udp videotestsrc pango
  jpeg)

copy_closure() { # files... -> $STAGE/lib (everything but glibc itself)
  local f dep
  for f in "$@"; do
    ldd "$f" 2>/dev/null | awk '/=>/ {print $3}' | while read -r dep; do
      [ -n "$dep" ] || continue
      case "$(basename "$dep")" in
        libc.so.*|libm.so.*|libpthread.so.*|libdl.so.*|librt.so.*|ld-linux*|libresolv.so.*) continue ;;
      esac
      [ -e "$STAGE/lib/$(basename "$dep")" ] || cp -L "$dep" "$STAGE/lib/"
    done
  done
}

manifest() { # the Debian package and version of each file in the bundle
  local f real pkg
  : > "$STAGE/MANIFEST"
  for f in "$STAGE"/lib/* "$STAGE"/gst-plugins/* "$STAGE"/libexec/*; do
    real=$(ls "$ARCH_LIB/$(basename "$f")" "/lib/x86_64-linux-gnu/$(basename "$f")" \
      "$PLUGIN_DIR/$(basename "$f")" 2>/dev/null | head -1 || true)
    pkg=$( [ -n "$real" ] && dpkg -S "$real" 2>/dev/null | head -1 | cut -d: -f1 || true)
    ver=$( [ -n "$pkg" ] && dpkg-query -W -f='${Version}' "$pkg" 2>/dev/null || true)
    echo "$(basename "$f") ${pkg:-?} ${ver:-?}" >> "$STAGE/MANIFEST"
  done
}

make_clip() { # caps encoder-line parser out
  local out=$4
  [ -s "$out" ] && return 0
  echo "encoding $out"
  # Moving colour bars: every part of the picture changes, as in a street camera's picture.
  gst-launch-1.0 -q videotestsrc pattern=smpte horizontal-speed=8 num-buffers=375 \
    ! video/x-raw,width=1920,height=1080,framerate=25/1,format=I420 \
    ! $2 ! "$1" ! $3 ! matroskamux ! filesink location="$4"
}

prepare() {
  local bin=${BIN:-target/release/ioc-console}
  if [ ! -x "$bin" ]; then
    echo "building the release binary (cargo build --release)"
    cargo build --release --locked
  fi
  STAGE=$GPU_DIR/bundle
  rm -rf "$STAGE" && mkdir -p "$STAGE"/{lib,gst-plugins,libexec,fonts,clips}
  cp "$bin" "$STAGE/ioc-console" && strip "$STAGE/ioc-console"
  cp "$ARCH_LIB/gstreamer1.0/gstreamer-1.0/gst-plugin-scanner" "$STAGE/libexec/"
  local p
  for p in "${PLUGINS[@]}"; do
    cp "$PLUGIN_DIR/libgst$p.so" "$STAGE/gst-plugins/"
  done
  copy_closure "$bin" "$STAGE"/gst-plugins/*.so "$STAGE/libexec/gst-plugin-scanner"
  # wgpu opens the Vulkan loader at run time (the driver brings its own ICD).
  cp -L "$ARCH_LIB/libvulkan.so.1" "$STAGE/lib/"
  cp /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf "$STAGE/fonts/"
  cat > "$STAGE/fonts.conf" <<'EOF'
<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "fonts.dtd">
<fontconfig><dir prefix="relative">fonts</dir><cachedir>/tmp/ioc-gpu-fontcache</cachedir></fontconfig>
EOF
  make_clip video/x-h264,profile=constrained-baseline \
    "x264enc bitrate=3000 speed-preset=veryfast key-int-max=50" h264parse "$GPU_DIR/h264-1080p.mkv"
  make_clip video/x-h265 \
    "x265enc bitrate=2000 speed-preset=ultrafast key-int-max=50" h265parse "$GPU_DIR/h265-1080p.mkv"
  cp "$GPU_DIR/h264-1080p.mkv" "$GPU_DIR/h265-1080p.mkv" "$STAGE/clips/"
  # The CPU decoders: libav's (avdec_*) would be the usual baseline, but gst-libav's libraries
  # with their dependencies are 224 MB (the archive passed 45 MiB with much still to go), too
  # much for the 64 MiB that travels with the working tree; openh264dec (H.264 Constrained Baseline: the clip is encoded so) and
  # libde265dec (H.265) are the CPU decoders carried instead.
  echo "cpu-decoders openh264dec libde265dec" > "$STAGE/DECODERS"
  manifest
  XZ_OPT=${XZ_OPT:--6 -T0} tar -cJf "$BUNDLE" -C "$GPU_DIR" bundle
  local mib=$(( $(stat -c %s "$BUNDLE") / 1048576 ))
  echo "$BUNDLE: $mib MiB; $(cat "$STAGE/DECODERS")"
  if [ "$mib" -gt "$LIMIT_MIB" ]; then
    echo "the bundle is over $LIMIT_MIB MiB: it would not travel" >&2
    exit 1
  fi
}

gpu_found() { # prints why not, returns 1, when there is no NVIDIA GPU to measure
  if [ ! -e /dev/nvidia0 ] && [ ! -e /dev/nvidiactl ]; then
    echo "no NVIDIA GPU: /dev/nvidia0 does not exist"
    return 1
  fi
  if command -v nvidia-smi >/dev/null 2>&1; then nvidia-smi -L || true; fi
  return 0
}

vulkan_icd() { # the driver's Vulkan ICD, or one written for its library
  local d
  for d in /usr/share/vulkan/icd.d /etc/vulkan/icd.d; do
    if ls "$d"/nvidia_icd*.json >/dev/null 2>&1; then
      ls "$d"/nvidia_icd*.json | head -1
      return 0
    fi
  done
  local lib
  lib=$(ldconfig -p 2>/dev/null | awk '/libGLX_nvidia.so.0/ {print $NF; exit}')
  if [ -n "$lib" ]; then
    printf '{"file_format_version":"1.0.0","ICD":{"library_path":"%s","api_version":"1.3.0"}}\n' \
      "$lib" > "$RUN_DIR/nvidia_icd.json"
    echo "$RUN_DIR/nvidia_icd.json"
  fi
}

run() {
  local allow_cpu=0
  [ "${1:-}" = "--allow-cpu" ] && allow_cpu=1
  local started=$SECONDS
  if [ ! -s "$BUNDLE" ]; then
    echo "no $BUNDLE: run 'bash benches/gpu.sh prepare' first (and carry it)" >&2
    exit 2
  fi
  if [ "$allow_cpu" -eq 0 ] && ! gpu_found; then
    echo "this benchmark needs a GPU; nothing was measured (dry run here: --allow-cpu)" >&2
    exit 3
  fi
  RUN_DIR=$(mktemp -d /tmp/ioc-gpu.XXXXXX)
  if command -v xz >/dev/null 2>&1; then
    tar -xJf "$BUNDLE" -C "$RUN_DIR"
  else
    python3 -c 'import lzma,sys,tarfile; tarfile.open(fileobj=lzma.open(sys.argv[1])).extractall(sys.argv[2])' \
      "$BUNDLE" "$RUN_DIR"
  fi
  local B=$RUN_DIR/bundle
  export LD_LIBRARY_PATH=$B/lib
  export GST_PLUGIN_SYSTEM_PATH_1_0=$B/gst-plugins GST_PLUGIN_PATH_1_0=
  export GST_PLUGIN_SCANNER_1_0=$B/libexec/gst-plugin-scanner
  export GST_REGISTRY_1_0=$RUN_DIR/registry.bin
  export FONTCONFIG_FILE=$B/fonts.conf
  export XDG_CONFIG_HOME=$RUN_DIR/config XDG_DATA_HOME=$RUN_DIR/data XDG_RUNTIME_DIR=$RUN_DIR
  export RUST_LOG=${RUST_LOG:-warn}
  local icd
  icd=$(vulkan_icd || true)
  [ -n "$icd" ] && [ "$allow_cpu" -eq 0 ] && export VK_ICD_FILENAMES=$icd
  local C="$B/ioc-console --config /dev/null"
  local frames=120 warmup=30 streams=16 seconds=12 sizes=1920x1080,3840x2160
  # On the processor: fewer frames and streams, and a quarter of the pixels (the same 1:4).
  if [ "$allow_cpu" -eq 1 ]; then frames=6 warmup=4 streams=2 seconds=3 sizes=960x540,1920x1080; fi
  read -r _ cpu264 cpu265 _ < "$B/DECODERS"
  local report=$GPU_DIR/report.md
  mkdir -p "$GPU_DIR"
  {
    echo "# GPU benchmark, $(date -u +%Y-%m-%dT%H:%MZ)"
    echo
    echo '```'
    uname -srm
    if command -v nvidia-smi >/dev/null 2>&1; then
      nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
    fi
    echo "Vulkan ICD: ${icd:-(system default)}; CPU decoders: $cpu264, $cpu265; $(nproc) cores"
    set +e
    local status=0
    $C bench gpu || status=$?
    if [ "$status" -eq 3 ] && [ "$allow_cpu" -eq 0 ]; then
      echo "the GPU is not usable through Vulkan: nothing measured"
      echo '```'
      exit 3
    fi
    step() { # limit, what: a step over its time is said, and the next one runs
      local limit=$1; shift
      timeout "$limit" "$@"
      local rc=$?
      [ "$rc" -eq 124 ] && echo "($* stopped after $limit s, its time limit)"
      [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] && echo "($* ended with status $rc)"
    }
    step 240 $C bench wall --size "$sizes" --frames $frames --warmup $warmup
    step 60 $C bench upload --size 1920x1080
    step 100 $C bench decode --clip "$B/clips/h264-1080p.mkv" \
      --decoders nvh264dec,"$cpu264" --streams $streams --seconds $seconds
    step 100 $C bench decode --clip "$B/clips/h265-1080p.mkv" \
      --decoders nvh265dec,"$cpu265" --streams $streams --seconds $seconds
    set -e
    echo "took $((SECONDS - started)) s"
    echo '```'
  } 2>&1 | tee "$report"
  if [ -n "${OUT:-}" ]; then cp "$report" "$OUT/report.md"; fi
  rm -rf "$RUN_DIR"
}

case "${1:-run}" in
  prepare) prepare ;;
  run) shift || true; run "$@" ;;
  *) echo "usage: bash benches/gpu.sh prepare | run [--allow-cpu]" >&2; exit 2 ;;
esac
