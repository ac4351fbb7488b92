#!/usr/bin/perl
# Reloads and a binary upgrade under load (#14): two wrk run for 10 s against
# nginx with the module (2 workers) and Redis, one with a paid token and one
# with none, while the test sends SIGHUP three times, upgrades the binary
# (USR2 to the master, WINCH then QUIT to the old one, as nginx's docs say;
# the "new" binary is the same Debian nginx) and reloads the new master once.
# Decided: no connect, read or write error and no timeout in either wrk (a
# graceful stop lets every accepted request finish; clients say
# "Connection: close" so that no request races the close of an idle
# keep-alive connection, which HTTP lets a client retry but wrk counts),
# every paid response is a 200 of the file's size, every unpaid one a 402;
# afterwards each live worker holds exactly one Redis connection and no other
# process any; bitcache_metrics answers and counts what came after the
# upgrade.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use Time::HiRes qw(sleep time);
use BcTest;

plan skip_all => 'wrk is not installed (scripts/apt-packages.txt)' unless -x '/usr/bin/wrk';
my $NGINX = '/usr/sbin/nginx';    # a full path: USR2 execs the master's argv[0]

my $t = BcTest->new;
$t->start_redis;
my $SIZE = 20_000;
$t->make_file('files/a.bin', $SIZE);

$t->{http_port} = BcTest::free_port();
my $conf = $t->write_file('nginx.conf', $t->nginx_conf(<<'CONF', workers => 2));
    bitcache_redis %%REDIS%% timeout=2s;
    server {
        listen 127.0.0.1:%%PORT%% backlog=1024;
        root %%DIR%%/html;
        bitcache_secret %%DIR%%/secret;
        location /files/ { bitcache on; }
        location = /metrics { bitcache_metrics; }
    }
CONF
my $dir = $t->dir;
my $out = `$NGINX -p $dir -c $conf 2>&1`;
die "nginx did not start: $out" if $?;
BcTest::wait_port($t->{http_port}, 1) or die 'nginx not listening';
sub pidfile {
    my ($name) = @_;
    open my $fh, '<', "$dir/logs/$name" or return;
    chomp(my $pid = <$fh> // '');
    return $pid;
}
$t->{nginx_pid} = pidfile('nginx.pid');    # stop_nginx and DESTROY use it

my $tok = $t->grant('/files/a.bin', '--uses', 0);
is($t->get("/files/a.bin?bitcache_token=$tok")->{status}, 200, 'the token downloads');
is($t->get('/files/a.bin')->{status}, 402, 'no token: 402');

sub children {
    my ($ppid) = @_;
    my @pids = grep { length } map { s/\s+//gr } `ps -o pid= --ppid $ppid`;
    return sort { $a <=> $b } @pids;
}
sub gone {
    my ($secs, @pids) = @_;
    my $until = time + $secs;
    while (time < $until) {
        return 1 unless grep { kill 0, $_ } @pids;
        sleep 0.05;
    }
    return 0;
}

# --- the load ---------------------------------------------------------------

my $LUA = "$BcTest::ROOT/t/tools/wrk-count.lua";
my $base = "http://127.0.0.1:$t->{http_port}/files/a.bin";
my %wrk;
for (['paid', "$base?bitcache_token=$tok"], ['unpaid', $base]) {
    my ($name, $url) = @$_;
    my $pid = fork // die "fork: $!";
    if (!$pid) {
        open STDOUT, '>', "$dir/wrk-$name.out" or die;
        open STDERR, '>&', \*STDOUT or die;
        exec '/usr/bin/wrk', '-t1', '-c8', '-d10s', '--timeout', '5s',
             '-H', 'Connection: close', '-s', $LUA, $url, '--', $SIZE;
        die "wrk: $!";
    }
    $wrk{$name} = $pid;
}
my $t0 = time;
sub at { my $d = $t0 + $_[0] - time; sleep $d if $d > 0 }

my $master = $t->{nginx_pid};
for my $s (1, 2.5, 4) {
    at($s);
    kill 'HUP', $master;
}

# binary upgrade: USR2 starts a new master (the old pid file becomes
# nginx.pid.oldbin), WINCH stops the old workers gracefully, QUIT the old master
at(5.5);
my @old_workers = children($master);
kill 'USR2', $master;
my $new;
my $until = time + 5;
while (time < $until) {
    my $p = pidfile('nginx.pid');
    if (-e "$dir/logs/nginx.pid.oldbin" && $p && $p != $master) { $new = $p; last }
    sleep 0.05;
}
ok($new, 'USR2: a new master wrote nginx.pid, the old one nginx.pid.oldbin')
    or BAIL_OUT('no new master: ' . $t->error_log);
$t->{nginx_pid} = $new;
at(6.5);
kill 'WINCH', $master;
at(7.5);
ok(gone(2, @old_workers), "WINCH: the old master's workers are gone")
    or diag "old workers left: @old_workers";
kill 'QUIT', $master;
ok(gone(5, $master), 'QUIT: the old master is gone');
ok(!-e "$dir/logs/nginx.pid.oldbin", 'and removed nginx.pid.oldbin');
at(8.5);
kill 'HUP', $new;

my @hup = $t->error_log =~ /signal 1 \(SIGHUP\) received/g;
is(scalar @hup, 4, 'the masters took 4 reloads');
my %res;
for my $name (sort keys %wrk) {
    waitpid $wrk{$name}, 0;
    is($?, 0, "wrk ($name) exited 0");
    open my $fh, '<', "$dir/wrk-$name.out" or die;
    my $text = do { local $/; <$fh> };
    my ($line) = $text =~ /^counts (.*)$/m or diag $text;
    $res{$name} = { map { split /=/ } split / /, $line // '' };
    diag "wrk $name: $line";
}
for my $name (qw(paid unpaid)) {
    my $r = $res{$name};
    is($r->{$_}, 0, "$name: $_ errors 0") for qw(connect read write timeout);
    is($r->{other}, 0, "$name: no status but 200 or 402");
}
cmp_ok($res{paid}{s200}, '>', 100, "paid: $res{paid}{s200} responses 200");
is($res{paid}{s402}, 0, 'paid: no 402');
is($res{paid}{badlen}, 0, "paid: every 200 has the file's $SIZE bytes");
cmp_ok($res{unpaid}{s402}, '>', 100, "unpaid: $res{unpaid}{s402} responses 402");
is($res{unpaid}{s200}, 0, 'unpaid: no 200 without a token');

# --- after the dust settles -------------------------------------------------

# the reload's old workers finish and leave: 2 workers under the new master
my @workers;
$until = time + 10;
while (time < $until) {
    @workers = children($new);
    last if @workers == 2 && !grep { /worker process is shutting down/ } `ps -o args= --ppid $new`;
    sleep 0.1;
}
is(scalar @workers, 2, 'two live workers under the new master');

# who holds a connection to Redis: pid => count, from the kernel's table
sub redis_holders {
    my %n;
    for (`ss -tnpH state established '( dport = :$t->{redis_port} )'`) {
        $n{$1}++ while /pid=(\d+)/g;
    }
    return %n;
}
my %hold;
$until = time + 10;
while (time < $until) {
    %hold = redis_holders();
    last if join(',', map { "$_=" . ($hold{$_} // 0) } @workers, sort keys %hold)
         eq join(',', (map { "$_=1" } @workers), map { "$_=1" } sort keys %hold)
         && keys %hold == 2;
    sleep 0.2;
}
is_deeply(\%hold, { map { $_ => 1 } @workers },
          'each live worker holds one Redis connection, no other process any');
my $clients = () = $t->redis('CLIENT', 'LIST') =~ /cmd=/g;
is($clients, 3, 'Redis sees 3 clients: the 2 workers and this test');

# the module still answers, its metrics too
is($t->get("/files/a.bin?bitcache_token=$tok")->{status}, 200, 'the token still downloads');
my $m = $t->get('/metrics');
is($m->{status}, 200, 'bitcache_metrics answers');
SKIP: {
    skip 'python3-prometheus-client is not installed', 2 unless BcTest::have_prom_parser();
    my $p = BcTest::prom_parse($m->{content});
    is($p->{rc}, 0, 'the prometheus_client parser reads it');
    # counters live in the new master's zone: what came after the upgrade
    cmp_ok($p->{samples}{'bitcache_responses_total{code="200",status="paid"}'} // 0, '>=', 1,
           'paid 200s counted since the upgrade');
}

$t->stop_nginx;
ok(gone(10, @workers), 'QUIT: the workers are gone');
$t->check_log_clean;
done_testing;
