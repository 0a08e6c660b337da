#!/usr/bin/env bash
# Installs the system packages the test suite needs: the PostgreSQL server binaries (the
# tests start a throwaway server) and bubblewrap (the code sandbox). Root uses apt-get;
# anyone else gets the exact command to run.
set -euo pipefail

missing=()
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && ! command -v initdb >/dev/null; then
  missing+=(postgresql)
fi
command -v bwrap >/dev/null || missing+=(bubblewrap)
# The kernel's syscall headers: the test suite checks the sandbox's seccomp tables against them.
[ -e /usr/include/asm-generic/unistd.h ] || missing+=(linux-libc-dev)
# The sandbox runs as an unprivileged uid, which must be able to read the interpreter. A Python
# under /root (pyenv) is not readable, so the system's interpreter of the same version is used.
python=${PYTHON:-python3}
version=$("$python" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
real=$("$python" -c 'import os, sys; print(os.path.realpath(sys.executable))')
if [ "$(id -u)" -eq 0 ] && ! runuser -u nobody -- test -x "$real" 2>/dev/null \
   && [ ! -x "/usr/bin/python$version" ] && [ ! -x "/usr/local/bin/python$version" ]; then
  missing+=("python$version")
fi
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
  echo "installing ${missing[*]} with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "mlquiz tests need: ${missing[*]}. Install them with:" >&2
  echo "  sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
