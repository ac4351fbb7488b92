#!/usr/bin/perl
# The wallet's routes under valgrind (nginx in one process, memcheck):
# open, the page (HTML, JSON, none), buy (bought, owned, an idempotency
# key replayed, a form's 303), history, settings, restore, forget, a
# forged state, a flushed script cache. No invalid read, write, free or
# use of uninitialised memory may be reported.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use BcTest;

plan skip_all => 'valgrind not installed' unless `which valgrind` =~ /valgrind/;
plan skip_all => 'module or tools not built (make all unit)'
    unless -f $BcTest::MODULE && -x "$BcTest::TOOLS/wallet_fixture";

my $t = BcTest->new; $t->start_redis;
my $book = $t->make_file('files/book.pdf', 30_000); $t->make_file('files/b.pdf', 3000);
$t->{http_port} = BcTest::free_port();
my $conf = $t->write_file('nginx.conf', "master_process off;\ndaemon off;\n" . $t->nginx_conf($t->wallet_http('location /files/ { bitcache on; }', price => 500)));
my $vlog = $t->dir . '/valgrind.log';
my $pid = fork // die;
if (!$pid) { exec 'valgrind', '--tool=memcheck', '--error-exitcode=99', '--track-origins=yes', '--errors-for-leak-kinds=none', "--log-file=$vlog", 'nginx', '-p', $t->dir, '-c', $conf; exit 127; }
$t->{pids}{valgrind} = $pid;
ok(BcTest::wait_port($t->{http_port}, 1, 60), 'started');
my $w = $t->wallet_open;
my $r;
$t->wallet_credit($w->{wallet}, 2000);
is($t->wallet_req('GET', '/wallet', $w->{code})->{status}, 200, 'page json');
is($t->get('/bitcache/wallet', Cookie => "bitcache_wallet=$w->{code}")->{status}, 200, 'page html');
is($t->get('/bitcache/wallet')->{status}, 200, 'open page');
my $o = $t->offer_of('/files/book.pdf');
$r = $t->wallet_req('POST', '/wallet/buy', $w->{code}, { offer => $o }, 'Idempotency-Key' => 'a'); is($r->{json}{state}, 'bought', 'bought');
$r = $t->wallet_req('POST', '/wallet/buy', $w->{code}, { offer => $o }); is($r->{json}{state}, 'owned', 'owned');
$r = $t->wallet_req('POST', '/wallet/buy', $w->{code}, { offer => $o, again => 1 }, 'Idempotency-Key' => 'a'); is($r->{json}{state}, 'owned', 'replay');
$r = $t->wallet_req('POST', '/wallet/buy', $w->{code}, "offer=$o", 'Content-Type' => 'application/x-www-form-urlencoded', Accept => 'text/html'); is($r->{status}, 303, 'a form buys: 303');
is($t->wallet_req('GET', '/wallet/history?limit=1', $w->{code})->{status}, 200, 'history');
is($t->wallet_req('POST', '/wallet/settings', $w->{code}, { max_auto_price => 5 })->{status}, 200, 'settings');
is($t->wallet_req('POST', '/wallet/restore', undef, { code => $w->{code} })->{status}, 200, 'restore');
is($t->wallet_req('POST', '/wallet/restore', undef, { code => 'x' })->{status}, 400, 'restore: not a code');
is($t->wallet_req('POST', '/wallet/forget')->{status}, 200, 'forget');
$t->redis('HSET', "bitcache:wal:$w->{wallet}", 'bal', 5);
is($t->wallet_req('POST', '/wallet/buy', $w->{code}, { offer => $t->offer_of('/files/b.pdf') })->{status}, 409, 'a forged state: refused');
$t->redis('SCRIPT', 'FLUSH');
is($t->wallet_req('POST', '/wallet/settings', $w->{code}, { max_auto_price => 5 })->{status}, 409, 'settings on it after SCRIPT FLUSH: refused');
kill 'QUIT', $pid; waitpid $pid, 0; delete $t->{pids}{valgrind};
my $log = do { local $/; open my $fh, '<', $vlog; <$fh> };
like($log, qr/ERROR SUMMARY: 0 errors/, 'valgrind clean') or diag $log;
done_testing;
