#!/usr/bin/perl
# The whole purchase against a real regtest node (bcoin): the buyer POSTs
# the 402's offer for an invoice, the node's wallet pays the invoice's
# address, `bitcache watch` sees the payment in the mempool (seen), then in
# a mined block (paid, attested with its BIP340 key), the status endpoint
# mints the token and the token downloads the exact file.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use JSON::PP qw(decode_json encode_json);
use BcTest;

my $TPUB = 'tpubDDPRy5xWxJTuVmsh7YRzK8o2EdMWgn4t41fTLxXRgyRN7EKvN2L8BKCFC1gUfPu8Xp6rr667Yc26zrXsiBZsgBc8dQiYnhPNk2Q7CsBrer5';
my $WALLET = "wpkh($TPUB/0/*)";

my $t = BcTest->new;
$t->start_redis;
$t->start_node;
$t->fund_wallet;
my $book = $t->make_file('files/book.pdf', 250_000);
my (undef, $xonly) = $t->watcher_key;

$t->start_nginx(<<"CONF");
    bitcache_redis %%REDIS%% timeout=500ms;
    server {
        listen 127.0.0.1:%%PORT%%;
        root %%DIR%%/html;
        bitcache_secret %%DIR%%/secret;
        bitcache_network regtest;
        bitcache_watcher_key $xonly;
        location /files/ {
            bitcache on;
            bitcache_price 12345;
            bitcache_wallet "$WALLET";
            bitcache_confirmations 1;
            bitcache_max_downloads 3;
            bitcache_token_ttl 1h;
            bitcache_invoice_ttl 30m;
        }
        location /bitcache/ { bitcache_api; }
    }
CONF
$t->start_watcher;

sub json_get {
    my ($path) = @_;
    my $r = $t->get($path, Accept => 'application/json');
    return eval { decode_json($r->{content}) } || {};
}

# the buyer: 402 -> offer -> invoice
my $offer = json_get('/files/book.pdf')->{offer};
ok($offer, '402 with an offer');
my $ua = HTTP::Tiny->new(timeout => 10, max_redirect => 0);
my $r = $ua->request('POST', $t->url('/bitcache/invoices'), {
    headers => { 'Content-Type' => 'application/json', Accept => 'application/json' },
    content => encode_json({ offer => $offer }) });
is($r->{status}, 201, 'invoice created') or diag $r->{content};
my $inv = decode_json($r->{content});
like($inv->{address}, qr/^bcrt1q/, "a regtest address ($inv->{address})");
my $status = sub { json_get("/bitcache/invoices/$inv->{id}") };
is($status->()->{state}, 'new', 'state new');

# the wallet pays; the watcher sees it in the mempool
my $txid = $t->wallet_rpc('sendtoaddress', $inv->{address}, 0.00012345);
like($txid, qr/^[0-9a-f]{64}$/, "the wallet paid ($txid)");
ok(BcTest::wait_until(sub { $status->()->{state} eq 'seen' }, 20), 'seen in the mempool')
    or diag $t->watcher_log;
ok(!$status->()->{token}, 'no token before a confirmation');
my %rec = @{ $t->redis('HGETALL', "bitcache:inv:$inv->{id}") };
is($rec{received}, 12345, 'received recorded');
is($rec{conf}, 0, '0 confirmations');
my %pay = @{ $t->redis('HGETALL', "bitcache:pay:$inv->{id}") };
my ($outpoint) = grep { /^$txid:\d+$/ } keys %pay;
ok($outpoint, "payment recorded as txid:vout ($outpoint)");
like($pay{$outpoint} // '', qr/^12345 0$/, 'value, in the mempool');

# a block: paid
my ($block) = @{ $t->mine(1) };
my $s = BcTest::wait_until(sub { my $s = $status->(); $s->{token} ? $s : undef }, 20);
ok($s, 'a token once the block is mined') or diag $t->watcher_log . $t->error_log;
$s ||= {};
is($s->{state}, 'paid', 'state paid');
%rec = @{ $t->redis('HGETALL', "bitcache:inv:$inv->{id}") };
is($rec{conf}, 1, '1 confirmation attested');
ok($rec{paid_at} >= time - 60 && $rec{paid_at} <= time, 'paid_at is now');
like($rec{att}, qr/^[0-9a-f]{128}$/, 'a BIP340 attestation');
my $height = $t->node_rpc('getblockcount');
like($t->redis('HGET', "bitcache:pay:$inv->{id}", $outpoint), qr/^12345 $height$/,
     'the payment now has its block height');
is($t->redis('HGET', 'bitcache:watcher:tip', 'hash'), $block, 'watcher tip = the mined block');

# the download
$r = $t->get("/files/book.pdf?bitcache_token=$s->{token}");
is($r->{status}, 200, 'the token downloads');
ok($r->{content} eq $book, 'the exact bytes of the file');

# more blocks change nothing that is settled
my $att = $rec{att};
$t->mine(2);
BcTest::wait_until(sub { $t->redis('HGET', 'bitcache:watcher:tip', 'height') == $height + 2 }, 20);
is($t->redis('HGET', "bitcache:inv:$inv->{id}", 'att'), $att, 'settled: not re-signed on every block');
is($status->()->{token}, $s->{token}, 'the same token');

my $log = $t->watcher_log;
like($log, qr/invoice $inv->{id}: new -> seen/, 'log: seen');
like($log, qr/invoice $inv->{id}: seen -> paid, 12345 of 12345 sats, 1 of 1 confirmations/, 'log: paid');
unlike($log, qr/$BcTest::WATCHER_SECKEY|$BcTest::NODE_KEY/, 'no secret in the log');
$t->stop_watcher;
$t->check_log_clean;
done_testing;
