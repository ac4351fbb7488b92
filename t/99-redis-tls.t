#!/usr/bin/perl
# TLS to Redis without TLS in hiredis (Debian 12's 0.14 has none): Redis
# serves only its tls-port, stunnel4 on the nginx side (client mode,
# verifying the server's certificate) is the only way in, and nginx, the CLI
# and this test's own commands all go through it. A tunnel that does not
# trust the certificate's name gets nothing through.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use BcTest;

plan skip_all => 'stunnel4 not installed (scripts/apt-packages.txt)' unless `which stunnel4` =~ /stunnel4/;

my $t = BcTest->new;
my $d = $t->dir;

# a CA and Redis' certificate for 127.0.0.1 / localhost
system("cd $d && openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 1 "
     . "-subj /CN=bitcache-test-ca >/dev/null 2>&1") == 0 or die 'CA';
system("cd $d && openssl req -newkey rsa:2048 -nodes -keyout redis.key -out redis.csr "
     . "-subj /CN=localhost >/dev/null 2>&1") == 0 or die 'CSR';
$t->write_file('san.ext', "subjectAltName=DNS:localhost,IP:127.0.0.1\n");
system("cd $d && openssl x509 -req -in redis.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
     . "-out redis.pem -days 1 -extfile san.ext >/dev/null 2>&1") == 0 or die 'cert';
chmod 0644, "$d/redis.key";

my $tls = BcTest::free_port();
$t->spawn('redis-tls', 'redis-server', '--port', 0, '--tls-port', $tls, '--bind', '127.0.0.1',
          '--tls-cert-file', "$d/redis.pem", '--tls-key-file', "$d/redis.key",
          '--tls-ca-cert-file', "$d/ca.pem", '--tls-auth-clients', 'no',
          '--save', '', '--appendonly', 'no', '--dir', $d, '--protected-mode', 'no');
BcTest::wait_port($tls, 1) or die 'redis did not start on its tls-port';

# plain RESP to the TLS port gets no answer
{
    local $t->{redis_port} = $tls;
    my $pong = eval { local $SIG{ALRM} = sub { die "timeout\n" }; alarm 3; my $r = $t->redis('PING'); alarm 0; $r };
    alarm 0;
    isnt($pong, 'PONG', 'Redis answers no plain RESP: TLS only');
}

my ($good, $wrong) = (BcTest::free_port(), BcTest::free_port());
my $conf = $t->write_file('stunnel.conf', <<"CONF");
foreground = yes
pid =
debug = notice
[redis]
client = yes
accept = 127.0.0.1:$good
connect = 127.0.0.1:$tls
CAfile = $d/ca.pem
verifyChain = yes
checkHost = localhost
[redis-wrong-name]
client = yes
accept = 127.0.0.1:$wrong
connect = 127.0.0.1:$tls
CAfile = $d/ca.pem
verifyChain = yes
checkHost = redis.example
CONF
$t->spawn('stunnel', 'stunnel4', $conf);
BcTest::wait_port($good, 1) && BcTest::wait_port($wrong, 1) or die 'stunnel did not start';

$t->{redis_port} = $good;    # nginx, the CLI and $t->redis: through the tunnel
is($t->redis('PING'), 'PONG', 'PING through stunnel');
my $data = $t->make_file('files/a.bin', 30_000);
$t->start_nginx;
my $tok = $t->grant('/files/a.bin', '--uses', 2);
my $r = $t->get("/files/a.bin?bitcache_token=$tok");
is($r->{status}, 200, 'nginx counts the download in Redis over TLS');
ok($r->{content} eq $data, 'exact bytes');
is($t->drawn($tok), 30_000, 'the bytes drawn are in the record, read through the tunnel');
like($t->error_log, qr/bitcache: connected to redis 127\.0\.0\.1:$good/, 'nginx connected to the tunnel');

my ($rc, $out, $err) = $t->cli('grant', '--secret', "$d/secret", '--redis', "127.0.0.1:$wrong", '/files/a.bin');
isnt($rc, 0, 'a tunnel that does not trust the name: the CLI gets nothing through');
is($out, '', 'no token');

$t->check_log_clean;
done_testing;
