#!/usr/bin/perl
# Sentinels that name a replica (a stale view during a failover): nginx
# connects there, the download's write gets READONLY, the connection is
# dropped and the sentinels asked again; meanwhile 503, never the file.
# When the name points at the primary again (the sentinel reconfigured),
# the next requests are served without a reload. This sentinel has a
# password of its own (sentinel_password=, --redis-sentinel-password-file).
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use BcTest;
use BcSentinel;
use IO::Socket::INET;

my $t = BcTest->new;
my $d = $t->dir;
my $set = BcSentinel::start($t);
my ($primary, $replica) = @$set{qw(primary replica)};

# a fourth sentinel, alone (quorum 1), told that "ro" is the replica
my $spw = 'spw-' . join('', map { ('a' .. 'z')[rand 26] } 1 .. 20);
my $port = BcTest::free_port();
my $conf = $t->write_file('sentinel-ro.conf', <<"CONF");
port $port
bind 127.0.0.1
dir $d
protected-mode no
sentinel monitor ro 127.0.0.1 $replica 1
sentinel down-after-milliseconds ro 60000
requirepass $spw
CONF
$t->spawn('sentinel-ro', 'redis-sentinel', $conf);
BcTest::wait_port($port, 1) or die 'sentinel did not start';

my $data = $t->make_file('files/a.bin', 20_000);
my $http = $t->default_http;
$http =~ s/bitcache_redis %%REDIS%% timeout=500ms;/bitcache_redis sentinel=127.0.0.1:$port master=ro sentinel_password=$spw timeout=500ms;/
    or die;
$t->start_nginx($http);

my $tok = $t->grant('/files/a.bin', '--uses', 3);    # on the primary
is(BcSentinel::rcall($t, $primary, 'WAIT', 1, 5000), 1, 'the replica has the token record');

my $r = $t->get("/files/a.bin?bitcache_token=$tok");
is($r->{status}, 503, 'a replica named as the primary: 503');
ok($r->{content} ne $data, 'not the file');
ok(BcTest::wait_until(sub { $t->error_log =~ /redis master "ro" unavailable: not the primary any more/ }, 5),
   'READONLY: the connection dropped, logged');
my $stats = BcSentinel::rcall($t, $replica, 'INFO', 'commandstats');
my $refused = 0;
$refused += $1 + $2 while $stats =~ /rejected_calls=(\d+),failed_calls=(\d+)/g;
ok($refused > 0, "the replica refused the download's write ($refused)") or diag $stats;
is($t->drawn($tok) // 0, 0, 'nothing drawn on the token');

# the sentinel now names the primary (one connection: AUTH, then the commands)
{
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port, Timeout => 5) or die;
    for my $cmd (['AUTH', $spw], ['SENTINEL', 'REMOVE', 'ro'],
                 ['SENTINEL', 'MONITOR', 'ro', '127.0.0.1', $primary, 1]) {
        print $s '*' . @$cmd . "\r\n" . join('', map { '$' . length($_) . "\r\n$_\r\n" } @$cmd);
        my $line = <$s>;
        like($line, qr/^\+OK/, 'sentinel: ' . ($cmd->[0] eq 'AUTH' ? 'AUTH' : "@$cmd[0 .. 1]"));
    }
    close $s;
}
ok(BcTest::wait_until(sub { my $r = $t->get("/files/a.bin?bitcache_token=$tok");
                            $r->{status} == 200 && $r->{content} eq $data }, 10),
   'the sentinel names the primary: served, no reload');
like($t->error_log, qr/the primary "ro" is 127\.0\.0\.1:$primary/, 'logged the new primary');

# the CLI through the sentinel with its password, and with a wrong one
$t->write_file('spw', "$spw\n", 0600);
$t->write_file('bad', "wrong\n", 0600);
my @cli = ('grant', '--secret', "$d/secret", '--redis-sentinel', "127.0.0.1:$port", '--redis-master', 'ro');
my ($rc, $out, $err) = $t->cli(@cli, '--redis-sentinel-password-file', "$d/spw", '/files/a.bin');
is($rc, 0, 'grant through a sentinel with a password') or diag $err;
chomp $out;
is($t->get("/files/a.bin?bitcache_token=$out")->{status}, 200, 'its token downloads');
($rc, $out, $err) = $t->cli(@cli, '--redis-sentinel-password-file', "$d/bad", '/files/a.bin');
isnt($rc, 0, 'a wrong sentinel password: refused');
like($err, qr/sentinel 127\.0\.0\.1:$port: AUTH as user "default" failed/, '... saying so');
($rc, $out, $err) = $t->nginx_test("    bitcache_redis 127.0.0.1:1 sentinel_password=x;\n", 'bad.conf');
like($out, qr/"sentinel_user=" and "sentinel_password=" need "sentinel="/, 'nginx -t: sentinel_password= needs sentinel=');
unlike($t->error_log . $err, qr/\Q$spw\E/, 'the sentinel password is in no log');

$t->check_log_clean;
done_testing;
