# Sourced by _env.sh: run a long, chatty command (pip) with its full output in a log and its milestones on stderr.
# run_logged LOG CMD...: every line goes to LOG; "Collecting …", "Installing collected packages …" and
# "Successfully installed …" are echoed (shortened) as they happen, and a line every 20 s says it is still
# working, so a three-minute install is never silent. Returns CMD's exit status.
run_logged() {
  local log="$1"; shift
  local start=$SECONDS ticker rc
  # short sleeps: a killed ticker's last sleep must not hold stderr open for long
  ( while sleep 1; do (( (SECONDS - start) % 20 )) || echo "    … still working ($(( SECONDS - start )) s; log: $log)" >&2
    done ) &
  ticker=$!
  set +e
  "$@" 2>&1 | tee -a "$log" \
    | grep --line-buffered -E '^(Collecting|Installing collected packages|Successfully installed|ERROR)' \
    | sed -u -e 's/^\(.\{0,110\}\).*/    \1/' >&2
  rc=${PIPESTATUS[0]}
  set -e
  kill "$ticker" 2>/dev/null
  wait "$ticker" 2>/dev/null
  return "$rc"
}
