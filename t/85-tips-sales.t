#!/usr/bin/perl
# Tips on the regtest node (docs/creators.md, "Tips"): invoices made through
# the module with an amount chosen above the price (pay what you want, a
# tip on a fixed price), an over-payment (a wallet that sent too much) and
# an invoice paid twice (both payments in the block that settles it: a
# payment after settlement updates only the watcher's unsigned "over",
# docs/watcher.md, which no sum believes) are settled by the watcher and counted by
# `bitcache sales` as tips (received - list) per product and creator; a
# buyer who chose more and sent only the price gets nothing and no sale.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use JSON::PP;
use BcTest;

plan skip_all => 'module or CLI not built (make all unit)'
    unless -f $BcTest::MODULE && -x $BcTest::CLI;

my $t = BcTest->new;
$t->start_redis;
$t->start_node;
$t->fund_wallet;
my %file = map { $_ => $t->make_file($_, 2000) } qw(pwyw/a.bin pwyw/f.bin fixed/b.bin fixed/c.bin
                                                     fixed/d.bin fixed/e.bin);
$t->start_nginx($t->selling_http(<<'LOC'));
        location /pwyw/ { bitcache on; bitcache_price 5000; bitcache_suggested_price 12000;
                          bitcache_confirmations 1; }
        location /fixed/ { bitcache on; bitcache_price 5000; bitcache_confirmations 1; }
LOC
$t->start_watcher;
my (undef, $xonly) = $t->watcher_key;
my @S = ('--redis', $t->redis_addr, '--secret', $t->dir . '/secret', '--watcher-key', $xonly);
my $CREATOR = '249da3d8b419e0cf';           # $BcTest::TEST_WALLET's id

sub buy {
    my ($path, %f) = @_;
    my $r = $t->post_invoice($t->offer_of($path), %f);
    is($r->{status}, 201, "$path: an invoice") or diag $r->{content};
    return $r->{json};
}

my %inv = (
    a => buy('/pwyw/a.bin', amount => 12000),     # pay what you want: 7000 above the price
    b => buy('/fixed/b.bin', tip => 1000),        # a tip on a fixed price
    c => buy('/fixed/c.bin'),                     # the price, over-paid by 1500
    d => buy('/fixed/d.bin'),                     # the price, paid twice
    e => buy('/fixed/e.bin'),                     # the price, no tip
    f => buy('/pwyw/f.bin', amount => 12000),     # chose 12000, sends the price only
);
is_deeply([map { $inv{$_}{amount_sats} } qw(a b c d e f)], [12000, 6000, 5000, 5000, 5000, 12000],
          'the amounts chosen');
$t->send_sats($inv{a}{address}, 12000);
$t->send_sats($inv{b}{address}, 6000);
$t->send_sats($inv{c}{address}, 6500);
$t->send_sats($inv{d}{address}, 5000);
$t->send_sats($inv{d}{address}, 2000);          # d, paid twice (in one block: both attested)
$t->send_sats($inv{e}{address}, 5000);
$t->send_sats($inv{f}{address}, 5000);
$t->mine(1);

sub sold { $t->redis('HGET', "bitcache:sold:$_[0]", $_[1]) // '' }
for my $k (qw(a b c d e)) {
    ok(BcTest::wait_until(sub { sold($inv{$k}{id}, 'state') eq 'paid' }, 30), "$k: paid, kept in sold:")
        or diag $t->watcher_log;
}
ok(BcTest::wait_until(sub { ($t->invoice($inv{f}{id})->{state} // '') eq 'underpaid' }, 30),
   'f: chose 12000, sent 5000: underpaid');
is(sold($inv{f}{id}, 'state'), '', 'f: no sale');
ok(!$t->invoice_status($inv{f}{id})->{token}, 'f: no token');

is(sold($inv{d}{id}, 'received'), '7000', 'd: paid twice, 7000 received in all');
is(sold($inv{c}{id}, 'received'), '6500', 'c: over-paid, 6500 received');

# the buyers' tokens: the amount chosen was paid
for my $k (qw(a b)) {
    my $s = $t->invoice_status($inv{$k}{id});
    ok($s->{token}, "$k: a token");
    my $path = $s->{download_url} // '';
    $path =~ s{^http://127\.0\.0\.1:\d+}{};
    my $dl = $t->get($path);
    ok($dl->{status} == 200 && $dl->{content} eq $file{ $k eq 'a' ? 'pwyw/a.bin' : 'fixed/b.bin' },
       "$k: downloads the file");
}

# ---- bitcache sales -------------------------------------------------------------
my ($rc, $out, $err) = $t->cli('sales', @S, '--format', 'json');
is($rc, 0, 'sales --format json: exit 0') or diag $err;
my $j = eval { decode_json($out) } || {};
my ($c) = grep { ($_->{id} // '') eq $CREATOR } @{ $j->{creators} || [] };
my %p = map { $_->{product} => $_ } @{ $c->{products} || [] };
my %want = ('/pwyw/a.bin' => [12000, 7000], '/fixed/b.bin' => [6000, 1000], '/fixed/c.bin' => [6500, 1500],
            '/fixed/d.bin' => [7000, 2000], '/fixed/e.bin' => [5000, 0]);
is_deeply([sort keys %p], [sort keys %want], 'five products sold (not the underpaid one)') or diag $out;
for my $prod (sort keys %want) {
    my ($paid, $tips) = @{ $want{$prod} };
    is_deeply([@{ $p{$prod} || {} }{qw(count sats paid_sats tips_sats)}], [1, 5000, $paid, $tips],
              "$prod: 1 sale at the price 5000, $paid sats paid, $tips sats of tips") or diag $out;
    is($p{$prod}{onchain}{tips_sats}, $tips, "$prod: the tips on-chain");
}
is_deeply([@{ $c || {} }{qw(count sats paid_sats tips_sats)}], [5, 25000, 36500, 11500],
          'the creator: 5 sales, 25000 sats at the price, 36500 paid, 11500 of tips');
is_deeply([@{ $j->{total} || {} }{qw(paid_sats tips_sats)}], [36500, 11500], 'the total\'s paid and tips');

($rc, $out) = $t->cli('sales', @S, '--format', 'csv');
my @rows = split /\n/, $out;
like($rows[0] // '', qr/tips_sats/, 'csv: a tips column') or diag $out;
ok((grep { /^product,$CREATOR,.*"\/pwyw\/a\.bin",.*,5000,12000,7000$/ } @rows), 'csv: /pwyw/a.bin\'s paid and tips')
    or diag $out;
($rc, $out) = $t->cli('sales', @S);
like($out, qr{/pwyw/a\.bin: .*; tips 7000 sats, paid 12000 sats$}m, 'text: /pwyw/a.bin\'s tips') or diag $out;

$t->stop_watcher;
$t->check_log_clean;
done_testing;
