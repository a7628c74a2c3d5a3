#!/usr/bin/env bash
# The largest functions and files of the C++ sources, from universal-ctags' start and end
# lines (`apt-get install universal-ctags`). Usage: hack/function-sizes.sh [N] [PATH...]
# Prints "<lines> <file>:<line> <function>" for the N largest functions, then the N largest
# files. Used to keep functions readable in one sitting (issue 31: none over ~80 lines
# without a reason in its comment).
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-15}"
shift || true
paths=("${@:-src operator}")
command -v ctags >/dev/null || { echo "function-sizes: needs universal-ctags" >&2; exit 2; }
echo "# largest functions (lines)"
# shellcheck disable=SC2068
ctags -R --languages=C++ --kinds-C++=f --fields=+ne -x --_xformat='%{end} %{line} %F %N' ${paths[@]} 2>/dev/null |
  awk '$1 != "" && $1 >= $2 { printf "%5d %s:%d %s\n", $1 - $2 + 1, $3, $2, $4 }' | sort -rn | head -n "$n"
echo "# largest files (lines)"
# shellcheck disable=SC2068
find ${paths[@]} -name '*.cpp' -o -name '*.h' | xargs wc -l | grep -v ' total$' | sort -rn | head -n "$n"
