#!/usr/bin/perl
# The payment page on the real module, as a buyer goes through it in headless
# Chromium: GET a paywalled file -> 402 page -> click "Pay with bitcoin" ->
# the invoice page with the creator's next address and its QR -> the watcher
# records a signed payment (BcTest::pay_invoice) -> the page shows the
# download link, which downloads the file. Once with JavaScript (polling) and
# once without (form POST and meta refresh).
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use JSON::PP;
use Time::HiRes qw(sleep time);
use BcTest;

my $root = $BcTest::ROOT;
my $pagejs = "$root/t/node/page.js";
my $art = "$root/t/artifacts";

plan skip_all => 'module or tools not built (make all unit)'
    unless -f $BcTest::MODULE && -x "$BcTest::TOOLS/pay_invoice" && -x $BcTest::CLI;
plan skip_all => 'chromium missing (make deps)' unless -x '/usr/bin/chromium';
plan skip_all => 'playwright-core missing (make deps)'
    unless -d "$root/t/node/node_modules/playwright-core";
for my $tool (qw(node zbarimg)) {
    plan skip_all => "$tool missing (make deps)" if system("command -v $tool >/dev/null") != 0;
}
mkdir $art;

my $upub = 'upub5EFU65HtV5TeiSHmZZm7FUffBGy8UKeqp7vw43jYbvZPpoVsgU93oac7Wk3u6moKegAEWtGNF8DehrnHtv21XXEMYRUocHqguyjknFHYfgY';
my ($tpub) = `$BcTest::CLI derive $upub --descriptor` =~ /\((tpub\w+)\//;
my $wallet = "wpkh($tpub/0/*)";
my @addr = map { (split / /)[1] } split /\n/,
    `$BcTest::CLI derive '$wallet' --network regtest --count 2 2>/dev/null`;
is(scalar @addr, 2, 'the creator\'s first addresses, from bitcache derive');

my $t = BcTest->new;
$t->start_redis;
my $book = $t->make_file('files/book.pdf', 100_000);
my (undef, $watcher_pub) = $t->watcher_key;

# an operator's own template, for one location
$t->write_file('custom.html', "<!doctype html>\n<p id=\"custom\">{{title}}: {{price_sats}} sats</p>\n"
    . "{{#offer}}<form method=\"post\" action=\"{{api}}/invoices\"><input type=\"hidden\" "
    . "name=\"offer\" value=\"{{offer}}\"><button id=\"pay\">Pay</button></form>{{/offer}}\n"
    . "{{! operators may comment }}<script nonce=\"{{nonce}}\">document.title = 'ok';</script>\n");
$t->make_file('custom/a&b<c>.txt', 10);

$t->start_nginx(<<"CONF");
    bitcache_redis %%REDIS%% timeout=500ms;
    server {
        listen 127.0.0.1:%%PORT%%;
        root %%DIR%%/html;
        bitcache_secret %%DIR%%/secret;
        bitcache_network regtest;
        bitcache_watcher_key $watcher_pub;
        location /files/ {
            bitcache on;
            bitcache_price 12345;
            bitcache_wallet "$wallet";
            bitcache_confirmations 1;
            bitcache_invoice_ttl 30m;
        }
        location /custom/ {
            bitcache on;
            bitcache_price 777;
            bitcache_wallet "$wallet";
            bitcache_page %%DIR%%/custom.html;
        }
        location /bitcache/ { bitcache_api; }
    }
CONF

sub page_start {
    my (@opt) = @_;
    open my $p, '-|', 'node', $pagejs, $t->url('/files/book.pdf'), '--timeout', 30000, @opt or die;
    return $p;
}

sub page_end {
    my ($p) = @_;
    local $/;
    my $json = <$p>;
    close $p;
    my $r = eval { decode_json($json) } || { ok => 0, error => "no JSON: $json" };
    diag("page.js: $r->{error}") unless $r->{ok};
    return $r;
}

# the invoice the click made: waits for a new inv: key in Redis
sub new_invoice {
    my (%seen) = map { $_ => 1 } @_;
    my $until = time + 30;
    while (time < $until) {
        my @ids = grep { !$seen{$_} } map { /inv:([0-9a-f]{32})$/ ? $1 : () }
                  @{ $t->redis('KEYS', 'bitcache:inv:*') };
        return $ids[0] if @ids;
        sleep 0.1;
    }
    return undef;
}

sub zbar {
    my $got = `zbarimg --raw -q '$_[0]' 2>/dev/null`;
    $got =~ s/\n\z//;
    return $got;
}

sub clean {
    my ($r, $name) = @_;
    ok($r->{ok}, "$name: page.js ran");
    is_deeply($r->{external}, [], "$name: no request for another host");
    # Chromium logs the 402 of the page itself as a failed load; anything else counts
    my @console = grep { !/Failed to load resource: .* status of 402 / } @{ $r->{console} };
    is_deeply(\@console, [], "$name: no console error (CSP)") or diag(join "\n", @console);
    is_deeply($r->{page_errors}, [], "$name: no script error");
    ok(!$r->{horizontal_overflow}, "$name: no horizontal scrolling");
}

my $bip21_of = sub { "bitcoin:$_[0]?amount=0.00012345&label=%2Ffiles%2Fbook.pdf" };

# --- with JavaScript -------------------------------------------------------------
{
    my $p = page_start('--viewport', '390x844', '--screenshot', "$art/flow-402-phone.png",
                       '--summary', '--click', '#pay', '--wait', '#qr svg', '--summary',
                       '--screenshot', "$art/flow-invoice-phone.png", '--shot', "#qr=$art/flow-qr-phone.png",
                       '--wait', '#download', '--screenshot', "$art/flow-paid-phone.png");
    my $id = new_invoice();
    ok($id, 'JS: clicking Pay made an invoice');
    sleep 1.5;
    $t->pay_invoice($id, 12345, 1) if $id;
    my $r = page_end($p);
    clean($r, 'JS flow');
    my ($offer, $inv) = map { $_->{summary} } grep { $_->{summary} } @{ $r->{steps} };
    is($r->{http_status}, 402, 'JS: the file answers 402 with the page');
    my ($nonce) = ($r->{headers}{'content-security-policy'} // '') =~ /'nonce-([^']+)'/;
    ok($nonce, 'JS: CSP with a script nonce');
    is_deeply([grep { ($_->{nonce} // '') ne ($nonce // '') } @{ $offer->{scripts} }], [],
              'JS: every script carries the header\'s nonce');
    is($offer->{title}, '/files/book.pdf', '402: the product as title');
    is($offer->{price_btc}, '0.00012345', '402: price in BTC');
    is($offer->{price_sats}, '12345', '402: price in sats');
    ok($offer->{fields}{pay}{visible}, '402: Pay button');
    like($offer->{form}{action}, qr{/bitcache/invoices$}, '402: the form posts to the API');
    ok($offer->{form}{offer}, '402: with an offer');

    my ($click) = grep { $_->{click} } @{ $r->{steps} };
    is($inv->{url}, $t->url("/bitcache/invoices/$id"), 'invoice page at the invoice URL');
    is($inv->{address}, $addr[0], 'invoice: the creator\'s address at index 0');
    is($inv->{bip21}, $bip21_of->($addr[0]), 'invoice: BIP21 link');
    is(zbar("$art/flow-qr-phone.png"), $bip21_of->($addr[0]), 'invoice: the QR on screen decodes to it');
    like($inv->{status}, qr/^Waiting/, 'invoice: waiting');
    like($inv->{countdown}, qr/^(29|30):\d\d$/, "invoice: countdown ($inv->{countdown})");

    is($r->{state}, 'paid', 'JS: the page saw the payment (polling)');
    ok($r->{fields}{download}{visible}, 'JS: download link shown');
    my $href = $r->{fields}{download}{href} // '';
    like($href, qr{^(http://127\.0\.0\.1:\d+)?/files/book\.pdf\?bitcache_token=[A-Za-z0-9_-]+$},
         'JS: the link carries the token');
    $href =~ s{^http://127\.0\.0\.1:\d+}{};
    my $dl = $t->get($href);
    is($dl->{status}, 200, 'JS: the link downloads');
    ok($dl->{content} eq $book, 'JS: the very file');
}

# --- without JavaScript: form POST, meta refresh ------------------------------------
{
    my %before = map { /inv:([0-9a-f]{32})$/ ? ($1 => 1) : () } @{ $t->redis('KEYS', 'bitcache:inv:*') };
    my $p = page_start('--no-js', '--viewport', '390x844', '--click', '#pay', '--wait', '#qr svg',
                       '--summary', '--screenshot', "$art/flow-invoice-phone-nojs.png",
                       '--wait', '#download', '--screenshot', "$art/flow-paid-phone-nojs.png");
    my $id = new_invoice(keys %before);
    ok($id, 'no JS: the plain form POST made an invoice');
    sleep 1.5;
    $t->pay_invoice($id, 12345, 1) if $id;
    my $r = page_end($p);
    ok($r->{ok}, 'no JS: page.js ran');
    is_deeply($r->{external}, [], 'no JS: nothing external');
    my ($inv) = map { $_->{summary} } grep { $_->{summary} } @{ $r->{steps} };
    is($inv->{url}, $t->url("/bitcache/invoices/$id"), 'no JS: the POST led to the invoice page');
    is($inv->{address}, $addr[1], 'no JS: the next address');
    is($inv->{meta_refresh}, '10', 'no JS: meta refresh while unpaid');
    ok(!$inv->{fields}{copy}{visible}, 'no JS: no copy button');
    is($r->{url}, $t->url("/bitcache/invoices/$id"), 'no JS: the page reloaded itself');
    ok(!defined $r->{meta_refresh}, 'no JS: no refresh once paid');
    ok($r->{fields}{download}{visible}, 'no JS: download link after the refresh');
    my $href = $r->{fields}{download}{href} // '';
    $href =~ s{^http://127\.0\.0\.1:\d+}{};
    my $dl = $t->get($href);
    is($dl->{status}, 200, 'no JS: the link downloads');
    ok($dl->{content} eq $book, 'no JS: the very file');
}

# --- bitcache_page: the operator's template ------------------------------------------
{
    my $r = $t->get('/custom/a&b<c>.txt');
    is($r->{status}, 402, 'custom page: 402');
    like($r->{content}, qr{^<!doctype html>\n<p id="custom">/custom/a&amp;b&lt;c&gt;\.txt: 777 sats</p>\n<form },
         'custom page: drawn from bitcache_page, values escaped');
    my ($nonce) = ($r->{headers}{'content-security-policy'} // '') =~ /'nonce-([^']+)'/;
    like($r->{content}, qr{<script nonce="\Q$nonce\E">}, 'custom page: the script gets the nonce');
    unlike($r->{content}, qr/operators may comment/, 'custom page: comments dropped');
    open my $p, '-|', 'node', $pagejs, $t->url('/custom/a&b<c>.txt') or die;
    my $j = page_end($p);
    is($j->{doc_title}, 'ok', 'custom page: its script ran under the CSP');
    is_deeply($j->{console}, [grep { /status of 402/ } @{ $j->{console} }], 'custom page: no CSP error');

    my $bad = BcTest->new;
    $bad->write_file('bad.html', "<p>{{title}}</p>\n{{#offer}}\n<form>\n{{/paid}}\n");
    my ($rc, $out) = $bad->nginx_test(<<'BAD');
    server { listen 127.0.0.1:%%PORT%%; bitcache_page %%DIR%%/bad.html; }
BAD
    isnt($rc, 0, 'a template that does not compile fails nginx -t');
    like($out, qr{"bitcache_page": ".*/bad\.html": line 4: '\{\{/paid\}\}' does not match '\{\{#offer\}\}' opened on line 2},
         'the message names the file, the line and what is wrong');
}

$t->check_log_clean;
done_testing();
