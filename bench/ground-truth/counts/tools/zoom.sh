#!/usr/bin/env bash
# Reconciliation: zoomed crops of one region at several times, side by side, time-stamped.
# usage: zoom.sh CLIP OUT.png CROP(w:h:x:y) TILE_W T1 [T2 ...]
set -euo pipefail
CLIP=$1; OUT=$2; CROP=$3; TW=$4; shift 4
F=/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf
ins=(); fc=""; i=0
for t in "$@"; do
  ins+=(-ss "$t" -i "$CLIP")
  fc="$fc[$i:v]trim=end_frame=1,crop=$CROP,scale=$TW:-2:flags=lanczos,drawtext=fontfile=$F:text='$t':x=2:y=2:fontsize=14:fontcolor=yellow:box=1:boxcolor=black@0.6[v$i];"
  i=$((i+1))
done
if ((i > 1)); then
  for ((k=0;k<i;k++)); do fc="$fc[v$k]"; done; fc="${fc}hstack=inputs=$i"
else fc="${fc%;}"; fc="${fc%\[v0\]}"; fi
ffmpeg -v error -y "${ins[@]}" -filter_complex "$fc" -frames:v 1 "$OUT"
echo "$OUT"
