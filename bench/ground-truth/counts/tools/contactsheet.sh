#!/usr/bin/env bash
# Pass B: contact sheet of frames every STEP seconds around a counting line.
# Lines (in original pixel coordinates) are drawn in red (1 px) before cropping;
# each tile is stamped with the frame's presentation time in seconds.
#
# usage: contactsheet.sh CLIP OUT.png FROM_S DUR_S STEP_S CROP COLS ROWS TILE_W "LINES"
#   CROP    w:h:x:y region of the original frame to show
#   TILE_W  width of each tile after scaling (keeps aspect)
#   LINES   space-separated x0,y0,x1,y1 boxes to draw (horizontal/vertical lines as thin boxes)
# Example: contactsheet.sh uk.mp4 /tmp/uk_B1.png 0 8 0.4 640:200:0:160 4 5 320 "0,250,640,250"
set -euo pipefail
CLIP=$1; OUT=$2; FROM=$3; DUR=$4; STEP=$5; CROP=$6; COLS=$7; ROWS=$8; TW=$9; LINES=${10:-}
F=/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf
DRAW=""
for l in $LINES; do
  IFS=, read -r x0 y0 x1 y1 <<<"$l"
  w=$((x1 - x0)); h=$((y1 - y0)); ((w < 1)) && w=1; ((h < 1)) && h=1
  DRAW="$DRAW,drawbox=x=$x0:y=$y0:w=$w:h=$h:c=red@0.8:t=fill"
done
END=$(python3 -c "print($FROM+$DUR)")
ffmpeg -v error -y -i "$CLIP" -vf "trim=start=$FROM:end=$END,select='isnan(prev_selected_t)+gte(t-prev_selected_t\,$STEP-0.004)'$DRAW,crop=$CROP,scale=$TW:-2,drawtext=fontfile=$F:text='%{pts\:flt}':x=2:y=2:fontsize=14:fontcolor=yellow:box=1:boxcolor=black@0.6,tile=${COLS}x${ROWS}:padding=2:color=white" -fps_mode passthrough -frames:v 1 "$OUT"
echo "$OUT"
