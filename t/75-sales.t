#!/usr/bin/perl
# bitcache sales (docs/operations.md, "Paying creators"): on the regtest
# node a direct on-chain purchase (the watcher keeps sold:<id>, with no
# TTL; a sale a reorg took away is not counted) and wallet purchases (one
# through the module's route, the others debit entries written under the
# test's secret by t/tools/wallet_fixture) appear per creator and product
# with the right counts and sums, in text, csv and json; top-ups apart;
# --product, --wallet (any spelling of the key, or its id) and --since
# filter; a forged sold: record or ledger entry is never counted, and is
# named.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use JSON::PP;
use BcTest;
use ProtocolRef qw(keys_of invoice3_mac);

my $t = BcTest->new;
$t->start_redis;
$t->start_node;
$t->fund_wallet;
$t->make_file("files/$_.bin", 1000) for qw(a b c);
$t->start_nginx($t->wallet_http(<<'LOC'));
        location /files/ {
            bitcache on;
            bitcache_confirmations 1;
        }
LOC
$t->start_watcher;
my (undef, $xonly) = $t->watcher_key;
my @S = ('--redis', $t->redis_addr, '--secret', $t->dir . '/secret', '--watcher-key', $xonly);
my $ONE = $BcTest::TEST_WALLET;                       # id 249da3d8b419e0cf
my $TWO = "pkh($BcTest::TEST_TPUB/0/*)";              # id 44fb2b616bd7f063

# ---- a direct on-chain purchase --------------------------------------------
my $inv = $t->new_invoice('/files/a.bin');
$t->send_sats($inv->{address}, 12345);
$t->mine(1);
ok(BcTest::wait_until(sub { ($t->redis('HGET', "bitcache:sold:$inv->{id}", 'state') // '') eq 'paid' }, 30),
   'the watcher keeps a copy sold:<id> of the paid invoice') or diag $t->watcher_log;
is($t->redis('TTL', "bitcache:sold:$inv->{id}"), -1, 'sold:<id> has no TTL');
ok($t->redis('TTL', "bitcache:inv:$inv->{id}") > 0, 'while inv:<id> expires');
my %sold = @{ $t->redis('HGETALL', "bitcache:sold:$inv->{id}") };
my %rec = @{ $t->redis('HGETALL', "bitcache:inv:$inv->{id}") };
is($sold{att}, $rec{att}, 'the copy holds the attestation');
is($sold{mac}, $rec{mac}, '... and the module MAC');

# a sale whose payment a reorg takes away: the copy follows, not counted
my $gone = $t->new_invoice('/files/c.bin');
$t->send_sats($gone->{address}, 12345);
my ($b2) = @{ $t->mine(1) };
ok(BcTest::wait_until(sub { ($t->redis('HGET', "bitcache:sold:$gone->{id}", 'state') // '') eq 'paid' }, 30),
   'a second sale, copied') or diag $t->watcher_log;
$t->node_rpc('invalidateblock', $b2);
ok(BcTest::wait_until(sub { ($t->redis('HGET', "bitcache:sold:$gone->{id}", 'state') // 'paid') ne 'paid' }, 30),
   'its block reorged away: the copy is no longer paid') or diag $t->watcher_log;

# ---- wallet purchases ---------------------------------------------------------
my $w1 = $t->wallet_fixture('new');
$t->wallet_fixture('credit', $w1, 'ab' x 16, 50000);
$t->wallet_fixture('debit', $w1, '/files/a.bin', 500, $ONE);
$t->wallet_fixture('debit', $w1, '/files/b.bin', 700, $ONE);
$t->wallet_fixture({ time => 1577836800 }, 'debit', $w1, '/files/b.bin', 900, $ONE);  # 2020-01-01
my $w2 = $t->wallet_fixture('new');
$t->wallet_fixture('credit', $w2, 'cd' x 16, 1000);
$t->wallet_fixture('debit', $w2, '/files/c.bin', 300, $TWO);
$t->wallet_fixture('debit', $w2, '/files/a.bin', 200, $ONE);
# and one through the module's route (w-core): a wallet opened, funded, buying
my $w3 = $t->wallet_open;
$t->wallet_credit($w3->{wallet}, 20000);
my $r = $t->wallet_req('POST', '/wallet/buy', $w3->{code}, { offer => $t->offer_of('/files/b.bin') });
is($r->{status}, 200, 'a purchase through the module') or diag $r->{content};

# ---- forgeries: none of them counted ----------------------------------------------
# the paid copy under another id (the MAC binds the id)
my $other = 'ee' x 16;
$t->redis('COPY', "bitcache:sold:$inv->{id}", "bitcache:sold:$other");
# a real invoice, unpaid, written as sold with an attestation of its own making
my $unpaid = $t->new_invoice('/files/b.bin');
$t->redis('COPY', "bitcache:inv:$unpaid->{id}", "bitcache:sold:$unpaid->{id}");
$t->redis('HSET', "bitcache:sold:$unpaid->{id}", 'state', 'paid', 'received', 12345, 'conf', 1,
          'paid_at', time, 'att', '7' x 128);
# the unpaid invoice's price lowered in its copy (its MAC then fails too)
my $cheap = $t->new_invoice('/files/c.bin');
$t->redis('COPY', "bitcache:inv:$cheap->{id}", "bitcache:sold:$cheap->{id}");
$t->redis('HSET', "bitcache:sold:$cheap->{id}", 'amount', 1);
# a debit written by hand into a ledger
my @l = @{ $t->redis('LRANGE', "bitcache:wled:$w2", 0, -1) };
(my $hand = $l[2]) =~ s/ debit 200 500 / debit 99999 500 /;
$t->redis('RPUSH', "bitcache:wled:$w2", $hand);
# a valid purchase copied (its MAC verifies; its seq and prev do not fit)
$t->redis('RPUSH', "bitcache:wled:$w2", $l[2]);

# ---- json ----------------------------------------------------------------------
sub sales_json {
    my ($rc, $out, $err) = $t->cli('sales', @S, '--format', 'json', @_);
    is($rc, 0, "sales --format json @_: exit 0") or diag $err;
    return (eval { decode_json($out) } || {}, $err);
}
my ($j, $err) = sales_json();
my %c = map { ($_->{id} // '') => $_ } @{ $j->{creators} || [] };
is_deeply([sort keys %c], ['249da3d8b419e0cf', '44fb2b616bd7f063'], 'two creators, by key id');
my %p = map { $_->{product} => $_ } @{ $c{'249da3d8b419e0cf'}{products} || [] };
is_deeply([sort keys %p], ['/files/a.bin', '/files/b.bin'], 'creator one: two products');
is_deeply([@{ $p{'/files/a.bin'} }{qw(count sats)}, @{ $p{'/files/a.bin'}{onchain} }{qw(count sats)},
           @{ $p{'/files/a.bin'}{wallet} }{qw(count sats)}], [3, 13045, 1, 12345, 2, 700],
          '/files/a.bin: 1 on-chain sale (12345) and 2 wallet purchases (500 + 200)');
is_deeply([@{ $p{'/files/b.bin'} }{qw(count sats)}, $p{'/files/b.bin'}{onchain}{count}],
          [3, 13945, 0], '/files/b.bin: 3 wallet purchases (700, 900, and 12345 through the module)');
is_deeply([@{ $c{'249da3d8b419e0cf'} }{qw(count sats)}], [6, 26990], 'creator one in all');
is($c{'249da3d8b419e0cf'}{creator}, $ONE, 'creator one\'s wallet text');
is_deeply([@{ $c{'44fb2b616bd7f063'} }{qw(count sats)}], [1, 300], 'creator two: /files/c.bin, 300');
is_deeply([@{ $j->{total} }{qw(count sats)}, $j->{total}{onchain}{sats}, $j->{total}{wallet}{sats}],
          [7, 27290, 12345, 14945], 'totals');
is_deeply([@{ $j->{topups} }{qw(credited credited_sats paid)}], [3, 71000, 0],
          'top-ups apart: 3 credits, 71000 sats, not sales');
is($j->{unverified_ledger_entries}, 2, 'the hand-written debit and the copied one: not counted');
is(scalar @{ $j->{skipped} || [] }, 4, 'four sold: records skipped (three forged, one reorged away)');
like(join("\n", @{ $j->{skipped} || [] }), qr/sold:$gone->{id}: state is/, 'named: the reorged sale');
like(join("\n", @{ $j->{skipped} || [] }), qr/sold:$other: invoice MAC does not verify/, 'named: another id');
like(join("\n", @{ $j->{skipped} || [] }), qr/sold:$unpaid->{id}: attestation does not verify/,
     'named: a made-up attestation');
like(join("\n", @{ $j->{skipped} || [] }), qr/sold:$cheap->{id}: invoice MAC does not verify/,
     'named: an amount changed');
like($err, qr/not counted: sold:$other/, 'and said on stderr');

# ---- filters -------------------------------------------------------------------
($j) = sales_json('--product', '/files/b.bin');
is_deeply([map { $_->{product} } map { @{ $_->{products} } } @{ $j->{creators} }], ['/files/b.bin'],
          '--product: only that product');
is($j->{total}{sats}, 13945, '--product: its sum');
for my $key ($TWO, "44fb2b616bd7f063") {
    ($j) = sales_json('--wallet', $key);
    is_deeply([map { $_->{id} } @{ $j->{creators} }], ['44fb2b616bd7f063'], "--wallet $key: creator two");
}
($j) = sales_json('--wallet', "wpkh($BcTest::TEST_TPUB/0/*)", '--since', '2021-01-01');
is($j->{total}{sats}, 26090, '--wallet and --since 2021-01-01: the 2020 purchase left out');
($j) = sales_json('--since', '1577836801');
is($j->{total}{wallet}{sats}, 14045, '--since in unix seconds');
($j) = sales_json('--since', '2099-01-01');
ok(!@{ $j->{creators} } && $j->{total}{count} == 0, '--since in the future: nothing');

# ---- csv and text ------------------------------------------------------------------
my ($rc, $out);
($rc, $out) = $t->cli('sales', @S, '--format', 'csv');
is($rc, 0, 'csv: exit 0');
my @rows = split /\n/, $out;
is($rows[0], 'kind,creator_id,creator,product,onchain_sales,onchain_sats,wallet_sales,wallet_sats,sales,sats,paid_sats,tips_sats',
   'csv: the header');
ok((grep { $_ eq qq{product,249da3d8b419e0cf,"$ONE","/files/a.bin",1,12345,2,700,3,13045,13045,0} } @rows),
   'csv: /files/a.bin of creator one') or diag $out;
ok((grep { $_ eq qq{creator,44fb2b616bd7f063,"$TWO","",0,0,1,300,1,300,300,0} } @rows), 'csv: creator two\'s subtotal');
ok((grep { $_ eq 'total,,"","",1,12345,6,14945,7,27290,27290,0' } @rows), 'csv: the total');
ok((grep { $_ eq 'topups,,"","",0,0,3,71000,3,71000,71000,0' } @rows), 'csv: the top-ups, apart');
($rc, $out) = $t->cli('sales', @S);
is($rc, 0, 'text: exit 0');
like($out, qr{^  /files/a\.bin: on-chain 1 \(12345 sats\), wallet 2 \(700 sats\), total 3 \(13045 sats\); tips 0 sats, paid 13045 sats$}m,
     'text: a product line');
like($out, qr/^top-ups \(deposits held for buyers, not sales\): 0 paid on-chain \(0 sats received\), 3 credited/m,
     'text: top-ups apart');

# a product a spreadsheet would take for a formula, with a quote and a line break
{
    my $w4 = $t->wallet_fixture('new');
    $t->wallet_fixture('credit', $w4, 'fe' x 16, 100);
    $t->wallet_fixture('debit', $w4, qq{=HYPERLINK("x")\n}, 10, 'creator "three"');
    my ($rc, $out) = $t->cli('sales', @S, '--format', 'csv', '--wallet', 'creator "three"');
    my @rows = split /\n/, $out;
    is_deeply([grep { /^product,/ } @rows], [q{product,,"creator ""three""","'=HYPERLINK(""x"")?",0,0,1,10,1,10,10,0}],
              'csv: quotes doubled, a formula defused, the line break gone, a creator by its text')
        or diag $out;
}

# ---- tips (docs/creators.md, "Tips"): what was received above the list price ----
# An invoice of version 3 where the buyer chose 15000 over the price 12345
# (written as the module writes it, MAC'd with the test's secret) and paid
# 15100; and one at the price paid 12400 (an over-payment).
{
    my $chosen = $t->new_invoice('/files/c.bin');
    my %r = @{ $t->redis('HGETALL', "bitcache:inv:$chosen->{id}") };
    is_deeply([@r{qw(v amount list)}], [3, 12345, 12345], 'the module writes version 3, list = amount');
    $r{amount} = 15000;
    my $mac = unpack('H64', invoice3_mac(keys_of($t->secret_bytes), {
        %r, id => pack('H32', $chosen->{id}), spk => pack('H*', $r{spk}), claim_hash => pack('H64', $r{claim}) }));
    $t->redis('HSET', "bitcache:inv:$chosen->{id}", amount => 15000, mac => $mac);
    my $over = $t->new_invoice('/files/c.bin');
    $t->send_sats($chosen->{address}, 15100);
    $t->send_sats($over->{address}, 12400);
    $t->mine(1);
    ok(BcTest::wait_until(sub { (grep { ($t->redis('HGET', "bitcache:sold:$_", 'state') // '') eq 'paid' }
                                 $chosen->{id}, $over->{id}) == 2 }, 30),
       'both paid and kept') or diag $t->watcher_log;
    my ($j) = sales_json('--product', '/files/c.bin', '--wallet', '249da3d8b419e0cf');
    my $p = $j->{creators}[0]{products}[0] // {};
    is_deeply([@{ $p->{onchain} // {} }{qw(count sats tips_sats)}], [2, 24690, 2810],
              'on-chain: 2 sales at the list price (12345 each), tips 2655 + 100 chosen and 55 over-paid');
    is_deeply([@$p{qw(count sats paid_sats tips_sats)}], [2, 24690, 27500, 2810], '  paid = list + tips = received');
    is_deeply([@{ $j->{total} }{qw(paid_sats tips_sats)}], [27500, 2810], '  in the total too');
    my ($rc, $out) = $t->cli('sales', @S, '--product', '/files/c.bin', '--wallet', '249da3d8b419e0cf');
    like($out, qr{^  /files/c\.bin: on-chain 2 \(24690 sats\), wallet 0 \(0 sats\), total 2 \(24690 sats\); tips 2810 sats, paid 27500 sats$}m,
         'text: the tips and what was paid') or diag $out;
    ($rc, $out) = $t->cli('sales', @S, '--format', 'csv', '--product', '/files/c.bin', '--wallet', '249da3d8b419e0cf');
    like($out, qr{^product,249da3d8b419e0cf,"\Q$ONE\E","/files/c\.bin",2,24690,0,0,2,24690,27500,2810$}m, 'csv: paid_sats, tips_sats');
    # a Redis writer who lowers the list (to make a sale look like a tip) breaks the MAC
    $t->redis('HSET', "bitcache:sold:$chosen->{id}", list => 1);
    ($j, my $err) = sales_json('--product', '/files/c.bin', '--wallet', '249da3d8b419e0cf');
    is($j->{total}{tips_sats}, 55, 'a list lowered in sold: is not counted');
    like($err, qr/not counted: sold:$chosen->{id}: invoice MAC does not verify/, '  and named');
}

# ---- arguments --------------------------------------------------------------
$t->cli_refuses(
    [['sales', @S, '--since', 'yesterday'], qr/--since: "yesterday" is not a date \(YYYY-MM-DD, UTC\) nor unix seconds/],
    [['sales', @S, '--since', '2026-02-30'], qr/--since: "2026-02-30"/],
    [['sales', @S, '--format', 'xls'], qr/--format: "xls" is not text, csv or json/],
    [['sales', '--redis', $t->redis_addr, '--watcher-key', $xonly], qr/--secret is required/],
    [['sales', '--redis', $t->redis_addr, '--secret', $t->dir . '/secret'], qr/--watcher-key is required/],
    [['sales', @S, 'extra'], qr/takes no arguments, got "extra"/],
);

$t->stop_watcher;
$t->check_log_clean;
done_testing;
