#!/usr/bin/env bash
# Regenerates the hashed lock files from pyproject.toml:
#   requirements/runtime.txt   [project.dependencies]
#   requirements/dev.txt       the same pins plus the `dev` extra
# The Dockerfile, the Makefile (and so CI) install with `pip install --require-hashes -r` from
# them, then the project itself with `--no-deps`. The `embeddings` extra is not locked: install
# it on top, with the lock as constraints so no locked pin moves:
#   pip install -c requirements/runtime.txt -e '.[embeddings]'
#
#   scripts/lock.sh                          keep the current pins, add or drop what changed
#   scripts/lock.sh --upgrade                move every pin to the newest allowed release
#   scripts/lock.sh --upgrade-package numpy  move one pin
#
# pip-tools runs from a throwaway venv under /tmp (never the project's .venv), with Python 3.11
# on Linux: markers are evaluated for that interpreter and platform. It resolves against the
# indexes and constraints of this machine's pip configuration (`pip config list`); the index
# URLs are not written into the files. Each pin carries the hash of every file the indexes
# publish for it (all platforms' wheels and the sdist).
set -euo pipefail
cd "$(dirname "$0")/.."

python=${PYTHON:-python3.11}
"$python" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) and sys.platform == "linux"
              else "the lock files are for Python 3.11 on Linux: set PYTHON=/path/to/python3.11")'

tools=$(mktemp -d /tmp/mlquiz-lock.XXXXXX)
trap 'rm -rf "$tools"' EXIT
"$python" -m venv "$tools/venv"
"$tools/venv/bin/pip" install --quiet pip==26.3 pip-tools==7.7.0

export CUSTOM_COMPILE_COMMAND=scripts/lock.sh  # the command named in the files' header
compile=("$tools/venv/bin/pip-compile" --quiet --generate-hashes --strip-extras --allow-unsafe
         --no-emit-index-url --no-emit-find-links)
# pip-compile reads the indexes from pip's configuration but not its `constraint` setting:
# pass those files on, so the lock resolves under the same caps as `pip install` here.
while read -r constraint; do
  [ -f "$constraint" ] && compile+=(--constraint "$constraint")
done < <("$tools/venv/bin/pip" config list 2>/dev/null \
           | sed -n "s/^[^=]*\.constraint='\(.*\)'$/\1/p" | tr ' ' '\n' | sort -u)

"${compile[@]}" "$@" --output-file requirements/runtime.txt pyproject.toml
# dev.txt is constrained by runtime.txt, so both files pin the runtime packages identically.
"${compile[@]}" "$@" --extra dev --constraint requirements/runtime.txt \
  --output-file requirements/dev.txt pyproject.toml
# pip-compile writes its own header on every run; say below it how the files are used.
note="#
# Hash-locked for CPython 3.11 on Linux. Regenerate with scripts/lock.sh (its header says how to
# upgrade); never edit by hand. Install: pip install --require-hashes -r THIS_FILE, then
# pip install --no-deps -e . (make does both). The embeddings extra is not locked: install it
# on top with pip install -c requirements/runtime.txt -e '.[embeddings]'."
for file in requirements/runtime.txt requirements/dev.txt; do
  awk -v note="$note" '{ print } /^#    scripts\/lock\.sh$/ { print note }' "$file" > "$file.new"
  mv "$file.new" "$file"
done
echo "wrote requirements/runtime.txt and requirements/dev.txt"
