# Sourced by the other scripts: make .venv with everything the project needs, once.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
py="${PYTHON:-}"
if [ -z "$py" ]; then
  for candidate in python3.13 python3.12 python3.11 python3; do
    if "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1; then
      py="$candidate"; break
    fi
  done
fi
[ -n "$py" ] || { echo "agent-readiness needs Python 3.11 or newer on PATH (or set PYTHON=/path/to/python3.11)." >&2; exit 2; }
if [ ! -x .venv/bin/python ]; then
  echo "setting up .venv with $("$py" --version)" >&2
  "$py" -m venv .venv
fi
stamp=".venv/.installed-$(cat pyproject.toml | sha256sum | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  echo "installing agent-readiness and its dependencies into .venv (log: .venv/install.log)" >&2
  if ! { .venv/bin/python -m pip install --upgrade pip && .venv/bin/python -m pip install -e '.[dev]'; } >.venv/install.log 2>&1; then
    tail -n 30 .venv/install.log >&2; echo "dependency installation failed; full log in .venv/install.log" >&2; exit 3
  fi
  rm -f .venv/.installed-* && touch "$stamp"
fi
export PATH="$root/.venv/bin:$PATH"
