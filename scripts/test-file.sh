#!/bin/sh
# Runs one test file for prove (make test) so that no file can stop the
# suite: under a time limit (BC_TEST_TIMEOUT, 600 s, and never past
# BC_SUITE_END, the suite's end in epoch seconds), with its output kept in
# files and shown when it ends (a server it leaves behind holds a file, not
# prove's pipe), and whatever it leaves running is ended after it.
f=$1
case $f in
*.t) set -- perl "$f" ;;
esac

limit=${BC_TEST_TIMEOUT:-600}
if [ -n "${BC_SUITE_END:-}" ]; then
    left=$((BC_SUITE_END - $(date +%s)))
    [ "$left" -lt "$limit" ] && limit=$left
fi
if [ "$limit" -le 0 ]; then
    echo "1..1"
    echo "not ok 1 - $f not run: the suite's time is spent (scripts/test-file.sh)"
    exit 1
fi

out=$(mktemp) && err=$(mktemp) || exit 1
# timeout leads a process group of its own: the test and what it starts
timeout -k 20 "$limit" "$@" </dev/null >"$out" 2>"$err" &
pid=$!
wait $pid
rc=$?
perl -e 'kill "KILL", -$ARGV[0]' "$pid"

cat "$out"
cat "$err" >&2
rm -f "$out" "$err"
# on its own line: the test may have been cut in the middle of one
case $rc in
124 | 137) printf '\nnot ok - %s: no end after %s s (scripts/test-file.sh)\n' "$f" "$limit" ;;
esac
exit $rc
