#!/usr/bin/perl
# The wallet's paths of the access phase under valgrind (as t/13): nginx in
# one process under memcheck while refused requests load a wallet (cookie
# and header), auto-buy (bought, owned, over max_auto_price, too poor), get
# 401 for wrong codes, meet Redis killed and stuck, and clients that leave
# while the wallet is being read or bought. No invalid read, write, free or
# use of uninitialised memory may be reported.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use Time::HiRes qw(sleep time);
use IO::Socket::INET;
use BcTest;

plan skip_all => 'valgrind not installed' unless `which valgrind` =~ /valgrind/;

my $t = BcTest->new;
$t->start_redis;
my %file = map { $_ => $t->make_file("files/$_.bin", 20_000) } qw(a b c d e f g);
$t->make_file('dear/x.bin', 1000);
$t->{http_port} = BcTest::free_port();
my $http = $t->wallet_http(<<'LOC', price => 1000);
        bitcache_wallets on;
        location /files/ { bitcache on; bitcache_wallet_autobuy on; }
        location /dear/ { bitcache on; bitcache_price 90000; bitcache_wallet_autobuy on; }
LOC
my $conf = $t->write_file('nginx.conf', "master_process off;\ndaemon off;\n" . $t->nginx_conf($http));
$t->start_nginx_valgrind($conf);

my $w = $t->wallet_open;
my $code = $w->{code};
$t->wallet_credit($w->{wallet}, 5000);
is($t->wallet_balance($code), 5000, 'a wallet with 5000 sats');
$t->wallet_req('POST', '/wallet/settings', $code, 'max_auto_price=2000');
my $poor = $t->wallet_open;
$t->wallet_req('POST', '/wallet/settings', $poor->{code}, 'max_auto_price=2000');
my %auth = (Authorization => "Bitcache $code");

like($t->get('/files/a.bin', Cookie => "bitcache_wallet=$code")->{content}, qr/Buy for 1000 sats/,
     'the page with the cookie');
like($t->get('/files/a.bin', Cookie => 'bitcache_wallet=bcw1nonsense')->{content}, qr/wallet-link/,
     'a cookie that is no code: the page without it');
like($t->get('/files/a.bin', Accept => 'application/json', Cookie => "bitcache_wallet=$code")->{content},
     qr/"balance_sats":5000/, 'JSON with the balance');
is($t->get('/files/a.bin', %auth)->{content}, $file{a}, 'auto-buy: the file');
is($t->get('/files/a.bin', %auth)->{content}, $file{a}, 'owned: the file again');
is($t->get('/files/a.bin', %auth, Range => 'bytes=0-9')->{content}, substr($file{a}, 0, 10), 'owned: a range');
like($t->get('/files/a.bin', Cookie => "bitcache_wallet=$code")->{content}, qr/Download again/,
     'owned: "Download again"');
is($t->get('/dear/x.bin', %auth)->{status}, 402, 'over max_auto_price: 402');
is($t->get('/files/b.bin', Authorization => "Bitcache $poor->{code}")->{status}, 402, 'too poor: 402');
is($t->get('/files/b.bin', Authorization => 'Bitcache ' . ('q' x 42))->{status}, 401, 'not a code: 401');
$t->redis('DEL', "bitcache:wal:$poor->{wallet}");
is($t->get('/files/b.bin', Authorization => "Bitcache $poor->{code}")->{status}, 401, 'no such wallet: 401');
is($t->http('HEAD', '/files/b.bin', %auth)->{status}, 402, 'HEAD: 402');

# clients that leave while the wallet is read or bought
for my $f (qw(c d)) {
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $t->{http_port}) or die;
    print $s "GET /files/$f.bin HTTP/1.1\r\nHost: x\r\nAuthorization: Bitcache $code\r\n\r\n";
    close $s;
}
sleep 1;
my $bal = $t->wallet_balance($code);
ok(defined $bal && $bal <= 4000 && $bal >= 2000, "clients gone: at most their purchases were made ($bal)");

# Redis killed, then stuck
$t->stop_redis;
is($t->get('/files/e.bin', %auth)->{status}, 503, 'Redis killed: 503');
$t->start_redis;
# the module reconnects by itself, with backoff (slower under valgrind):
# until then the API answers 503
my $back;
for (1 .. 100) {
    last if ($back = $t->wallet_req('POST', '/wallets'))->{status} != 503;
    sleep 0.2;
}
is($back->{status}, 201, 'Redis back: the module reconnected by itself');
$w = $back->{json};     # a new Redis: a new wallet
$code = $w->{code};
$t->wallet_credit($w->{wallet}, 5000);
$t->wallet_req('POST', '/wallet/settings', $code, 'max_auto_price=2000');
%auth = (Authorization => "Bitcache $code");
my $ok = 0;
for (1 .. 50) {
    if (($t->get('/files/e.bin', %auth)->{content} // '') eq $file{e}) { $ok = 1; last }
    sleep 0.2;
}
ok($ok, 'Redis back: auto-buy works again');
$t->redis_signal('STOP');
is($t->get('/files/f.bin', %auth)->{status}, 503, 'Redis stuck: 503 on the timer');
$t->redis_signal('CONT');
sleep 0.5;
is($t->get('/files/g.bin', %auth)->{content}, $file{g}, 'Redis continued: auto-buy again');

$t->stop_nginx_valgrind;
$t->check_log_clean;
done_testing;
