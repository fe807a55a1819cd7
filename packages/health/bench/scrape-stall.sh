#!/bin/bash
# Longest event-loop gap while /metrics of 100k counter series is served to an outside scraper
# (curl, as Prometheus would be): one warm-up scrape, then 9 measured. Needs the built dist/
# (npx nx run-many -t build). Usage: packages/health/bench/scrape-stall.sh
coproc S { node "$(dirname "$0")/scrape-stall-server.cjs" 2>/dev/null; }
read -r port <&"${S[0]}"
curl -s -o /dev/null "http://127.0.0.1:$port/metrics"   # warm-up scrape (first render fills the caches)
for i in 1 2 3 4 5 6 7 8 9; do
  echo start >&"${S[1]}"; sleep 0.05
  curl -s -o /dev/null -w "%{size_download} bytes %{time_total}s " "http://127.0.0.1:$port/metrics"
  echo stop >&"${S[1]}"; read -r line <&"${S[0]}"; echo "$line"
done
echo quit >&"${S[1]}"; read -r line <&"${S[0]}"; echo "$line"
