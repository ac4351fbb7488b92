#!/usr/bin/perl
# The module under valgrind: nginx runs in one process (master_process off)
# under memcheck while requests take every path (no token, good token,
# bad tokens, resume, Redis killed and back, Redis stuck). No invalid
# read, write, free or use of uninitialised memory may be reported.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use Time::HiRes qw(sleep time);
use BcTest;

plan skip_all => 'valgrind not installed' unless `which valgrind` =~ /valgrind/;

my $t = BcTest->new;
$t->start_redis;
my $data = $t->make_file('files/doc.bin', 200_000);
$t->{http_port} = BcTest::free_port();
my $conf = $t->write_file('nginx.conf',
    "master_process off;\ndaemon off;\n" . $t->nginx_conf($t->default_http));
my $vlog = $t->dir . '/valgrind.log';

my $pid = fork // die;
if (!$pid) {
    exec 'valgrind', '--tool=memcheck', '--error-exitcode=99', '--track-origins=yes',
         '--errors-for-leak-kinds=none', "--log-file=$vlog",
         'nginx', '-p', $t->dir, '-c', $conf;
    exit 127;
}
ok(BcTest::wait_port($t->{http_port}, 1, 60), 'nginx started under valgrind');

my $tok = $t->grant('/files/doc.bin', '--uses', 0);
is($t->get('/files/doc.bin')->{status}, 402, 'no token');
is($t->get("/files/doc.bin?bitcache_token=$tok")->{content}, $data, 'good token: the file');
is($t->get('/files/doc.bin', Cookie => "bitcache_token=$tok", Range => 'bytes=10-99')->{content},
   substr($data, 10, 90), 'resume');
is($t->get('/files/doc.bin?bitcache_token=' . substr($tok, 0, 50))->{status}, 402, 'truncated token');
is($t->get('/files/doc.bin?bitcache_token=' . ('A' x 8000))->{status}, 402, 'long token');
is($t->get('/files/doc.bin', Accept => 'application/json', Cookie => 'bitcache_token=x<>&"')->{status}, 402, 'JSON 402 with escaping');

$t->stop_redis;
is($t->get("/files/doc.bin?bitcache_token=$tok")->{status}, 503, 'Redis killed: 503');
$t->start_redis;
my $ok = 0;
for (1 .. 50) {
    my $tk = $t->grant('/files/doc.bin');
    if ($t->get("/files/doc.bin?bitcache_token=$tk")->{status} == 200) { $ok = 1; last }
    sleep 0.2;
}
ok($ok, 'Redis back: works again');

$tok = $t->grant('/files/doc.bin', '--uses', 0);
$t->redis_signal('STOP');
is($t->get("/files/doc.bin?bitcache_token=$tok")->{status}, 503, 'Redis stuck: 503 on the timer');
$t->redis_signal('CONT');
$ok = 0;
for (1 .. 50) {
    if ($t->get("/files/doc.bin?bitcache_token=$tok")->{status} == 200) { $ok = 1; last }
    sleep 0.2;
}
ok($ok, 'Redis continued: works again');

kill 'QUIT', $pid;
waitpid $pid, 0;
my $rc = $? >> 8;
open my $fh, '<', $vlog or die;
my $report = do { local $/; <$fh> };
isnt($rc, 99, 'valgrind found no memory errors') or diag $report;
like($report, qr/ERROR SUMMARY: 0 errors/, 'ERROR SUMMARY: 0 errors');

$t->check_log_clean;
done_testing;
