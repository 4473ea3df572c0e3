#!/usr/bin/env bash
# Opens a `lab report` page in headless Chromium, screenshots it, and fails when the browser
# logs a console message (the page has no script, so any message is an error: a broken SVG, a
# blocked or missing resource) or when the page tries to fetch anything from the network.
#
#   scripts/check-report-chromium.sh REPORT_DIR [SCREENSHOT.png]
#
# REPORT_DIR is what `lab report FILE --seed N -o REPORT_DIR` wrote (index.html inside).
# Exit codes: 0 clean, 1 console errors or network fetches, 2 usage or set-up error,
# 77 no Chromium installed (the conventional "skipped" code).
# CHROMIUM=/path/to/binary picks the browser; otherwise chromium, chromium-browser,
# google-chrome, google-chrome-stable are tried in that order.
set -u

dir=${1:-}
shot=${2:-}
if [ -z "$dir" ] || [ ! -f "$dir/index.html" ]; then
    echo "usage: $0 REPORT_DIR [SCREENSHOT.png]  (REPORT_DIR/index.html from lab report)" >&2
    exit 2
fi
page=$(cd "$dir" && pwd)/index.html
[ -n "$shot" ] || shot="$(cd "$dir" && pwd)/screenshot.png"

# Checked first, with or without a browser: the page must not reference anything outside itself except its sibling files.
if grep -Eo '(src|href)="(https?:)?//[^"]*"' "$page" | grep -q .; then
    echo "check-report-chromium: $page references the network:" >&2
    grep -Eo '(src|href)="(https?:)?//[^"]*"' "$page" >&2
    exit 1
fi

browser=${CHROMIUM:-}
if [ -z "$browser" ]; then
    for b in chromium chromium-browser google-chrome google-chrome-stable; do
        if command -v "$b" >/dev/null 2>&1; then
            browser=$(command -v "$b")
            break
        fi
    done
fi
if [ -z "$browser" ]; then
    echo "check-report-chromium: skipped, no chromium, chromium-browser or google-chrome on PATH" >&2
    exit 77
fi

profile=$(mktemp -d)
log=$(mktemp)
trap 'rm -rf "$profile" "$log"' EXIT
# --enable-logging=stderr --v=0 makes Chromium print every console message as
# "...:CONSOLE(line)] "text", source: url"; network access is refused by a proxy that does not
# exist, so an attempted fetch shows up as a console error too.
timeout 120 "$browser" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage \
    --user-data-dir="$profile" --no-first-run --no-default-browser-check \
    --proxy-server=127.0.0.1:9 --enable-logging=stderr --v=0 \
    --window-size=1400,4000 --virtual-time-budget=5000 \
    --screenshot="$shot" "file://$page" >"$log" 2>&1
rc=$?
if [ $rc -ne 0 ]; then
    echo "check-report-chromium: $browser exited with $rc" >&2
    cat "$log" >&2
    exit 1
fi
if [ ! -s "$shot" ]; then
    echo "check-report-chromium: no screenshot written" >&2
    cat "$log" >&2
    exit 1
fi
if grep -E 'CONSOLE|Uncaught|ERR_PROXY|ERR_FILE_NOT_FOUND|Failed to load resource' "$log" >&2; then
    echo "check-report-chromium: console errors in $page" >&2
    exit 1
fi
echo "check-report-chromium: $page rendered without console errors; screenshot $shot ($(wc -c <"$shot") bytes)"
