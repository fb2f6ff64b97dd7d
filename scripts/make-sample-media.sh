#!/bin/sh
# Makes the sample media of conf/sample-feed.xml under DIR (which then serves as
# NatoMediaMediaRoot) and writes DIR/sample-feed.xml with the real sizes and SHA-256 sums:
#   DIR/sweden-membership/hd720.mp4   1280x720, 4 s, H.264/AAC
#   DIR/sweden-membership/sd360.mp4    640x360, 4 s, H.264/AAC
#   DIR/sweden-membership/thumb.jpg   the icon
# Needs ffmpeg and sha256sum. The output is bit-exact, so reruns give the same files.
set -eu

if [ $# -ne 1 ]; then
  echo "usage: $0 DIR" >&2
  exit 2
fi
out=$1
here=$(cd "$(dirname "$0")" && pwd)
template="$here/../conf/sample-feed.xml"
media="$out/sweden-membership"
mkdir -p "$media"

encode() {  # encode NAME WIDTH HEIGHT
  ffmpeg -nostdin -hide_banner -loglevel error -y \
    -f lavfi -i "testsrc=size=$2x$3:rate=25:duration=4" \
    -f lavfi -i "sine=frequency=440:sample_rate=48000:duration=4" \
    -c:v libx264 -preset veryfast -crf 30 -pix_fmt yuv420p -threads 1 \
    -c:a aac -b:a 64k -ac 2 \
    -map_metadata -1 -fflags +bitexact -flags:v +bitexact -flags:a +bitexact \
    -movflags +faststart -shortest "$media/$1.mp4"
}

encode hd720 1280 720
encode sd360 640 360
ffmpeg -nostdin -hide_banner -loglevel error -y -f lavfi -i "testsrc=size=480x270:rate=1" \
  -frames:v 1 -q:v 5 -fflags +bitexact -flags:v +bitexact "$media/thumb.jpg"

# Replaces size=, nm:sha256= and nm:bitrate= inside the remoteContent element of one rendition.
fill() {  # fill RENDITION FILE < in > out
  size=$(wc -c < "$2" | tr -d ' ')
  sum=$(sha256sum "$2" | cut -d' ' -f1)
  bitrate=$((size * 8 / 4))  # bits per second over the clips' 4 seconds
  sed "/rendition=\"rnd:$1\"/,/\/>/{
s/size=\"[0-9]*\"/size=\"$size\"/
s/nm:sha256=\"[0-9a-fA-F]*\"/nm:sha256=\"$sum\"/
s/nm:bitrate=\"[0-9]*\"/nm:bitrate=\"$bitrate\"/
}"
}

fill hd720 "$media/hd720.mp4" < "$template" | fill sd360 "$media/sd360.mp4" > "$out/sample-feed.xml.tmp"
mv "$out/sample-feed.xml.tmp" "$out/sample-feed.xml"
ls -l "$media"
echo "wrote $out/sample-feed.xml (media root: $out)"
