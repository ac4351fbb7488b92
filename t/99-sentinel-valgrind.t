#!/usr/bin/perl
# The Redis paths of "Redis in production" under valgrind: nginx in one
# process (master_process off) under memcheck, connected through three
# sentinels as an ACL user, while a refused password drops the connection
# from inside hiredis' callback, a user without commands gets NOPERM, a
# stuck sentinel times out its question and the primary is killed and
# replaced. No invalid read, write, free or use of uninitialised memory.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use Time::HiRes qw(sleep time);
use BcTest;
use BcSentinel;

plan skip_all => 'valgrind not installed' unless `which valgrind` =~ /valgrind/;

my $t = BcTest->new;
my $d = $t->dir;
my $pw = 'pw-' . join('', map { ('a' .. 'z')[rand 26] } 1 .. 20);
my $users = do { local $/; open my $fh, '<', "$BcTest::ROOT/conf.example/redis-users.conf" or die; <$fh> };
$users =~ s/^user default off$/user default on nopass ~* &* +\@all/m;
$users =~ s/\@NGINX_PASSWORD\@/$pw/;
$users =~ s/\@\w+_PASSWORD\@/unused/g;
my $set = BcSentinel::start($t, conf => $t->write_file('users.conf', $users, 0600));
my ($replica, $list) = @$set{qw(replica list)};
my @sentinels = @{ $set->{sentinels} };
sub rcall { BcSentinel::rcall($t, @_) }
sub both { rcall($_, @_) for $set->{primary}, $replica }

my $data = $t->make_file('files/doc.bin', 50_000);
$t->{http_port} = BcTest::free_port();
my $http = $t->default_http;
$http =~ s/bitcache_redis %%REDIS%% timeout=500ms;/bitcache_redis sentinel=$list master=bc user=bitcache-nginx password=$pw timeout=2s;/
    or die;
my $conf = $t->write_file('nginx.conf', "master_process off;\ndaemon off;\n" . $t->nginx_conf($http));
$t->start_nginx_valgrind($conf, prefix => $d);

my $tok = $t->grant('/files/doc.bin', '--uses', 0);
my $fetch = sub { $t->get("/files/doc.bin?bitcache_token=$tok") };
my $served = sub {
    my ($what, $secs) = @_;
    ok(BcTest::wait_until(sub { my $r = $fetch->(); $r->{status} == 200 && $r->{content} eq $data }, $secs || 20),
       $what);
};
$served->('served through the sentinels as bitcache-nginx');

# a refused password: AUTH's callback drops the connection
both('ACL', 'SETUSER', 'bitcache-nginx', 'resetpass', '>wrong');
rcall($set->{primary}, 'CLIENT', 'KILL', 'USER', 'bitcache-nginx');
ok(BcTest::wait_until(sub { $fetch->()->{status} == 503 }, 10), 'a refused password: 503');
ok(BcTest::wait_until(sub { $t->error_log =~ /AUTH as user "bitcache-nginx" failed/ }, 10), 'logged');
both('ACL', 'SETUSER', 'bitcache-nginx', 'resetpass', ">$pw");
$served->('the password back: served');

# a user without the commands: NOPERM
both('ACL', 'SETUSER', 'bitcache-nginx', '-@all', '+ping', '+select');
is($fetch->()->{status}, 503, 'NOPERM: 503');
both('ACL', 'SETUSER', 'bitcache-nginx', '+@all');
$served->('the commands back: served');

# the sentinel asked first is stuck: the question times out, the next
# sentinel answers
kill 'STOP', $t->{pids}{sentinel0};
rcall($set->{primary}, 'CLIENT', 'KILL', 'USER', 'bitcache-nginx');
$served->('a stuck sentinel: the next one answers, served', 30);
like($t->error_log, qr/sentinel 127\.0\.0\.1:$sentinels[0] did not answer within 2000ms/,
     'the stuck sentinel timed out');
kill 'CONT', $t->{pids}{sentinel0};

# the primary killed: the new one
$t->stop_redis('KILL');
ok(BcTest::wait_until(sub { $fetch->()->{status} == 503 }, 10), 'primary killed: 503');
$served->('failover: served by the promoted replica', 40);
is_deeply(rcall($sentinels[1], 'SENTINEL', 'get-master-addr-by-name', 'bc'), ['127.0.0.1', $replica],
          'the replica was promoted');

# the CLI's side under memcheck: the primary through the sentinels, an
# unknown master, a refused password (each sentinel's answer, each error)
$t->write_file('nginx.pw', "$pw\n", 0600);
for my $c (['bc', '--redis-user', 'bitcache-nginx', '--redis-password-file', "$d/nginx.pw"],
           ['nosuch'], ['bc', '--redis-user', 'bitcache-nginx', '--redis-password', 'wrong']) {
    my ($master, @more) = @$c;
    my $out = `valgrind -q --error-exitcode=99 --errors-for-leak-kinds=none $BcTest::CLI grant --secret $d/secret --redis-sentinel $list --redis-master $master @more /files/doc.bin 2>&1`;
    my $rc = $? >> 8;
    my $what = join ' ', $master, grep { defined } @more[0 .. 1];
    is($? & 127, 0, "CLI under valgrind, master $what: no fatal signal") or diag $out;
    isnt($rc, 99, "... no memory error") or diag $out;
    is($rc == 0, $master eq 'bc' && !grep({ $_ eq 'wrong' } @more), '... and the expected outcome') or diag $out;
}

$t->stop_nginx_valgrind;
unlike($t->error_log, qr/\Q$pw\E/, 'the password is in no log');

$t->check_log_clean;
done_testing;
