#!/usr/bin/env bash
# Pass A: slit-scan image of one counting line (horizontal or vertical in the image).
# Each output row = the pixels under the line in one frame; time runs down the image.
# Two slits are shown side by side (the line itself, and a parallel one OFF px further
# along the "forward" direction) so a vehicle's direction shows as which slit it hits first.
# A left margin carries a tick every second and a label every LABEL_EVERY seconds.
#
# usage: slitscan.sh CLIP OUT.png ORIENT POS A0 A1 [FROM_S] [DUR_S] [FPS] [ROWH] [OFF] [LABEL_EVERY]
#   ORIENT  h = horizontal line at row POS, spanning x=A0..A1 (pixels)
#           v = vertical line at column POS, spanning y=A0..A1 (pixels)
#   FROM_S, DUR_S  time span (s, presentation time); default 0 and 10
#   FPS     the clip is resampled to this constant rate first (handles VFR); default 25
#   ROWH    pixel rows per frame in the output; default 2
#   OFF     offset of the second slit in px (positive = +y for h, +x for v); default 8
# Example: slitscan.sh traffic/uk.mp4 /tmp/uk_A.png h 250 0 640 0 10 25 2 8 1
set -euo pipefail
CLIP=$1; OUT=$2; ORIENT=$3; POS=$4; A0=$5; A1=$6
FROM=${7:-0}; DUR=${8:-10}; FPS=${9:-25}; ROWH=${10:-2}; OFF=${11:-8}; LABEL_EVERY=${12:-1}
L=$((A1 - A0))
N=$(python3 -c "import math;print(int(round($DUR*$FPS)))")
H=$((N * ROWH))
if [ "$ORIENT" = h ]; then
  C1="crop=$L:1:$A0:$POS"; C2="crop=$L:1:$A0:$((POS + OFF))"
else
  C1="crop=1:$L:$POS:$A0,transpose=1"; C2="crop=1:$L:$((POS + OFF)):$A0,transpose=1"
fi
# label column: ticks every second, text every LABEL_EVERY s
LAB="color=c=black:s=56x$H:d=1,format=rgb24"
for ((s = 0; s * FPS * ROWH < H; s++)); do
  y=$((s * FPS * ROWH))
  LAB="$LAB,drawbox=x=44:y=$y:w=12:h=1:c=white:t=fill"
  if (( s % LABEL_EVERY == 0 )); then
    t=$(python3 -c "print(f'{$FROM+$s:g}')")
    LAB="$LAB,drawtext=fontfile=/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf:text='${t}s':x=2:y=$((y>5 ? y-5 : 0)):fontsize=11:fontcolor=yellow"
  fi
done
# half-second ticks
for ((s = 0; (2*s+1) * FPS * ROWH / 2 < H; s++)); do
  y=$(((2*s+1) * FPS * ROWH / 2)); LAB="$LAB,drawbox=x=50:y=$y:w=6:h=1:c=gray:t=fill"
done
ffmpeg -v error -y -ss "$FROM" -t "$DUR" -i "$CLIP" -filter_complex "
 [0:v]fps=$FPS,format=rgb24,split[a][b];
 [a]$C1,scale=$L:$ROWH:flags=neighbor,tile=1x$N[s1];
 [b]$C2,scale=$L:$ROWH:flags=neighbor,tile=1x$N[s2];
 $LAB[lab];
 color=c=red:s=4x$H:d=1,format=rgb24[gap];
 [lab][s1][gap][s2]hstack=inputs=4" -frames:v 1 "$OUT"
echo "$OUT: $N frames, ${ROWH}px/frame, $((FPS*ROWH))px per second"
