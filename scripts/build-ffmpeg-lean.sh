#!/bin/bash
# Builds the appliance's decoder: a lean, statically linked ffmpeg from Debian's current
# (security-patched) source, into var/ffmpeg-lean/bin/ffmpeg. Why: Debian's ffmpeg links about a
# hundred shared libraries, and each camera's ffmpeg process touches ~40 MB of their pages (RSS);
# this one holds only what ingest uses (docs/ingest.md). `make deps` runs it once (the binary is its stamp).
# Needs: dpkg-dev (apt-get source), build-essential, pkg-config, nasm (SIMD decoders), libssl-dev (rtsps://).
# FFmpeg's own libraries are linked in; libc, libm and OpenSSL stay shared (patched by apt as usual).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PREFIX=${LEAN_PREFIX:-$ROOT/var/ffmpeg-lean}
SRC=${LEAN_SRC:-$ROOT/var/ffmpeg-src}
SUDO=$([ "$(id -u)" = 0 ] || echo sudo)
JOBS=${JOBS:-$(nproc)}

# Source packages of Debian's main and security suites, so that `apt-get source` fetches the
# version apt would install today (the security update's patches included).
if ! grep -rqsE '^(Types:.*deb-src|deb-src )' /etc/apt/sources.list /etc/apt/sources.list.d/; then
  echo "adding deb-src entries (/etc/apt/sources.list.d/roadside-deb-src.sources)"
  $SUDO tee /etc/apt/sources.list.d/roadside-deb-src.sources > /dev/null <<'SRC'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
  $SUDO apt-get update -qq
fi

rm -rf "$SRC" && mkdir -p "$SRC"
(cd "$SRC" && apt-get source -qq ffmpeg 2>&1 | grep -v '^W: Download is performed unsandboxed' || true)
test -n "$(find "$SRC" -mindepth 1 -maxdepth 1 -type d -name 'ffmpeg-*')" || { echo "apt-get source ffmpeg fetched nothing"; exit 1; }
dir=$(find "$SRC" -mindepth 1 -maxdepth 1 -type d -name 'ffmpeg-*' | head -n 1)
version=$(cd "$dir" && dpkg-parsechangelog -S Version)
echo "building lean ffmpeg from Debian source $version"

# Only what ingest uses (appliance/src/ingest/ffmpeg-args.ts): RTSP (TCP, and rtsps:// over TLS) or
# a clip file (mp4/mov, matroska, raw H.264/HEVC), H.264/HEVC/MJPEG video, the fps and scale filters,
# rgb24 rawvideo on a pipe. No audio, no devices, no autodetected libraries, no hardware decode
# (ingest.hwaccel: cuda uses the system ffmpeg).
cd "$dir"
./configure --prefix="$PREFIX.tmp" \
  --disable-everything --disable-autodetect --disable-shared --enable-static \
  --disable-doc --disable-ffplay --disable-ffprobe --disable-avdevice --disable-postproc \
  --disable-debug --enable-pic \
  --enable-openssl --pkg-config-flags=--static --extra-libs='-ldl -lpthread' \
  --enable-decoder=h264,hevc,mjpeg \
  --enable-parser=h264,hevc,mjpeg \
  --enable-demuxer=rtsp,sdp,rtp,mov,matroska,h264,hevc \
  --enable-protocol=tcp,udp,rtp,tls,file,pipe \
  --enable-filter=fps,scale,format,null \
  --enable-muxer=rawvideo --enable-encoder=rawvideo \
  --extra-version="roadside-lean" > "$SRC/configure.log" 2>&1 || { tail -n 30 "$SRC/configure.log"; exit 1; }
make -j"$JOBS" > "$SRC/make.log" 2>&1 || { grep -E 'error|Error' "$SRC/make.log" | tail -n 30; exit 1; }
# Installed beside, then moved into place: an interrupted build never leaves a binary that `make` takes for done.
rm -rf "$PREFIX.tmp"
make install > /dev/null 2>&1
strip "$PREFIX.tmp/bin/ffmpeg"
echo "$version" > "$PREFIX.tmp/DEBIAN_VERSION"
rm -rf "$PREFIX.tmp/include" "$PREFIX.tmp/lib" "$PREFIX.tmp/share"
"$PREFIX.tmp/bin/ffmpeg" -hide_banner -version | head -n 1
rm -rf "$PREFIX" && mv "$PREFIX.tmp" "$PREFIX"
rm -rf "$SRC"
