#!/usr/bin/env bash
# sample-library.sh DIR generates Marquee's sample library with the ffmpeg
# CLI: a 2-minute film with a visible clock and a tone, a 2-episode show and
# an album of 3 short tracks, with posters and cover art. It does nothing if
# DIR already holds a complete sample (a .sample-complete marker).
set -euo pipefail
dir=${1:-data/library}
if [ -f "$dir/.sample-complete" ]; then
  exit 0
fi
command -v ffmpeg >/dev/null || { echo "sample-library: ffmpeg is missing; run scripts/deps.sh" >&2; exit 1; }
font=/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf
[ -f "$font" ] || { echo "sample-library: $font is missing; run scripts/deps.sh (fonts-dejavu-core)" >&2; exit 1; }

ff() { ffmpeg -hide_banner -loglevel error -y "$@"; }
# clock TEXT: a drawtext filter showing TEXT and the running time.
clock() {
  echo "drawtext=fontfile=$font:text='$1':x=(w-tw)/2:y=h*0.22:fontsize=h/12:fontcolor=white:box=1:boxcolor=black@0.5:boxborderw=12,drawtext=fontfile=$font:text='%{pts\\:hms}':x=(w-tw)/2:y=h*0.62:fontsize=h/7:fontcolor=white:box=1:boxcolor=black@0.6:boxborderw=16"
}

echo "sample-library: generating in $dir (about a minute)" >&2
film="$dir/movies/Big Clock (2026)"
mkdir -p "$film"
ff -f lavfi -i "testsrc2=size=1280x720:rate=30:duration=120" \
   -f lavfi -i "sine=frequency=440:sample_rate=48000:duration=120" \
   -vf "$(clock 'Big Clock')" -c:v libx264 -preset veryfast -g 60 -pix_fmt yuv420p -b:v 2M \
   -c:a aac -b:a 128k -ac 2 -shortest "$film/Big Clock (2026).mp4"
ff -f lavfi -i "color=c=0x1d2b53:size=600x900" -frames:v 1 \
   -vf "drawtext=fontfile=$font:text='BIG CLOCK':x=(w-tw)/2:y=h*0.4:fontsize=80:fontcolor=0xffcc00,drawtext=fontfile=$font:text='2026':x=(w-tw)/2:y=h*0.55:fontsize=48:fontcolor=white" \
   "$film/poster.jpg"
cat > "$film/Big Clock (2026).nfo" <<'NFO'
<?xml version="1.0" encoding="UTF-8"?>
<movie>
  <title>Big Clock</title>
  <year>2026</year>
  <plot>Two minutes of a clock and a steady tone: Marquee's sample film, made to check that every viewer sees the same second at the same moment.</plot>
  <genre>Documentary</genre>
</movie>
NFO

show="$dir/shows/Sample Show"
mkdir -p "$show/Season 01"
for ep in 1 2; do
  ff -f lavfi -i "smptebars=size=960x540:rate=25:duration=20" \
     -f lavfi -i "sine=frequency=$((300 + ep * 110)):sample_rate=48000:duration=20" \
     -vf "$(clock "Sample Show S01E0$ep")" -c:v libx264 -preset veryfast -g 50 -pix_fmt yuv420p \
     -c:a aac -b:a 96k -ac 2 -shortest "$show/Season 01/Sample Show - S01E0$ep - Episode $ep.mp4"
done
ff -f lavfi -i "color=c=0x3a1c5c:size=600x900" -frames:v 1 \
   -vf "drawtext=fontfile=$font:text='SAMPLE SHOW':x=(w-tw)/2:y=h*0.45:fontsize=64:fontcolor=white" "$show/poster.jpg"

album="$dir/music/Marquee Ensemble/First Light"
mkdir -p "$album"
n=1
for title in Dawn Noon Dusk; do
  ff -f lavfi -i "sine=frequency=$((220 * n)):sample_rate=48000:duration=15" -ac 2 \
     -metadata title="$title" -metadata artist="Marquee Ensemble" -metadata album="First Light" -metadata track="$n" \
     "$album/0$n - $title.flac"
  n=$((n + 1))
done
ff -f lavfi -i "color=c=0xff7a00:size=600x600" -frames:v 1 \
   -vf "drawtext=fontfile=$font:text='FIRST LIGHT':x=(w-tw)/2:y=h*0.45:fontsize=56:fontcolor=black" "$album/cover.jpg"

touch "$dir/.sample-complete"
echo "sample-library: done" >&2
