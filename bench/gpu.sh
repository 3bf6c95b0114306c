#!/usr/bin/env bash
# Capacity on a GPU box, one command: checks that the GPU path really works end to end (NVIDIA driver,
# ffmpeg with CUDA decode, onnxruntime-node with its CUDA execution provider, no silent fallback to the
# CPU), then prints the same capacity table as `npx tsx bench/run.ts capacity`, with the detector on
# onnx-cuda and ffmpeg decoding with -hwaccel cuda.
#   bench/gpu.sh                       # 1, 2, 4, 8, 16 cameras
#   CAPACITY_CAMERAS=1,4,16,32 bench/gpu.sh
# Needs: nvidia-smi, an ffmpeg built with CUDA (nvdec), onnxruntime-node installed with its CUDA 12 libraries
# (ONNXRUNTIME_NODE_INSTALL=cuda12 npm ci; CUDA 12 + cuDNN 9 at run time: see ops/docker/Dockerfile.gpu),
# ../shared beside the checkout (clips and weights) and Debian's python3-gi GStreamer RTSP server (make deps).
# Fails with a message naming the missing piece; exits 0 only when the table was printed.
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED="${ROADSIDE_SHARED:-../shared}"
fail() { echo "gpu.sh: FAIL: $*" >&2; exit 2; }
ok() { echo "gpu.sh: ok: $*"; }

command -v nvidia-smi >/dev/null || fail "no nvidia-smi: this machine has no NVIDIA driver (CUDA is absent)"
GPU="$(nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null | head -1)" || true
[ -n "$GPU" ] || fail "nvidia-smi finds no GPU"
ok "GPU $GPU"

command -v ffmpeg >/dev/null || fail "no ffmpeg"
ffmpeg -hide_banner -hwaccels 2>/dev/null | grep -qx cuda || fail "this ffmpeg has no CUDA hwaccel (ffmpeg -hwaccels does not list cuda)"
CLIP="$SHARED/data/traffic/opendatacam/opendatacam_placeholder_30fps.mp4"
[ -f "$CLIP" ] || fail "no test clip at $CLIP (set ROADSIDE_SHARED)"
FRAMES="$(ffmpeg -nostdin -v error -hwaccel cuda -threads 1 -i "$CLIP" -t 2 -vf fps=5,scale=640:360 -f rawvideo -pix_fmt rgb24 pipe:1 | wc -c)" || fail "ffmpeg -hwaccel cuda cannot decode the test clip"
[ "$FRAMES" -ge $((640 * 360 * 3 * 5)) ] || fail "ffmpeg -hwaccel cuda decoded only $FRAMES bytes of 2 s"
ok "ffmpeg decodes H.264 with -hwaccel cuda"

# The CUDA execution provider alone (no CPU fallback), on the real model: a CPU-only onnxruntime fails here.
MODELS_DIR="${MODELS_DIR:-$SHARED/models}" node --input-type=module -e "
  const ort = await import('onnxruntime-node');
  const path = process.env.MODELS_DIR + '/yolox_nano.onnx';
  let s;
  try { s = await ort.InferenceSession.create(path, { executionProviders: ['cuda'] }); }
  catch (e) { console.error('onnxruntime-node has no working CUDA execution provider: ' + e.message + ' (install with ONNXRUNTIME_NODE_INSTALL=cuda12; needs CUDA 12 + cuDNN 9)'); process.exit(3); }
  const x = new ort.Tensor('float32', new Float32Array(3 * 416 * 416), [1, 3, 416, 416]);
  await s.run({ [s.inputNames[0]]: x });
  await s.release();
" || fail "onnxruntime-node CUDA execution provider"
ok "onnxruntime-node runs yolox_nano on the CUDA execution provider"

CAPACITY_BACKEND=onnx-cuda CAPACITY_HWACCEL=cuda CAPACITY_CAMERAS="${CAPACITY_CAMERAS:-1,2,4,8,16}" \
  npx tsx bench/capacity.ts
