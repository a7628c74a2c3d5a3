# Shared by the e2e shell tests: counted checks with the failing output shown.
pass=0
fail=0
check() {  # check "what" command... ; passes when the command succeeds
  local what="$1" out
  shift
  if out=$("$@" 2>&1); then
    pass=$((pass + 1))
    echo "ok   $what"
  else
    fail=$((fail + 1))
    echo "FAIL $what"
    echo "$out" | sed 's/^/     /' | head -20
  fi
}
contains() {  # contains "needle" command... ; the command succeeds and prints needle
  local needle="$1" out
  shift
  out=$("$@" 2>&1) || { echo "$out"; return 1; }
  grep -q -- "$needle" <<<"$out" || { echo "expected \"$needle\" in:"; echo "$out"; return 1; }
}
summary() {  # the closing line ctest's log and CI read; non-zero on any failure
  echo "$pass passed, $fail failed"
  [ "$fail" -eq 0 ]
}
