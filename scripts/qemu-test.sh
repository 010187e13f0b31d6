#!/bin/sh
# Runs `nexus boot` with the original QEMU harness's environment knobs, so its command lines keep
# working, e.g.
#   RUN_PHASE=mmio RUN_UNTIL_MARKER=1 RUN_TIMEOUT=120s INIT_LITE_WATCHDOG_TICKS=800 ./scripts/qemu-test.sh
#
#   RUN_PHASE                  -> --phase NAME
#   RUN_UNTIL_MARKER           -> --until-marker (1), --until-marker MARKER (a string), nothing (0 or empty)
#   RUN_TIMEOUT                -> --timeout DUR
#   INIT_LITE_WATCHDOG_TICKS   -> --watchdog-ticks N
#   NEXUS_KEEP_BLK=1           -> --keep-image
#   REQUIRE_STATEFS_COLD_BOOT=1 -> --require-cold-boot
# Extra arguments go to `nexus boot` as they are. NEXUS_SHIM_ECHO=1 prints the command instead of
# running it. Exit status is nexus boot's: 0 pass, 1 verification failure, 2 usage error.
set -eu

root=$(CDPATH='' cd -- "$(dirname -- "$0")/.." && pwd)
cd "$root"

is_true() {
  case "$1" in
    1 | true | yes | on) return 0 ;;
    *) return 1 ;;
  esac
}

# Flags are prepended in reverse so they come out in the order listed above.
if [ -n "${REQUIRE_STATEFS_COLD_BOOT:-}" ] && is_true "$REQUIRE_STATEFS_COLD_BOOT"; then
  set -- --require-cold-boot "$@"
fi
if [ -n "${NEXUS_KEEP_BLK:-}" ] && is_true "$NEXUS_KEEP_BLK"; then
  set -- --keep-image "$@"
fi
if [ -n "${INIT_LITE_WATCHDOG_TICKS:-}" ]; then
  set -- --watchdog-ticks "$INIT_LITE_WATCHDOG_TICKS" "$@"
fi
if [ -n "${RUN_TIMEOUT:-}" ]; then
  set -- --timeout "$RUN_TIMEOUT" "$@"
fi
case "${RUN_UNTIL_MARKER:-}" in
  "" | 0) ;;
  1) set -- --until-marker "$@" ;;
  *) set -- "--until-marker=$RUN_UNTIL_MARKER" "$@" ;;
esac
if [ -n "${RUN_PHASE:-}" ]; then
  set -- --phase "$RUN_PHASE" "$@"
fi

if command -v deno >/dev/null 2>&1; then
  set -- deno task --quiet nexus boot "$@"
else
  set -- npx --yes deno@2.9.6 task --quiet nexus boot "$@"
fi

if [ -n "${NEXUS_SHIM_ECHO:-}" ] && is_true "$NEXUS_SHIM_ECHO"; then
  printf '%s\n' "$@"
  exit 0
fi
exec "$@"
