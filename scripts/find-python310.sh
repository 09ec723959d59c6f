#!/usr/bin/env bash
# Print the path of a working Python 3.10 (Rasa 3.6 supports 3.8-3.10 only).
# Order: $PYTHON, then PATH, then pyenv's versions. pyenv shims are tried like
# any other command: a shim for a version that is not active fails the check.
set -u
is_310() { "$1" -c 'import sys, venv; sys.exit(sys.version_info[:2] != (3, 10))' >/dev/null 2>&1; }

for cand in "${PYTHON:-}" python3.10 python3 python; do
  [ -n "$cand" ] || continue
  path=$(command -v "$cand" 2>/dev/null) || continue
  if is_310 "$path"; then echo "$path"; exit 0; fi
done

root=$(pyenv root 2>/dev/null || echo "${PYENV_ROOT:-$HOME/.pyenv}")
for path in "$root"/versions/3.10.*/bin/python3.10; do
  if [ -x "$path" ] && is_310 "$path"; then echo "$path"; exit 0; fi
done

cat >&2 <<'MSG'
error: no Python 3.10 found (looked at $PYTHON, PATH and pyenv).
Rasa Open Source 3.6 runs on Python 3.8-3.10 only. Install Python 3.10
(for example `pyenv install 3.10`) or set PYTHON=/path/to/python3.10.
MSG
exit 1
