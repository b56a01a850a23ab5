#!/usr/bin/env bash
# make demo: rayofax's main job on embedded defaults, step by step.
#
#   1. a fax sent and received by two of our fax terminals over a simulated
#      line (bin/rayofax loopback), when that command exists;
#   2. rayofaxd started with no configuration file (embedded defaults) on a
#      free port, its health and readiness checked;
#   3. the received fax stored the way the daemon stores every fax (spool,
#      fsync, local backend), its signed URL printed, fetched back and
#      compared byte for byte; a tampered URL refused;
#   4. rayofaxd stopped with SIGTERM (graceful shutdown, exit status 0);
#   5. the whole stack (test/demo): Debian's prosody, the FreeSWITCH
#      simulator with a far-end fax machine on an inbound call, rayofaxd
#      configured for them with local storage, and `rayoctl receive`, which
#      answers the offer and prints the fax URL; the fax is downloaded,
#      compared with the page sent and previewed as a PNG.
#
# Everything lands in test/tools/out/demo/ (step 5 in its stack/ directory).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
out=$root/test/tools/out/demo
rm -rf "$out"
mkdir -p "$out"

if [ -t 1 ]; then bold=$'\033[1m' plain=$'\033[0m'; else bold="" plain=""; fi
step() { printf '\n%s== %s%s\n' "$bold" "$*" "$plain"; }
fail() { echo "demo: FAILED: $*" >&2; exit 1; }

for b in bin/rayofaxd bin/rayoctl; do
	[ -x "$b" ] || fail "$b missing (run make build)"
done
if ! command -v curl >/dev/null || ! command -v prosody >/dev/null; then
	bash test/tools/deps.sh
fi

# A test document: the shared chart beside the checkout, or one made with
# ghostscript.
doc="" stackdoc=""
for f in "$root/../shared/testdata/chart-fine-g3.tif" "$root/../shared/testdata/chart-p1-fine-g3.tif"; do
	if [ -f "$f" ]; then doc=$f; break; fi
done
if [ -z "$doc" ]; then
	command -v gs >/dev/null || bash test/tools/deps.sh
	cat >"$out/page.ps" <<'PS'
%!PS
/Helvetica findfont 36 scalefont setfont
72 700 moveto (rayofax demo page) show
/Helvetica findfont 14 scalefont setfont
72 660 moveto (A fax made with ghostscript for make demo.) show
4 setlinewidth 72 600 moveto 520 600 lineto stroke
0 1 9 { dup 40 mul 80 add 300 moveto 30 0 rlineto 0 200 rlineto -30 0 rlineto closepath fill pop } for
showpage
PS
	gs -q -dNOPAUSE -dBATCH -dSAFER -sPAPERSIZE=a4 -sDEVICE=tiffg3 -r204x196 \
		-sOutputFile="$out/page.tif" "$out/page.ps"
	doc=$out/page.tif
	stackdoc=$doc
fi
# Step 5 runs in real time, as a phone line does: one page keeps it short.
if [ -f "$root/../shared/testdata/chart-p1-fine-g3.tif" ]; then
	stackdoc=$root/../shared/testdata/chart-p1-fine-g3.tif
fi
echo "document: $doc ($(stat -c %s "$doc") bytes)"
received=$doc

# 1. The fax engine, end to end in one process.
has_command() { bin/rayofax help 2>&1 | grep -Eq "^[[:space:]]+$1[[:space:]]"; }
if [ -x bin/rayofax ] && has_command loopback; then
	step "1. fax loopback: our sender -> simulated line -> our receiver"
	echo "\$ bin/rayofax loopback $doc -o $out/received.tif"
	bin/rayofax loopback "$doc" -o "$out/received.tif" || fail "rayofax loopback"
	received=$out/received.tif
	if has_command tiff; then
		bin/rayofax tiff info "$received" || true
		bin/rayofax tiff render "$received" "$out/received-page1.png" --page 1 &&
			echo "preview of page 1: ${out#$root/}/received-page1.png"
	fi
else
	step "1. fax loopback: skipped (bin/rayofax loopback not built yet); storing the document itself"
fi

# 2. The daemon on embedded defaults (state in the demo directory, a free port).
step "2. rayofaxd on embedded defaults"
export RAYOFAX_STATE_DIR=$out/state
export RAYOFAX_HTTP_LISTEN=127.0.0.1:0
export RAYOFAX_LOG_FORMAT=text
bin/rayofaxd --version
bin/rayofaxd 2>"$out/rayofaxd.log" &
pid=$!
cleanup() { if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi; }
trap cleanup EXIT
for _ in $(seq 1 200); do
	grep -q 'msg="rayofaxd: ready"' "$out/rayofaxd.log" 2>/dev/null && break
	kill -0 "$pid" 2>/dev/null || { cat "$out/rayofaxd.log" >&2; fail "rayofaxd exited"; }
	sleep 0.05
done
grep -q 'msg="rayofaxd: ready"' "$out/rayofaxd.log" || { cat "$out/rayofaxd.log" >&2; fail "rayofaxd not ready"; }
addr=$(sed -n 's/.*msg="rayofaxd: http listening" addr=\([^ ]*\).*/\1/p' "$out/rayofaxd.log" | head -1)
base=http://$addr
cut -c1-200 "$out/rayofaxd.log"
probe() {
	local r
	r=$(curl -sS -w '\t%{http_code}' "$1" | tr -d '\n') || true
	echo "\$ curl $1 -> HTTP ${r##*$'\t'}: ${r%$'\t'*}"
}
probe "$base/healthz"
probe "$base/readyz"
echo "(not ready: no switch or XMPP server at the default addresses; step 5 starts both)"

# 3. Store the received fax as the daemon stores every fax, fetch it back.
step "3. store the fax, fetch it from its signed URL"
echo "\$ bin/rayofaxd store --key demo/received.tif $received"
json=$(RAYOFAX_HTTP_PUBLIC_URL=$base bin/rayofaxd store --key demo/received.tif "$received") || fail "rayofaxd store"
echo "$json"
url=$(printf '%s' "$json" | sed -n 's/.*"url":"\([^"]*\)".*/\1/p')
[ -n "$url" ] || fail "no URL in $json"
echo "signed URL: $url"
curl -fsS -D "$out/headers.txt" -o "$out/fetched.tif" "$url" || fail "fetching the signed URL"
grep -i '^content-type:' "$out/headers.txt"
cmp "$received" "$out/fetched.tif" || fail "fetched bytes differ from the stored fax"
echo "fetched $(stat -c %s "$out/fetched.tif") bytes, identical to the stored fax"
code=$(curl -s -o /dev/null -w '%{http_code}' "${url/received.tif/other.tif}")
echo "tampered URL -> HTTP $code"
[ "$code" = 403 ] || fail "tampered URL got $code, want 403"
curl -fsS "$base/metrics" | grep -E '^rayofax_storage_(spool_pending|stored_bytes_total)' || true

# 4. Graceful stop.
step "4. SIGTERM"
kill -TERM "$pid"
status=0
wait "$pid" || status=$?
tail -n 3 "$out/rayofaxd.log" | cut -c1-200
[ "$status" = 0 ] || fail "rayofaxd exited with status $status"

# 5. The whole stack, with the real binaries (rayofaxd on its own
# configuration file: the RAYOFAX_* settings above would override it).
unset RAYOFAX_STATE_DIR RAYOFAX_HTTP_LISTEN RAYOFAX_LOG_FORMAT
step "5. the whole stack: prosody + FreeSWITCH simulator + rayofaxd + rayoctl, an inbound fax"
go build -o "$out/bin/demo" ./test/demo || fail "building test/demo"
args=(-bin bin -out "$out/stack")
[ -n "$stackdoc" ] && args+=(-doc "$stackdoc")
echo "\$ ${out#$root/}/bin/demo ${args[*]}   (built from test/demo)"
"$out/bin/demo" "${args[@]}" || fail "the whole-stack demo (logs in ${out#$root/}/stack)"
echo
echo "demo: OK (files in ${out#$root/})"
