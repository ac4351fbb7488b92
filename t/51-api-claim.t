#!/usr/bin/perl
# The invoice id is no credential: POST <api>/invoices makes a random claim
# secret, returns it once (an HttpOnly cookie scoped to the invoice's status
# URL, and "claim" in the 201 JSON) and keeps only its SHA256, MAC'd, in the
# invoice. The status answers everyone with the state, but the token, the
# download link and the token cookie go only to a request that proves the
# claim (the cookie, or X-Bitcache-Claim), never to a query argument. The
# claim is in no log and nowhere in Redis; the id may be everywhere.
# Also in Chromium: another browser that opens a paid invoice's URL sees
# "Paid" and no download, with and without JavaScript.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use JSON::PP qw(decode_json encode_json);
use Digest::SHA qw(sha256_hex);
use MIME::Base64 qw(decode_base64url);
use HTTP::Tiny;
use BcTest;

plan skip_all => 'module or tools not built (make all unit)'
    unless -f $BcTest::MODULE && -x "$BcTest::TOOLS/pay_invoice";

my $t = BcTest->new;
$t->start_redis;
my $book = $t->make_file('files/book.pdf', 50_000);
# the same API once more over TLS (a self-signed certificate), for Secure
my $tls = BcTest::free_port();
my $dir = $t->dir;
system("openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 -keyout $dir/tls.key "
       . "-out $dir/tls.crt >/dev/null 2>&1") == 0 or die 'openssl failed';
my (undef, $xonly) = $t->watcher_key;
my $http = $t->selling_http('location /files/ { bitcache on; bitcache_invoice_ttl 20m; }');
$http .= <<"CONF";
    server {
        listen 127.0.0.1:$tls ssl;
        ssl_certificate %%DIR%%/tls.crt;
        ssl_certificate_key %%DIR%%/tls.key;
        bitcache_secret %%DIR%%/secret;
        bitcache_watcher_key $xonly;
        location /bitcache/ { bitcache_api; }
    }
CONF
$t->start_nginx($http);

sub json_of {
    my ($r) = @_;
    my $j = eval { decode_json($r->{content}) };
    ok($j, 'JSON answer') or diag $r->{content};
    return $j || {};
}

sub status_r {
    my ($id, %h) = @_;
    return $t->get("/bitcache/invoices/$id", Accept => 'application/json', %h);
}

# --- creating: the claim, once ---------------------------------------------------
my $offer = json_of($t->get('/files/book.pdf', Accept => 'application/json'))->{offer};
my $ua = HTTP::Tiny->new(timeout => 10, max_redirect => 0);
my $j;
my $r = $ua->request('POST', $t->url('/bitcache/invoices'), {
    headers => { 'Content-Type' => 'application/json', Accept => 'application/json' },
    content => encode_json({ offer => $offer }) });
is($r->{status}, 201, 'POST: 201');
my $inv = json_of($r);
my $id = $inv->{id};
my $claim = $inv->{claim} // '';
like($claim, qr/^[A-Za-z0-9_-]{43}$/, 'a claim: 32 random bytes, base64url');
is(length(decode_base64url($claim)), 32, '  of 32 bytes');
my $cookie = $r->{headers}{'set-cookie'} // '';
like($cookie, qr{^bitcache_claim=\Q$claim\E; Path=/bitcache/invoices/$id; Max-Age=(\d+); HttpOnly; SameSite=Lax$},
     'the claim cookie: HttpOnly, scoped to this invoice\'s status URL');
my ($max_age) = $cookie =~ /Max-Age=(\d+)/;
is($max_age, 20 * 60 + 86400, '  living as long as the invoice record (ttl + grace)');
unlike($cookie, qr/Secure/, '  not Secure on plain HTTP');

my %rec = @{ $t->redis('HGETALL', "bitcache:inv:$id") };
is($rec{v}, 3, 'record version 3');
is($rec{list}, $rec{amount}, '  its list price is the amount (no tip chosen)');
is($rec{claim}, sha256_hex(decode_base64url($claim)), 'the invoice keeps SHA256(claim)');
my $dump = join "\n", map { my $k = $_; my $ty = $t->redis('TYPE', $k);
    $ty eq 'hash' ? join(' ', @{ $t->redis('HGETALL', $k) }) : $ty eq 'string' ? $t->redis('GET', $k) : '' }
    @{ $t->redis('KEYS', '*') };
unlike($dump, qr/\Q$claim\E/, 'the claim itself is nowhere in Redis');

# the form POST (no JS): 303 to the invoice, with the same kind of cookie
$r = $ua->post_form($t->url('/bitcache/invoices'), { offer => $offer });
is($r->{status}, 303, 'form POST: 303');
my ($id2) = ($r->{headers}{location} // '') =~ m{^(?:http://127\.0\.0\.1:\d+)?/bitcache/invoices/([0-9a-f]{32})$};
ok($id2, 'Location: <api>/invoices/<id>');
like($r->{headers}{'set-cookie'} // '', qr{^bitcache_claim=[A-Za-z0-9_-]{43}; Path=/bitcache/invoices/$id2; },
     'form POST: the claim cookie for that invoice');

# --- not paid yet: the address only for the buyer ("pay this for me" phishing) ------
# Someone handed the invoice's URL must not pay for another's token: without
# the claim the status shows the state, not the address, BIP21 or QR.
$r = status_r($id);
$j = json_of($r);
is($j->{state}, 'new', 'unpaid, no claim: the state');
is($j->{claimed}, JSON::PP::false, '  claimed false');
is($j->{address}, '', '  no address');
is($j->{bip21}, '', '  no BIP21 link');
like($j->{note} // '', qr/belongs to the browser or script that created it/, '  says whose it is');
$r = status_r($id, 'X-Bitcache-Claim' => $claim);
is(json_of($r)->{address}, $inv->{address}, 'unpaid, with the claim: the address');
like(json_of($r)->{bip21}, qr/^bitcoin:\Q$inv->{address}\E\?/, '  and the BIP21 link');
$r = $t->get("/bitcache/invoices/$id");
is($r->{status}, 200, 'unpaid HTML without the claim: 200');
unlike($r->{content}, qr/\Q$inv->{address}\E|<svg|bitcoin:/, '  no address, no QR, no BIP21 link');
like($r->{content}, qr/This invoice belongs to the browser or script that created it: do not pay it/, '  says so');
unlike($r->{content}, qr/http-equiv="refresh"/, '  no refresh');
$r = $t->get("/bitcache/invoices/$id", Cookie => "bitcache_claim=$claim");
like($r->{content}, qr/\Q$inv->{address}\E/, 'unpaid HTML with the claim cookie: the address');
like($r->{content}, qr/<svg/, '  and the QR code');

# --- paid: the state for everyone, the token for the buyer ------------------------
$t->pay_invoice($id, 12345, 1);
my $tokens_before = scalar @{ $t->redis('KEYS', 'bitcache:tok:*') };

for my $case ([ 'no claim' => () ],
              [ 'another invoice\'s claim' => ('X-Bitcache-Claim' => 'A' x 43) ],
              [ 'a wrong cookie' => (Cookie => 'bitcache_claim=' . ('B' x 42) . 'A') ],
              [ 'a truncated claim' => ('X-Bitcache-Claim' => substr($claim, 0, 42)) ]) {
    my ($name, %h) = @$case;
    $r = status_r($id, %h);
    is($r->{status}, 200, "$name: 200");
    my $j = json_of($r);
    is($j->{state}, 'paid', "$name: says paid");
    is($j->{claimed}, JSON::PP::false, "$name: claimed false");
    like($j->{note} // '', qr/token goes to the buyer who created this invoice/, "$name: explains where the token goes");
    ok(!exists $j->{token} && !exists $j->{download_url}, "$name: no token, no link");
    ok(!$r->{headers}{'set-cookie'}, "$name: no cookie");
}
$r = $t->get("/bitcache/invoices/$id?claim=$claim&x_bitcache_claim=$claim", Accept => 'application/json');
ok(!exists json_of($r)->{token}, 'the claim as a query argument: no token (it would be logged)');
is(scalar @{ $t->redis('KEYS', 'bitcache:tok:*') }, $tokens_before, 'asking without the claim mints nothing');

$r = status_r($id, 'X-Bitcache-Claim' => $claim);
$j = json_of($r);
is($j->{state}, 'paid', 'X-Bitcache-Claim: paid');
is($j->{claimed}, JSON::PP::true, '  claimed');
like($j->{token} // '', qr/^[A-Za-z0-9_-]+$/, '  the token');
is($j->{download_url}, "/files/book.pdf?bitcache_token=$j->{token}", '  the link');
like($r->{headers}{'set-cookie'} // '', qr/^bitcache_token=\Q$j->{token}\E; Path=\/files\/book\.pdf;/, '  the token cookie');
my $dl = $t->get($j->{download_url});
is($dl->{status}, 200, 'the link downloads');
ok($dl->{content} eq $book, '  the very file');

$r = status_r($id, Cookie => "other=1; bitcache_claim=$claim");
is(json_of($r)->{token}, $j->{token}, 'the claim cookie (as the browser sends it): the same token');
$r = $t->get("/bitcache/invoices/$id", Cookie => "bitcache_claim=$claim");
like($r->{content}, qr/bitcache_token=/, 'HTML with the cookie: the download link');

# HTML without the claim: paid, no download, no QR, no refresh
$r = $t->get("/bitcache/invoices/$id");
is($r->{status}, 200, 'HTML without the claim: 200');
like($r->{content}, qr/Paid\. The download goes to the browser or script that created this invoice\./, '  says paid, and who gets it');
unlike($r->{content}, qr/bitcache_token=|<svg/, '  no token, no QR');
unlike($r->{content}, qr/http-equiv="refresh"/, '  no refresh');
ok(!$r->{headers}{'set-cookie'}, '  no cookie');

# the ids are harmless in logs; the claim and the token are in none
# (but for the line of the test's own query-argument attempt above)
my $logs = join "\n", grep { !/\?claim=/ } split /\n/, $t->access_log . $t->error_log;
like($logs, qr/$id/, 'the invoice id is in the logs (harmless now)');
unlike($logs, qr/\Q$claim\E/, 'the claim is in no log');
unlike($logs, qr/\Q$j->{token}\E/, 'the token is in no log');

# --- over TLS: both cookies are Secure ---------------------------------------------------
{
    my $curl = sub {
        my (@args) = @_;
        open my $c, '-|', 'curl', '-sk', '-D', '-', '-o', '/dev/null', @args or die;
        my $head = do { local $/; <$c> };
        close $c;
        return $head // '';
    };
    my $o = json_of($t->get('/files/book.pdf', Accept => 'application/json'))->{offer};
    my $head = $curl->('-X', 'POST', '-H', 'Content-Type: application/json', '-H', 'Accept: application/json',
                       '--data', encode_json({ offer => $o }), "https://127.0.0.1:$tls/bitcache/invoices");
    like($head, qr{^HTTP/1\.1 201}, 'TLS: 201');
    my ($c, $tid) = $head =~ m{^Set-Cookie: bitcache_claim=([A-Za-z0-9_-]{43}); Path=/bitcache/invoices/([0-9a-f]{32}); .*; HttpOnly; SameSite=Lax; Secure\r?$}m;
    ok($c, 'TLS: the claim cookie is Secure');
    $t->pay_invoice($tid, 12345, 1) if $tid;
    $head = $curl->('-H', 'Accept: application/json', '-H', "X-Bitcache-Claim: " . ($c // ''),
                    "https://127.0.0.1:$tls/bitcache/invoices/" . ($tid // ''));
    like($head, qr{^Set-Cookie: bitcache_token=[A-Za-z0-9_-]+; Path=/files/book\.pdf; Max-Age=\d+; HttpOnly; SameSite=Lax; Secure\r?$}m,
         'TLS: the token cookie is Secure');
}

# --- Chromium: another browser opens the paid invoice's URL -------------------------
SKIP: {
    skip 'chromium or playwright-core missing', 20
        unless -x '/usr/bin/chromium' && -d "$BcTest::ROOT/t/node/node_modules/playwright-core";
    for my $js ([js => ()], [nojs => '--no-js']) {
        my ($jn, @jo) = @$js;
        open my $p, '-|', 'node', "$BcTest::ROOT/t/node/page.js", $t->url("/bitcache/invoices/$id"),
            @jo, '--wait-ms', 3500 or die;
        my $out = do { local $/; <$p> };
        close $p;
        my $pg = eval { decode_json($out) } || {};
        ok($pg->{ok}, "$jn: page.js ran") or diag $pg->{error};
        like($pg->{status} // '', qr/^Paid\. The download goes to the browser or script that created/, "$jn: says paid, not here");
        ok(!($pg->{fields}{download} && $pg->{fields}{download}{visible}), "$jn: no download link");
        ok(!($pg->{fields}{qr} && $pg->{fields}{qr}{visible}), "$jn: no QR");
        is_deeply($pg->{page_errors} // [], [], "$jn: no script error");
    }
    # an unpaid invoice's URL opened by someone else: not theirs to pay
    my $other = $t->new_invoice('/files/book.pdf');
    for my $js ([js => ()], [nojs => '--no-js']) {
        my ($jn, @jo) = @$js;
        open my $p, '-|', 'node', "$BcTest::ROOT/t/node/page.js",
            $t->url("/bitcache/invoices/$other->{id}"), @jo, '--wait-ms', 3500 or die;
        my $out = do { local $/; <$p> };
        close $p;
        my $pg = eval { decode_json($out) } || {};
        ok($pg->{ok}, "unpaid, $jn: page.js ran") or diag $pg->{error};
        like($pg->{status} // '', qr/^This invoice belongs to the browser or script that created it: do not pay it/,
             "unpaid, $jn: says it is not theirs to pay");
        unlike($pg->{body_text} // '', qr/\Q$other->{address}\E/, "unpaid, $jn: no address");
        ok(!($pg->{fields}{qr} && $pg->{fields}{qr}{visible}), "unpaid, $jn: no QR");
        is_deeply($pg->{page_errors} // [], [], "unpaid, $jn: no script error");
    }
}

$t->stop_nginx;
$t->check_log_clean;
done_testing;
