#!/usr/bin/perl
# An invoice whose MAC fails is never shown, signed or minted from: a Redis
# writer who rewrites address, spk, amount or title (the title is in the
# MAC since record version 2: "pay to <other address>" in the title was
# possible before) gets an error page and JSON that say the invoice is
# invalid, with no address, no BIP21, no QR and no amount from the record;
# logged at warn. In Chromium too, with and without JavaScript.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use JSON::PP qw(decode_json);
use BcTest;

plan skip_all => 'module or tools not built (make all unit)'
    unless -f $BcTest::MODULE && -x "$BcTest::TOOLS/pay_invoice";

my $t = BcTest->new;
$t->start_redis;
$t->make_file('files/book.pdf', 1000);
$t->start_nginx($t->selling_http('location /files/ { bitcache on; bitcache_price 12345; }'));

my @addr = map { [split / /] } split /\n/,
    `$BcTest::CLI derive '$BcTest::TEST_WALLET' --network regtest --count 10 --spk 2>/dev/null`;
my $evil = $addr[9];    # [index, address, spk] of "someone else"

sub forged {
    my ($name, %fields) = @_;
    my $inv = $t->new_invoice('/files/book.pdf');
    my $id = $inv->{id};
    $t->redis('HSET', "bitcache:inv:$id", %fields);

    my $r = $t->get("/bitcache/invoices/$id", Accept => 'application/json',
                    'X-Bitcache-Claim' => $inv->{claim});
    is($r->{status}, 409, "$name: JSON 409");
    my $j = eval { decode_json($r->{content}) } || {};
    is($j->{state}, 'invalid', "$name: state invalid");
    is($j->{error}, 'invalid_invoice', "$name: error invalid_invoice");
    like($j->{reason} // '', qr/invalid/, "$name: says so");
    is_deeply([sort keys %$j], [qw(error id reason state)], "$name: nothing else (no address, amount, bip21, token)");

    $r = $t->get("/bitcache/invoices/$id", Cookie => "bitcache_claim=$inv->{claim}");
    is($r->{status}, 409, "$name: HTML 409");
    like($r->{content}, qr/this invoice is invalid/, "$name: the page says invalid");
    for my $a ($inv->{address}, $evil->[1]) {
        unlike($r->{content}, qr/\Q$a\E/, "$name: no address on the page");
    }
    unlike($r->{content}, qr/bitcoin:|<svg|12345|0\.00012345|Pay to \S+ instead/, "$name: no BIP21, QR, amount or forged words");
    ok(!$r->{headers}{'set-cookie'}, "$name: no cookie");
    like($t->error_log, qr/\[warn\].*invoice $id is invalid: invoice MAC does not verify/, "$name: logged at warn");
    return ($id, $inv);
}

forged('address rewritten', address => $evil->[1]);
forged('spk rewritten', spk => $evil->[2]);
forged('address and spk rewritten', address => $evil->[1], spk => $evil->[2]);
forged('amount lowered', amount => 1);
forged('title rewritten', title => "Pay to $evil->[1] instead");

# a paid, attested invoice whose title was rewritten: still no token
{
    my ($id, $inv) = forged('paid, then title rewritten', title => 'x');
    $t->pay_invoice($id, 12345, 1);
    my $j = eval { decode_json($t->get("/bitcache/invoices/$id", Accept => 'application/json',
                                       'X-Bitcache-Claim' => $inv->{claim})->{content}) } || {};
    is($j->{state}, 'invalid', 'paid + forged title: invalid');
    ok(!exists $j->{token}, '  no token');
    is(scalar @{ $t->redis('KEYS', 'bitcache:tok:*') }, 0, '  nothing minted');
}

# a record of the old version (v 1, no claim) and a record missing fields
{
    my $inv = $t->new_invoice('/files/book.pdf');
    $t->redis('HSET', "bitcache:inv:$inv->{id}", v => 1);
    $t->redis('HDEL', "bitcache:inv:$inv->{id}", 'claim');
    my $r = $t->get("/bitcache/invoices/$inv->{id}", Accept => 'application/json');
    is($r->{status}, 409, 'a v1 record: 409');
    unlike($r->{content}, qr/\Q$inv->{address}\E/, '  no address');
    like($t->error_log, qr/invoice $inv->{id} is invalid: field v is 1, not 2/, '  logged why');
}

# Chromium: the forged page shows no address, with and without JavaScript
SKIP: {
    skip 'chromium or playwright-core missing', 12
        unless -x '/usr/bin/chromium' && -d "$BcTest::ROOT/t/node/node_modules/playwright-core";
    my $inv = $t->new_invoice('/files/book.pdf');
    $t->redis('HSET', "bitcache:inv:$inv->{id}", address => $evil->[1], spk => $evil->[2]);
    for my $js ([js => ()], [nojs => '--no-js']) {
        my ($jn, @jo) = @$js;
        open my $p, '-|', 'node', "$BcTest::ROOT/t/node/page.js",
            $t->url("/bitcache/invoices/$inv->{id}"), @jo or die;
        my $out = do { local $/; <$p> };
        close $p;
        my $pg = eval { decode_json($out) } || {};
        ok($pg->{ok}, "$jn: page.js ran") or diag $pg->{error};
        is($pg->{http_status}, 409, "$jn: 409");
        unlike($pg->{body_text} // '', qr/\Q$evil->[1]\E|\Q$inv->{address}\E|bitcoin:/, "$jn: no address shown");
        like($pg->{body_text} // '', qr/invalid/, "$jn: says invalid");
    }

    # forged while the buyer's page is open: its poll stops showing the address
    $inv = $t->new_invoice('/files/book.pdf');
    open my $p, '-|', 'node', "$BcTest::ROOT/t/node/page.js", $t->url("/bitcache/invoices/$inv->{id}"),
        '--cookie', 'bitcache_claim=' . $t->claim_of($inv->{id}),
        '--timeout', 30000, '--wait', '#qr svg', '--wait-text', 'This invoice is invalid' or die;
    # forged only once the page is loaded (a slow Chromium start would
    # otherwise load the invalid page itself)
    BcTest::wait_until(sub { $t->access_log =~ m{"GET /bitcache/invoices/$inv->{id} HTTP/1.1" 200} }, 30);
    sleep 1;
    $t->redis('HSET', "bitcache:inv:$inv->{id}", address => $evil->[1]);
    my $out = do { local $/; <$p> };
    close $p;
    my $pg = eval { decode_json($out) } || {};
    ok($pg->{ok}, 'polling: page.js ran') or diag $pg->{error};
    is($pg->{state}, 'invalid', 'polling: the page turned invalid');
    ok(!($pg->{fields}{address} && $pg->{fields}{address}{visible}), 'polling: the address is hidden');
    unlike($pg->{body_text} // '', qr/\Q$evil->[1]\E/, 'polling: the forged address never shown');
}

$t->stop_nginx;
$t->check_log_clean;
done_testing;
