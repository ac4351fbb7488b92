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
use IO::Socket::INET;
use BcTest;

plan skip_all => 'valgrind not installed' unless `which valgrind` =~ /valgrind/;

my $t = BcTest->new;
$t->start_redis;
my $data = $t->make_file('files/doc.bin', 200_000);
$t->{http_port} = BcTest::free_port();
my $WATCHER = '11' x 32;
my $xonly = `node t/node/attest.js pubkey $WATCHER`;
chomp $xonly;
my $WALLET = 'wpkh(tpubDDPRy5xWxJTuVmsh7YRzK8o2EdMWgn4t41fTLxXRgyRN7EKvN2L8BKCFC1gUfPu8Xp6rr667Yc26zrXsiBZsgBc8dQiYnhPNk2Q7CsBrer5/0/*)';
my $http = $t->default_http;
$http =~ s{location /free/ \{ \}}{location /free/ { }
        location /shop/ {
            bitcache on;
            bitcache_network regtest;
            bitcache_price "0.0001 BTC";
            bitcache_wallet "$WALLET";
        }
        location /pwyw/ {
            bitcache on;
            bitcache_network regtest;
            bitcache_price 5000;
            bitcache_suggested_price \$arg_s;
            bitcache_wallet "$WALLET";
        }
        location /bitcache/ { bitcache_network regtest; bitcache_watcher_key $xonly; bitcache_api; }};
my $conf = $t->write_file('nginx.conf',
    "master_process off;\ndaemon off;\n" . $t->nginx_conf($http));
$t->start_nginx_valgrind($conf);

my $tok = $t->grant('/files/doc.bin', '--uses', 0);
is($t->get('/files/doc.bin')->{status}, 402, 'no token');
is($t->get("/files/doc.bin?bitcache_token=$tok")->{content}, $data, 'good token: the file');
is($t->get('/files/doc.bin', Cookie => "bitcache_token=$tok", Range => 'bytes=10-99')->{content},
   substr($data, 10, 90), 'resume');
is($t->get('/files/doc.bin?bitcache_token=' . substr($tok, 0, 50))->{status}, 402, 'truncated token');
is($t->get('/files/doc.bin?bitcache_token=' . ('A' x 8000))->{status}, 402, 'long token');
is($t->get('/files/doc.bin', Accept => 'application/json', Cookie => 'bitcache_token=x<>&"')->{status}, 402, 'JSON 402 with escaping');

# the selling path: page, offer, invoice, attested payment, token
use JSON::PP qw(decode_json encode_json);
$t->make_file('shop/song.flac', 5000);
like($t->get('/shop/song.flac')->{content}, qr/0\.0001/, 'payment page');
my $j = decode_json($t->get('/shop/song.flac', Accept => 'application/json')->{content});
my $ua = HTTP::Tiny->new(timeout => 60);
my $r = $ua->request('POST', $t->url('/bitcache/invoices'), { headers => { Accept => 'application/json',
    'Content-Type' => 'application/json' }, content => encode_json({ offer => $j->{offer} }) });
is($r->{status}, 201, 'invoice');
my $inv = decode_json($r->{content});
is($t->get("/bitcache/invoices/$inv->{id}")->{status}, 200, 'invoice page with QR');
my $spk = $t->redis('HGET', "bitcache:inv:$inv->{id}", 'spk');
my $now = int(time);
my $att = `node t/node/attest.js sign $WATCHER $inv->{id} $spk 10000 1 $now`;
chomp $att;
$t->redis('HSET', "bitcache:inv:$inv->{id}", state => 'paid', received => 10000, conf => 1, paid_at => $now, att => $att);
my $s = decode_json($t->get("/bitcache/invoices/$inv->{id}", Accept => 'application/json',
                           'X-Bitcache-Claim' => $inv->{claim})->{content});
ok($s->{token}, 'paid: token');
is($t->get($s->{download_url})->{status}, 200, 'downloads');
is($t->get("/bitcache/invoices/$inv->{id}")->{status}, 200, 'paid page');

# pay what you want and tips (docs/creators.md): the page, the amounts, the
# refusals as JSON and as a page, the invoice page's tip
$t->make_file('pwyw/film.bin', 100);
like($t->get('/pwyw/film.bin?s=12000')->{content}, qr/id="amount-box"/, 'pay what you want: page');
like($t->get('/pwyw/film.bin?s=100')->{content}, qr/id="tip-box"/, 'a suggested price below: tips');
my $po = decode_json($t->get('/pwyw/film.bin?s=12000', Accept => 'application/json')->{content})->{offer};
for my $c (['amount=12000', 201], ['tip=custom&custom=7', 201], ['amount=1', 400], ['amount=x', 400],
           ['amount=99999999999', 400], ['amount=1&tip=1', 400]) {
    for my $accept ('application/json', 'text/html') {
        my $r = HTTP::Tiny->new(timeout => 60, max_redirect => 0)->request('POST',
            $t->url('/bitcache/invoices'), { headers => { Accept => $accept,
            'Content-Type' => 'application/x-www-form-urlencoded' }, content => "offer=$po&$c->[0]" });
        is($r->{status}, $accept eq 'text/html' && $c->[1] == 201 ? 303 : $c->[1], "pwyw $c->[0] ($accept)");
    }
}
$r = $ua->request('POST', $t->url('/bitcache/invoices'), { headers => { Accept => 'application/json',
    'Content-Type' => 'application/json' }, content => encode_json({ offer => $po, amount => 20000 }) });
my $pinv = decode_json($r->{content});
like($t->get("/bitcache/invoices/$pinv->{id}", 'X-Bitcache-Claim' => $pinv->{claim})->{content},
     qr/id="tip-line"/, 'pwyw invoice page: the tip');

# bytes: a limited token, ranges, a cut download (its refund and credit),
# and NOSCRIPT after the scripts are flushed (EVAL for the draw and for
# the fire-and-forget refund)
my $lim = $t->grant('/files/doc.bin', '--uses', 2);
is($t->get('/files/doc.bin', Cookie => "bitcache_token=$lim", Range => 'bytes=0-9,100-109')->{status},
   206, 'multipart range');
$t->redis('SCRIPT', 'FLUSH');
{
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $t->{http_port}) or die;
    print $s "GET /files/doc.bin?bitcache_token=$lim HTTP/1.1\r\nHost: x\r\n\r\n";
    my $buf;
    sysread($s, $buf, 1000);
    close $s;
}
sleep 1;
is($t->get('/files/doc.bin', Cookie => "bitcache_token=$lim", Range => 'bytes=500-')->{content},
   substr($data, 500), 'the resume after the cut');
is($t->get('/files/doc.bin', Cookie => "bitcache_token=$lim", 'If-Range' => '"x"', Range => 'bytes=5-9')->{status} == 200
   ? 'whole' : 'cut', 'cut', 'stale If-Range: no whole file');

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

$t->stop_nginx_valgrind;

$t->check_log_clean;
done_testing;
