#!/usr/bin/perl
# The watcher under valgrind (memcheck), all its threads (the block fetcher,
# the signers): t/65's lifecycle (expiry, evictions, an unfinished block,
# restarts) and t/64's scale run (1,000 invoices settled by one 601-
# transaction block, signed in parallel), t/99-watch-metrics' scrapes
# (--metrics: its listener, clients that say nothing or not HTTP) and
# t/99-rotation.t's watchers (the old key and secret given with --old-key
# and --old-secret) pass with every watcher they start wrapped in valgrind,
# which must report no memory error and no leak.
use strict;
use warnings;
use File::Temp qw(tempdir);
use Test::More;

plan skip_all => 'valgrind not installed' unless `which valgrind` =~ /valgrind/;

my $dir = tempdir('bitcache-vg-XXXXXX', TMPDIR => 1, CLEANUP => 1);
# BcTest's start_watcher puts this in front of the command ({name}: the watcher's)
local $ENV{BC_WATCH_WRAP} = 'valgrind --leak-check=full --errors-for-leak-kinds=definite '
                          . "--log-file=$dir/{name}.%p.vg";

for my $test (qw(t/65-watch-lifecycle.t t/64-watch-scale.t t/99-watch-metrics.t t/99-rotation.t)) {
    my $out = `$^X $test 2>&1`;
    is($?, 0, "$test passes with the watcher under valgrind") or diag $out;
}

my @logs = glob "$dir/*.vg";
cmp_ok(scalar @logs, '>=', 4, 'valgrind watched every watcher started (' . @logs . ')');
for my $log (@logs) {
    open my $fh, '<', $log or die "$log: $!";
    my $text = do { local $/; <$fh> };
    (my $name = $log) =~ s{.*/}{};
    like($text, qr/ERROR SUMMARY: 0 errors/, "$name: no memory error") or diag $text;
    unlike($text, qr/definitely lost: [1-9]/, "$name: no leak");
}
done_testing;
