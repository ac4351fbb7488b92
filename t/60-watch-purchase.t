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
use BcTest;

my $t = BcTest->new;
$t->start_redis;
$t->start_node;
$t->fund_wallet;
my $book = $t->make_file('files/book.pdf', 250_000);
$t->start_nginx($t->selling_http(<<'LOC'));
        location /files/ {
            bitcache on;
            bitcache_confirmations 1;
            bitcache_max_downloads 3;
            bitcache_invoice_ttl 30m;
        }
LOC
$t->start_watcher;

# the buyer: 402 -> offer -> invoice
my $inv = $t->new_invoice('/files/book.pdf');
like($inv->{address}, qr/^bcrt1q/, "an invoice with a regtest address ($inv->{address})");
my $status = sub { $t->invoice_status($inv->{id}) };
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
like($pay{$outpoint} // '', qr/^12345 0 0{64} \d+ [0-9a-f]{64}$/,
     'value, in the mempool (no block), first seen, the watcher\'s MAC');

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
like($t->redis('HGET', "bitcache:pay:$inv->{id}", $outpoint), qr/^12345 $height $block \d+ [0-9a-f]{64}$/,
     'the payment now has its block height and hash');
is($t->redis('HGET', 'bitcache:watcher:tip', 'hash'), $block, 'watcher tip = the mined block');

# the download
my $r = $t->get("/files/book.pdf?bitcache_token=$s->{token}");
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
