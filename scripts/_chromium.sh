# Sourced by scripts/check: Debian's `chromium`, for the HTML scorecard's browser test
# (tests/reports/test_html_browser.py). Installed once when missing, as root or with
# password-less sudo; otherwise a note, and that test says how to install it or skip it.
chromium_install() {
  command -v chromium >/dev/null 2>&1 && return 0
  [ "${READINESS_SKIP_BROWSER:-}" = "1" ] && return 0
  local sudo=""
  if [ "$(id -u)" != "0" ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true >/dev/null 2>&1; then sudo="sudo -n"
    else
      echo "note: chromium is not installed and this user cannot install it (not root, no" \
           "password-less sudo); the browser test will fail: install Debian's chromium, or" \
           "set READINESS_SKIP_BROWSER=1 to skip it" >&2
      return 0
    fi
  fi
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "note: chromium is not installed and there is no apt-get here; install Chromium" \
         "(chromium on PATH), or set READINESS_SKIP_BROWSER=1 to skip the browser test" >&2
    return 0
  fi
  mkdir -p .venv
  echo "installing Debian's chromium for the browser test (log: .venv/install.log)" >&2
  local apt=(env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 -y -q)
  # the package lists may be missing or stale (a fresh container): update once and retry
  if ! { $sudo "${apt[@]}" install --no-install-recommends chromium \
         || { $sudo "${apt[@]}" update && \
              $sudo "${apt[@]}" install --no-install-recommends chromium; }; } \
       >>.venv/install.log 2>&1; then
    tail -n 15 .venv/install.log >&2
    echo "note: installing chromium failed (full log in .venv/install.log); the browser test" \
         "will fail: install it by hand, or set READINESS_SKIP_BROWSER=1 to skip it" >&2
  fi
  return 0
}
chromium_install
