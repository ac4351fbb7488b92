#!/usr/bin/perl
# A configuration reload (SIGHUP) and a graceful stop keep working: new
# workers connect to Redis on their own, old ones let go of theirs, tokens
# stay valid, nothing is logged at [alert].
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use Time::HiRes qw(sleep time);
use BcTest;

my $t = BcTest->new;
$t->start_redis;
my $data = $t->make_file('files/a.bin', 50_000);
$t->start_nginx(undef, workers => 2);
my $tok = $t->grant('/files/a.bin', '--uses', 0);
is($t->get("/files/a.bin?bitcache_token=$tok")->{content}, $data, 'before the reload');

for my $round (1 .. 3) {
    my $clients = $t->redis('CLIENT', 'LIST');
    kill 'HUP', $t->{nginx_pid};
    my $ok = 0;
    my $until = time + 10;
    while (time < $until) {
        my $r = $t->get("/files/a.bin?bitcache_token=$tok");
        if ($r->{status} == 200 && $r->{content} eq $data) { $ok++; last if $ok >= 5 }
        sleep 0.1;
    }
    is($ok, 5, "after reload $round the token still downloads");
}

# old workers go away and close their connections: 2 workers, 2 connections (+ ours)
my $until = time + 10;
my $n;
while (time < $until) {
    $n = () = $t->redis('CLIENT', 'LIST') =~ /cmd=/g;
    last if $n <= 3;
    sleep 0.2;
}
cmp_ok($n, '<=', 3, "old workers' Redis connections are closed ($n clients)");

$t->stop_nginx;
$t->check_log_clean;
done_testing;
