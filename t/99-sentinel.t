#!/usr/bin/perl
# Redis with a replica and three Sentinels (Debian's redis-sentinel,
# quorum 2): nginx (bitcache_redis sentinel= master=), the watcher and the
# CLI (--redis-sentinel --redis-master) find the primary through them; the
# primary is killed, and during the failover requests fail closed (503,
# Retry-After, never the file), then recover by themselves on the
# promoted replica, without a reload: a token granted before (WAITed onto
# the replica) still downloads, a new one can be granted, the watcher
# writes its tip to the new primary.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use Time::HiRes qw(time sleep);
use BcTest;
use BcSentinel;

my $t = BcTest->new;
my $d = $t->dir;
my $set = BcSentinel::start($t);
my ($primary, $replica, $list) = @$set{qw(primary replica list)};
my @sentinels = @{ $set->{sentinels} };
sub rcall { BcSentinel::rcall($t, @_) }
is_deeply(rcall($sentinels[1], 'SENTINEL', 'get-master-addr-by-name', 'bc'), ['127.0.0.1', $primary],
          'the sentinels name the primary');

my $data = $t->make_file('files/track.flac', 64 * 1024);
my $http = $t->default_http;
$http =~ s/bitcache_redis %%REDIS%% timeout=500ms;/bitcache_redis sentinel=$list master=bc timeout=500ms;/
    or die;
$t->start_nginx($http, workers => 2);

# nginx -t: the parameters that go together
{
    my ($rc, $out) = $t->nginx_test("    bitcache_redis sentinel=$list;\n", 'bad1.conf');
    like($out, qr/"sentinel=" and "master=NAME" go together in \S+bad1\.conf:\d+/, 'nginx -t: sentinel= needs master=');
    ($rc, $out) = $t->nginx_test("    bitcache_redis 127.0.0.1:1 sentinel=$list master=bc;\n", 'bad2.conf');
    like($out, qr/give an address or one "sentinel=", not both/, 'nginx -t: an address or sentinels');
    ($rc, $out) = $t->nginx_test("    bitcache_redis sentinel=127.0.0.1:x master=bc;\n", 'bad3.conf');
    like($out, qr/invalid sentinel "127\.0\.0\.1:x"/, 'nginx -t: a bad sentinel address');
}

$t->start_node;
$t->start_watcher(redis_args => ['--redis-sentinel', $list, '--redis-master', 'bc']);

my @cli = ('--secret', "$d/secret", '--redis-sentinel', $list, '--redis-master', 'bc');
my ($rc, $tok, $err) = $t->cli('grant', @cli, '--uses', 0, '/files/track.flac');
is($rc, 0, 'bitcache grant through the sentinels') or diag $err;
chomp $tok;
my $fetch = sub { $t->get("/files/track.flac?bitcache_token=$tok") };
my $r = $fetch->();
is($r->{status}, 200, 'served through the primary the sentinels name');
ok($r->{content} eq $data, 'exact bytes');
like($t->error_log, qr/sentinel 127\.0\.0\.1:\d+: the primary "bc" is 127\.0\.0\.1:$primary/,
     'error.log: the primary as a sentinel named it');
ok(BcTest::wait_until(sub { $t->watcher_log =~ /connected to redis/ }, 20), 'the watcher connected');
$t->mine(1);
ok(BcTest::wait_until(sub { (rcall($primary, 'HGET', 'bitcache:watcher:tip', 'height') // 0) >= 1 }, 20),
   'the watcher writes to the primary');

# the token record is on the replica before the primary goes
is(rcall($primary, 'WAIT', 1, 5000), 1, 'WAIT: the replica has every write');

$t->stop_redis('KILL');
my $t0 = time;
my (%seen, $first200, $bad);
while (time - $t0 < 40) {
    $r = $fetch->();
    $seen{ $r->{status} }++;
    if ($r->{status} == 503) {
        $bad ||= 'no Retry-After' unless $r->{headers}{'retry-after'};
        $bad ||= 'file bytes in a 503' if $r->{content} eq $data;
    } elsif ($r->{status} == 200) {
        $bad ||= 'wrong bytes' if $r->{content} ne $data;
        last if $seen{503} && ++$first200 >= 1;
    } else {
        $bad ||= "status $r->{status}";
    }
    sleep 0.1;
}
my $took = time - $t0;
ok($seen{503}, "during the failover: 503 ($seen{503} times)");
ok(!$bad, 'meanwhile only 503 with Retry-After and no file, or 200 with the file') or diag $bad;
ok($first200, sprintf 'served again after the failover, without a reload (%.1fs)', $took);
is_deeply(rcall($sentinels[0], 'SENTINEL', 'get-master-addr-by-name', 'bc'), ['127.0.0.1', $replica],
          'the sentinels promoted the replica');

# both workers: 10 in a row
my ($run, $until) = (0, time + 10);
while ($run < 10 && time < $until) {
    $r = $fetch->();
    $run = $r->{status} == 200 && $r->{content} eq $data ? $run + 1 : 0;
    sleep 0.1 if !$run;
}
is($run, 10, 'the token granted before the failover: 10 downloads in a row, exact bytes');
like($t->error_log, qr/the primary "bc" is 127\.0\.0\.1:$replica/, 'error.log names the new primary');

($rc, my $tok2, $err) = $t->cli('grant', @cli, '/files/track.flac');
is($rc, 0, 'bitcache grant after the failover (to the new primary)') or diag $err;
chomp $tok2;
is($t->get("/files/track.flac?bitcache_token=$tok2")->{status}, 200, 'a token granted after it downloads');

# the watcher: lost its connection, asked again, writes to the new primary
my $h = $t->node_rpc('getblockcount');
$t->mine(1);
ok(BcTest::wait_until(sub { (rcall($replica, 'HGET', 'bitcache:watcher:tip', 'height') // 0) == $h + 1 }, 30),
   'the watcher writes its tip to the new primary') or diag $t->watcher_log;
like($t->watcher_log, qr/redis connection lost.*connected to redis/s, 'the watcher reconnected by itself');

# the CLI's refusals
for my $c ([['--redis-sentinel', $list], qr/--redis-sentinel needs --redis-master NAME/],
           [['--redis', "127.0.0.1:$replica", '--redis-master', 'bc'], qr/--redis-master needs --redis-sentinel/],
           [['--redis', "127.0.0.1:$replica", '--redis-sentinel', $list, '--redis-master', 'bc'],
            qr/give --redis or --redis-sentinel, not both/],
           [['--redis-sentinel', $list, '--redis-master', 'nosuch'],
            qr/sentinel 127\.0\.0\.1:\d+ does not know "nosuch".*no sentinel named the primary of "nosuch"/s]) {
    ($rc, my $o, $err) = $t->cli('grant', '--secret', "$d/secret", @{ $c->[0] }, '/files/track.flac');
    isnt($rc, 0, "grant @{ $c->[0] }: fails");
    like($err, $c->[1], '... saying why');
}

# a reload under Sentinel: the new workers ask again
my $asked = sub { scalar(() = $t->error_log =~ /the primary "bc" is 127\.0\.0\.1:$replica/g) };
my $before = $asked->();
kill 'HUP', $t->{nginx_pid};
ok(BcTest::wait_until(sub { my $r = $fetch->(); $asked->() >= $before + 2 && $r->{status} == 200
                            && $r->{content} eq $data }, 10),
   'after a reload: both new workers asked the sentinels, served');

# a planned switch back: the old primary restarts, the sentinels make it a
# replica of the new one, then SENTINEL FAILOVER promotes it again
$t->start_redis;    # on its old port
ok(BcTest::wait_until(sub { my $r = eval { rcall($primary, 'ROLE') } || [];
                            ($r->[0] // '') eq 'slave' && ($r->[3] // '') eq 'connected' }, 60),
   'the old primary came back as a replica of the new one');
ok(BcTest::wait_until(sub { my $r = eval { rcall($sentinels[0], 'SENTINEL', 'FAILOVER', 'bc') }; $r && $r eq 'OK' }, 30),
   'SENTINEL FAILOVER');
($t0, %seen, $bad) = (time);
my $back = BcTest::wait_until(sub {
    my $r = $fetch->();
    $seen{ $r->{status} }++;
    $bad ||= "status $r->{status}" if $r->{status} != 200 && $r->{status} != 503;
    $bad ||= 'wrong bytes' if $r->{status} == 200 && $r->{content} ne $data;
    my $m = rcall($sentinels[1], 'SENTINEL', 'get-master-addr-by-name', 'bc');
    $m->[1] == $primary && $r->{status} == 200 && $t->error_log =~ /bitcache: connected to redis master "bc" at 127\.0\.0\.1:$primary\b(?![\s\S]*connected to redis master "bc" at 127\.0\.0\.1:$replica)/;
}, 40);
ok($back, 'switched back: nginx connected to the old primary again, served');
ok(!$bad, 'meanwhile only 200 with the file or 503') or diag $bad;

$t->stop_watcher;
$t->check_log_clean;
done_testing;
