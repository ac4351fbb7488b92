#!/bin/sh
# Runs one test file for prove (make test) under a time limit, so that a file
# that hangs fails alone, with its TAP so far, instead of stopping the suite.
# On the limit, timeout signals the whole process group: the test and the
# servers it started. BC_TEST_TIMEOUT sets the limit in seconds.
f=$1
case $f in
*.t) set -- perl "$f" ;;
esac
timeout -k 20 "${BC_TEST_TIMEOUT:-600}" "$@" </dev/null
rc=$?
[ $rc = 124 ] && echo "not ok - $f: no end after ${BC_TEST_TIMEOUT:-600} s (scripts/test-file.sh)"
exit $rc
