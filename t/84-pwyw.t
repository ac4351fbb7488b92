#!/usr/bin/perl
# Pay what you want and tips (docs/creators.md) over curl-like requests: the
# suggested price from the directive (a number, a variable, one below the
# price ignored) and from the creator's catalog record; the 402's JSON and
# page (presets and a field, in the "Pay" form); POST <api>/invoices with
# amount, tip and custom, every rule of the amount (below the price, too
# large, not a number, both, custom empty), as JSON and as a form; the
# invoice record (version 3: amount and list under the MAC); the invoice
# page and JSON with the tip; forged amounts in Redis refused; a payment of
# the price alone does not buy a pay-what-you-want invoice of more.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use JSON::PP;
use MIME::Base64 ();
use BcTest;

plan skip_all => 'module or tools not built (make all unit)'
    unless -f $BcTest::MODULE && -x "$BcTest::TOOLS/pay_invoice" && -x $BcTest::CLI;

my $t = BcTest->new;
$t->start_redis;
my %file = map { $_ => $t->make_file("$_", 3000) } qw(pwyw/a.bin pwyw/b.bin pwyw/none/a.bin fixed/a.bin low/a.bin
                                                       var/a.bin cat/a.bin cat/b.bin);
$t->start_nginx($t->selling_http(<<'LOC'));
        location /pwyw/ { bitcache on; bitcache_price 5000; bitcache_suggested_price 12000;
                          location /pwyw/none/ { bitcache_suggested_price 0; } }
        location /fixed/ { bitcache on; bitcache_price 5000; }
        location /low/ { bitcache on; bitcache_price 5000; bitcache_suggested_price 4000; }
        location /var/ { bitcache on; bitcache_price 5000; bitcache_suggested_price $arg_s; }
        location /cat/ { bitcache on; bitcache_price 5000; bitcache_suggested_price 12000; }
LOC

sub j402 {
    my ($path) = @_;
    my $r = $t->get($path, Accept => 'application/json');
    is($r->{status}, 402, "$path: 402");
    return eval { decode_json($r->{content}) } || {};
}

# ---- the 402 ---------------------------------------------------------------------
my $p = j402('/pwyw/a.bin');
is($p->{price_sats}, 5000, 'pay what you want: the price is the least');
is($p->{suggested_sats}, 12000, '... the suggested price');
is($p->{max_sats}, 1_200_000, '... at most 100 times the suggested price');
my $f = j402('/fixed/a.bin');
is($f->{suggested_sats}, 0, 'a fixed price: no suggested price');
is($f->{max_sats}, 500_000, '... at most 100 times the price');

my $html = $t->get('/pwyw/a.bin')->{content};
like($html, qr{Pay what you want \(at least 5000 sats\)}, 'page: "Pay what you want (at least 5000 sats)"');
for (['amount-min', 5000, ''], ['amount-suggested', 12000, ' checked'], ['amount-double', 24000, ''],
     ['amount-other', 'custom', '']) {
    my ($id, $v, $checked) = @$_;
    like($html, qr{<input type="radio" name="amount" id="$id" value="$v"$checked>}, "page: preset $id = $v$checked");
}
like($html, qr{<input type="number" name="custom" id="amount-custom" min="5000" max="1200000"},
     'page: a field from the price to the most');
like($html, qr{<form id="offer-form"[^>]*>(?:(?!</form>).)*id="amount-box"}s, 'page: the choice is in the Pay form');
unlike($html, qr{id="tip-box"}, 'page: no tip box beside pay what you want');
$html = $t->get('/fixed/a.bin')->{content};
like($html, qr{Add a tip}, 'fixed price: "Add a tip"');
for (['tip-none', 0, ' checked'], ['tip-10', 500, ''], ['tip-25', 1250, ''], ['tip-50', 2500, ''],
     ['tip-other', 'custom', '']) {
    my ($id, $v, $checked) = @$_;
    like($html, qr{<input type="radio" name="tip" id="$id" value="$v"$checked>}, "fixed price: preset $id = $v$checked");
}
like($html, qr{<input type="number" name="custom" id="tip-custom" min="1" max="495000"}, 'fixed price: a tip field');
unlike($html, qr{id="amount-box"}, 'fixed price: no pay what you want');

is(j402('/pwyw/none/a.bin')->{suggested_sats}, 0, 'bitcache_suggested_price 0 drops an inherited one');
{
    my $bad = BcTest->new;
    my ($rc, $out) = $bad->nginx_test("    server { listen 127.0.0.1:%%PORT%%; bitcache_suggested_price 12abc; }\n");
    isnt($rc, 0, 'a written suggested price that is no price fails nginx -t');
    like($out, qr/"bitcache_suggested_price": "12abc"/, '... naming the directive and the value');
}

my $low = j402('/low/a.bin');
is($low->{suggested_sats}, 0, 'a suggested price below the price: ignored');
like($t->error_log, qr/\[warn\].*suggested price 4000 of "\/low\/a\.bin" is below its price 5000, ignored/,
     '... and logged at warn');
is(j402('/var/a.bin?s=9000')->{suggested_sats}, 9000, 'from a variable');
is(j402('/var/a.bin')->{suggested_sats}, 0, 'an empty variable: none');
is(j402('/var/a.bin?s=5000')->{suggested_sats}, 0, 'equal to the price: none');
is(j402('/var/a.bin?s=abc')->{suggested_sats}, 0, 'not a price: none');
like($t->error_log, qr/\[warn\].*suggested price "abc" of "\/var\/a\.bin" .*ignored/, '... logged');

# ---- POST <api>/invoices: the amount rules -----------------------------------------------
my $po = $p->{offer};
my $fo = $f->{offer};
my $rec_of = sub { $t->invoice($_[0]{json}{id}) };
my @ok = (
    [$po, {}, 5000, 'pay what you want, nothing chosen: the price'],
    [$po, { amount => '12000' }, 12000, 'the suggested price'],
    [$po, { amount => 12000 }, 12000, 'a JSON number'],
    [$po, { amount => '5000' }, 5000, 'the price itself'],
    [$po, { amount => '1200000' }, 1_200_000, 'the most'],
    [$po, { amount => 'custom', custom => '7777' }, 7777, 'custom'],
    [$po, { tip => '100' }, 5100, 'a tip on a pay-what-you-want product'],
    [$fo, {}, 5000, 'fixed price, no tip'],
    [$fo, { tip => '0' }, 5000, 'tip 0 (the page\'s "No tip")'],
    [$fo, { tip => '500' }, 5500, 'a tip'],
    [$fo, { tip => 'custom', custom => '321' }, 5321, 'a typed tip'],
    [$fo, { tip => '495000' }, 500_000, 'the largest tip'],
    [$fo, { amount => '6000' }, 6000, 'an amount above a fixed price'],
);
for my $c (@ok) {
    my ($offer, $fields, $want, $name) = @$c;
    my $r = $t->post_invoice($offer, %$fields);
    is($r->{status}, 201, "$name: 201") or diag $r->{content};
    is($r->{json}{amount_sats}, $want, "$name: amount $want");
    is($r->{json}{list_sats}, 5000, "$name: list 5000");
    is($r->{json}{tip_sats}, $want - 5000, "$name: tip " . ($want - 5000));
    my $rec = $t->invoice($r->{json}{id} // 'none');
    is_deeply([@$rec{qw(v amount list)}], [3, $want, 5000], "$name: record v 3, amount, list");
}

my @bad = (
    [$po, { amount => '4999' }, 'amount_below_price', 'minimum_sats', 5000, 'below the price'],
    [$po, { amount => '1' }, 'amount_below_price', 'minimum_sats', 5000, '1 sat'],
    [$po, { amount => 'custom', custom => '4000' }, 'amount_below_price', 'minimum_sats', 5000, 'custom below'],
    [$po, { amount => '1200001' }, 'amount_too_large', 'maximum_sats', 1_200_000, 'above the most'],
    [$po, { amount => '2100000000000001' }, undef, undef, undef, 'above 21 million BTC'],
    [$fo, { tip => '495001' }, 'amount_too_large', 'maximum_sats', 500_000, 'a tip too large'],
    [$po, { amount => 'abc' }, 'bad_amount', undef, undef, 'not a number'],
    [$po, { amount => '-5000' }, 'bad_amount', undef, undef, 'negative'],
    [$po, { amount => '12000.5' }, 'bad_amount', undef, undef, 'a fraction'],
    [$po, { amount => '1e6' }, 'bad_amount', undef, undef, 'an exponent'],
    [$po, { amount => '012000' }, 'bad_amount', undef, undef, 'a leading zero'],
    [$po, { amount => '' }, 'bad_amount', undef, undef, 'empty'],
    [$po, { amount => '12000', tip => '100' }, 'bad_amount', undef, undef, 'both amount and tip'],
    [$po, { amount => 'custom' }, 'bad_amount', undef, undef, 'custom without a number'],
    [$po, { amount => 'custom', custom => '' }, 'bad_amount', undef, undef, 'custom empty'],
    [$fo, { tip => '-1' }, 'bad_amount', undef, undef, 'a negative tip'],
    [$fo, { tip => 'custom', custom => 'x' }, 'bad_amount', undef, undef, 'a typed tip that is no number'],
);
my $before = scalar @{ $t->redis('KEYS', 'bitcache:inv:*') };
for my $c (@bad) {
    my ($offer, $fields, $err, $k, $v, $name) = @$c;
    my $r = $t->post_invoice($offer, %$fields);
    is($r->{status}, 400, "refused: $name: 400");
    if (defined $err) {
        is($r->{json}{error}, $err, "refused: $name: $err");
    } else {
        like($r->{json}{error} // '', qr/^(amount_too_large|bad_amount)$/, "refused: $name: $r->{json}{error}");
    }
    is($r->{json}{$k}, $v, "refused: $name: $k $v") if defined $k;
}
is(scalar @{ $t->redis('KEYS', 'bitcache:inv:*') }, $before, 'no refused amount made an invoice');
is($t->post_invoice($po, amount => '4999')->{json}{reason}, 'the amount must be at least 5000 sats',
   'the reason says the least');

# ---- as the page's form posts it ------------------------------------------------------------
my $r = $t->post_invoice($po, form => [amount => 12000, custom => '']);
is($r->{status}, 201, 'form: a preset with the field left empty');
is($r->{json}{amount_sats}, 12000, 'form: the preset');
$r = $t->post_invoice($po, form => [amount => 'custom', custom => 8000]);
is($r->{json}{amount_sats}, 8000, 'form: Other and a number');
$r = $t->post_invoice($fo, form => [tip => 1250, custom => '']);
is($r->{json}{amount_sats}, 6250, 'form: a tip preset');
$r = $t->post_invoice($po, form => [amount => 12000], accept => 'text/html');
is($r->{status}, 303, 'form without JSON: 303 to the invoice page');
$r = $t->post_invoice($po, form => [amount => 'custom', custom => 100], accept => 'text/html');
is($r->{status}, 400, 'form below the price: 400');
like($r->{headers}{'content-type'}, qr{^text/html}, '... a page');
like($r->{content}, qr{<p id="amount-error" data-error="amount_below_price">/pwyw/a\.bin: the amount must be at least 5000 sats\.</p>},
     '... that says the least');

# ---- the offer carries the terms, MAC'd --------------------------------------------------------
{
    # an offer's bytes changed (its suggested price, its price...): refused as a whole
    my $bytes = MIME::Base64::decode_base64url($po);
    my $bad = 0;
    for my $i (1 .. 24) {
        my $b = $bytes;
        substr($b, $i, 1) = chr(ord(substr($b, $i, 1)) ^ 1);
        my $r = $t->post_invoice(MIME::Base64::encode_base64url($b), amount => '1');
        $bad++ if $r->{status} == 400 && ($r->{json}{error} // '') ne 'amount_below_price'
                  && ($r->{json}{reason} // '') !~ /amount/;
    }
    is($bad, 24, 'an offer with any of its first bytes changed is refused before its amount is read');
}

# ---- the invoice: MAC'd amount and list; the page -----------------------------------------------
my $inv = $t->post_invoice($po, amount => '12000')->{json};
my $st = $t->invoice_status($inv->{id});
is($st->{state}, 'new', 'status: a new invoice verifies');
is_deeply([@$st{qw(amount_sats list_sats tip_sats)}], [12000, 5000, 7000], 'status JSON: amount, list, tip');
my $page = $t->get("/bitcache/invoices/$inv->{id}", Cookie => "bitcache_claim=" . $t->claim_of($inv->{id}));
like($page->{content}, qr{<p id="tip-line" class="muted">5000 sats and 7000 sats more, chosen by you: thank you!</p>},
     'invoice page: the tip');
like($page->{content}, qr{id="price-sats">12000<}, 'invoice page: the amount chosen is what to pay');
like($page->{content}, qr{amount=0\.00012}, 'invoice page: BIP21 asks for the amount chosen');
my $plain = $t->post_invoice($fo)->{json};
unlike($t->get("/bitcache/invoices/$plain->{id}", Cookie => "bitcache_claim=" . $t->claim_of($plain->{id}))->{content},
       qr{id="tip-line"}, 'invoice page without a tip: no tip line');

# a Redis writer lowers the amount, or the list, or both: the MAC says no
for my $forge (['amount', 5000], ['list', 12000], ['list', 0], ['v', 2]) {
    my ($field, $value) = @$forge;
    my $id = $t->post_invoice($po, amount => '12000')->{json}{id};
    $t->redis('HSET', "bitcache:inv:$id", $field, $value);
    $t->pay_invoice($id, 12000, 6);
    my $s = $t->invoice_status($id);
    is($s->{state}, 'invalid', "$field forged to $value in Redis: invalid");
    ok(!$s->{token}, "$field forged to $value: no token");
}
{
    my $id = $t->post_invoice($po, amount => '12000')->{json}{id};
    $t->redis('HSET', "bitcache:inv:$id", 'amount', 5000, 'list', 5000);
    $t->pay_invoice($id, 5000, 6);
    ok(!$t->invoice_status($id)->{token}, 'amount and list both set to the price: no token for 5000 sats');
}

# paid the price only (a buyer who chose 12000 and sent 5000): no token
my $short = $t->post_invoice($po, amount => '12000')->{json};
$t->pay_invoice($short->{id}, 5000, 6);
my $s = $t->invoice_status($short->{id});
ok(!$s->{token}, 'the price alone does not pay an invoice of 12000');
$t->pay_invoice($short->{id}, 12000, 6);
$s = $t->invoice_status($short->{id});
ok($s->{token}, 'the amount chosen does');
my $dl = $t->get("/pwyw/a.bin?bitcache_token=$s->{token}");
is($dl->{status}, 200, 'the token downloads');
ok($dl->{content} eq $file{'pwyw/a.bin'}, '... the very file');

# ---- the catalog record's suggested price --------------------------------------------------------
my @S = ('--secret', $t->dir . '/secret', '--redis', $t->redis_addr);
my ($rc, $out, $err) = $t->cli('product', 'set', '/cat/a.bin', '--price', 6000, '--suggested', 20000, @S);
SKIP: {
    skip "bitcache product set --suggested not there yet: $err", 8 if $rc;
    my $c = j402('/cat/a.bin');
    is_deeply([@$c{qw(price_sats suggested_sats max_sats)}], [6000, 20000, 2_000_000],
              'catalog: its price and suggested price replace the directives\'');
    ($rc) = $t->cli('product', 'set', '/cat/b.bin', '--price', 6000, '--suggested', 0, @S);
    is(j402('/cat/b.bin')->{suggested_sats}, 0, 'catalog --suggested 0: a fixed price, whatever the directive');
    my $r = $t->post_invoice($c->{offer}, amount => '5999');
    is($r->{json}{error}, 'amount_below_price', 'catalog: the least is the record\'s price');
    is($r->{json}{minimum_sats}, 6000, '... 6000');
    # a Redis writer lowers the record's suggested price, or raises it: the MAC says no
    $t->redis('HSET', 'bitcache:prod:/cat/a.bin', 'suggested', 100000);
    my $g = $t->get('/cat/a.bin', Accept => 'application/json');
    is($g->{status}, 503, 'a catalog record forged in Redis: not sold (503), never the directives\'');
    unlike($g->{content}, qr/"offer"/, '... no offer');
    ($rc) = $t->cli('product', 'set', '/cat/a.bin', '--price', 6000, '--suggested', 5000, @S);
    isnt($rc, 0, 'product set refuses a suggested price below the price');
    ($rc) = $t->cli('product', 'set', '/cat/a.bin', '--price', 6000, @S);
    is(j402('/cat/a.bin')->{suggested_sats}, 0, 'a newer record without --suggested: none');
}

$t->check_log_clean;
done_testing();
