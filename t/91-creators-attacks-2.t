#!/usr/bin/perl
# Attacks on issue #12 (creators: pay what you want, tips, giveaways, the pay
# button), a second review: a Redis writer and reader on the giveaway's keys
# (free:, freeip:, tok: of the copies, the exhausted mark), a buyer on the
# amount's parser, another website (CSRF on /free and /invoices, CORS,
# cookies), anyone on the web on the products route and free claims. Each
# case asserts the safe outcome; a case that does not hold yet is a TODO
# that says what is open.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use JSON::PP;
use HTTP::Tiny;
use BcTest;
use IO::Socket::INET;

plan skip_all => 'module or tools not built (make all unit)'
    unless -f $BcTest::MODULE && -x $BcTest::CLI;

my $t = BcTest->new;
$t->start_redis;
my $listed = 'http://creator.example';
$t->make_file("$_", 2_000) for qw(deny/a.bin g/a.bin g/b.bin g/c.bin g/d.bin w/a.bin p/a.bin f/a.bin plain/x.bin t/a.bin);
my $site = BcTest::free_port();        # the creator's site: another origin
my $site_url = "http://127.0.0.1:$site";
$t->write_file('site/stolen.html', "<!DOCTYPE html><title>stolen</title><p>not the host's page</p>\n");
$t->start_nginx($t->selling_http(<<"LOC") . <<"SITE");
        bitcache_max_downloads 1;
        location /g/ { bitcache on; bitcache_price 5000; bitcache_free_first 2; }
        location /w/ { bitcache on; bitcache_price 5000; bitcache_free_first 5; bitcache_free_per_address 1h; }
        location /p/ { bitcache on; bitcache_price 5000; bitcache_suggested_price 12000; }
        location /f/ { bitcache on; bitcache_price 5000; }
        location /t/ { bitcache on; bitcache_price 5000; bitcache_free_first 1; bitcache_token_ttl 2s; }
        location /plain/ { }
        location /deny/ { deny all; bitcache on; bitcache_price 5000; bitcache_free_first 2; }
        location = /bitcache/products/plain/x.bin { return 200 "shadow"; }
        bitcache_cors_origins $listed;
        location /api2/ { bitcache_api; bitcache_api_url /api2; bitcache_cors_origins *; }
LOC
    server { listen 127.0.0.1:$site; root %%DIR%%/site; }
SITE

sub jdec { my $r = shift; return eval { decode_json($r->{content}) } || {} }

sub offer_of {
    my ($path) = @_;
    my $r = $t->get($path, Accept => 'application/json');
    return jdec($r)->{offer};
}

sub claim {
    my ($offer, %o) = @_;
    my $ua = HTTP::Tiny->new(timeout => 20, max_redirect => 0, keep_alive => 0);
    my %h = (%{ $o{headers} || {} });
    my $body;
    if ($o{form}) {
        $h{'Content-Type'} = 'application/x-www-form-urlencoded';
        $body = "offer=$offer";
    } else {
        $h{'Content-Type'} = 'application/json';
        $h{Accept} = 'application/json';
        $body = encode_json({ offer => $offer });
    }
    my $r = $ua->request('POST', $t->url('/bitcache/free'), { headers => \%h, content => $body });
    $r->{json} = jdec($r);
    return $r;
}

# ---- anyone on the web: free claims for files that do not exist -----------------
# Every URI under a giveaway's location gets a 402 with an offer, so every
# URI has a giveaway of its own: free:<uri> keys without a TTL, written by
# anyone, one per URI.
{
    my $r = $t->get('/g/nothing-here-1.bin', Accept => 'application/json');
    my $j = jdec($r);
    is($r->{status}, 402, 'a missing file under a giveaway: still a 402 (sold as before)');
    ok(!$j->{free_total}, '... but no giveaway in it');
    is(claim($j->{offer})->{status}, 400, '... its offer claims nothing (400 not_free)');
    is($t->redis('GET', 'bitcache:free:/g/nothing-here-1.bin'), undef, '... and leaves no free: key');
    $j = jdec($t->get('/bitcache/products/g/nothing-here-2.bin'));
    ok(!$j->{free_total}, 'described: no giveaway for a missing file either');
    $j = jdec($t->get('/g/', Accept => 'application/json'));
    ok(!$j->{free_total}, 'nor for the directory');
    $j = jdec($t->get('/g/a.bin', Accept => 'application/json'));
    is($j->{free_total}, 2, 'the file that is there has its giveaway');
}

# ---- anyone on the web: other spellings of one file, each a giveaway of its own -------
# With merge_slashes off, /g//a.bin opens the file of /g/a.bin but is another
# product (URI): one more giveaway of N per extra slash. (Symlinks and
# case-insensitive file systems are the operator's: "Links to one file".)
{
    my $t3 = BcTest->new;
    $t3->{redis_port} = $t->{redis_port};
    $t3->write_file('secret', do { local (@ARGV, $/) = $t->dir . '/secret'; <> }, 0600);
    $t3->make_file('s/a.bin', 2_000);
    $t3->start_nginx($t3->selling_http(<<"LOC"));
        merge_slashes off;
        location /s/ { bitcache on; bitcache_price 5000; bitcache_free_first 1; }
LOC
    my $j = jdec($t3->get('/s/a.bin', Accept => 'application/json'));
    is($j->{free_total}, 1, 'merge_slashes off: /s/a.bin has its giveaway');
    for my $p ('/s//a.bin', '/s/%2Fa.bin', '/s///a.bin', '//s/a.bin') {
        my $r = $t3->raw('GET', $p, undef, Accept => 'application/json');
        my $k = jdec($r);
        ok(!$k->{free_total}, "$p ($r->{status}, product " . ($k->{product} // '-') . '): no second giveaway');
    }
    $t3->stop_nginx;
}

# ---- another website: CSRF ------------------------------------------------------
my $og = offer_of('/g/a.bin');
for my $h ({ Origin => 'null' }, { Origin => 'http://127.0.0.1.evil.example' },
           { Origin => "http://127.0.0.1:$t->{http_port}.evil" }, { Origin => 'HTTP://evil.example' },
           { Origin => $listed }, { 'Sec-Fetch-Site' => 'Cross-Site' },
           { Origin => "https://127.0.0.1:$t->{http_port}", 'Sec-Fetch-Site' => 'cross-site' }) {
    my $r = claim($og, form => 1, headers => $h);
    is($r->{status}, 403, 'free claim from another site (' . join(' ', %$h) . '): 403');
}
is($t->redis('GET', 'bitcache:free:/g/a.bin'), undef, 'no cross-site claim counted a copy');

# POST /invoices from another site's form, with an amount it chose: the
# buyer would land on the host's own invoice page asking 100 times the
# price. Refused (403) unless bitcache_cors_origins lists the site (the
# creator's); the price alone stays open to any site (a shop's own form).
sub xpost {
    my ($offer, $body, %h) = @_;
    my $ua = HTTP::Tiny->new(timeout => 10, max_redirect => 0, keep_alive => 0);
    my $r = $ua->request('POST', $t->url('/bitcache/invoices'), {
        headers => { 'Content-Type' => 'application/x-www-form-urlencoded', %h },
        content => "offer=$offer$body" });
    return $r;
}
{
    my $op = offer_of('/p/a.bin');
    my $of = offer_of('/f/a.bin');
    my %evil = (Origin => 'http://evil.example', 'Sec-Fetch-Site' => 'cross-site');
    is(xpost($op, '&amount=1200000', %evil)->{status}, 403, 'cross-site form POST /invoices, amount=1200000: 403');
    is(xpost($of, '&tip=495000', %evil)->{status}, 403, 'cross-site form POST /invoices, tip=495000: 403');
    is(xpost($op, '&amount=custom&custom=600000', %evil)->{status}, 403, '... amount=custom: 403');
    is(xpost($op, '&amount=1200000', 'Sec-Fetch-Site' => 'cross-site')->{status}, 403,
       '... Sec-Fetch-Site: cross-site without Origin: 403');
    is(xpost($op, '&amount=1200000', Origin => 'null')->{status}, 403, '... Origin: null: 403');
    is(xpost($op, '&amount=1200000', Origin => "$listed.evil.example")->{status}, 403, '... a listed origin as a prefix: 403');
    my $r = xpost($op, '', %evil);
    is($r->{status}, 303, 'cross-site form POST /invoices at the price: 303 as before (a shop\'s own form)');
    is(xpost($op, '&amount=5000', %evil)->{status}, 303, '... amount=5000 (the price): 303');
    is(xpost($of, '&tip=0', %evil)->{status}, 303, '... tip=0: 303');
    is(xpost($op, '&amount=12000', Origin => $listed, 'Sec-Fetch-Site' => 'cross-site')->{status}, 303,
       'the listed creator\'s site chooses an amount: 303');
    is(xpost($op, '&amount=12000', Origin => "http://127.0.0.1:$t->{http_port}", 'Sec-Fetch-Site' => 'same-origin')->{status},
       303, 'the host\'s own page chooses an amount: 303');
    is(xpost($op, '&amount=12000')->{status}, 303, 'no Origin (curl, an old browser): 303');
    # bitcache_cors_origins * lets any site read descriptions, not choose amounts
    my $ua = HTTP::Tiny->new(timeout => 10, max_redirect => 0, keep_alive => 0);
    my $r2 = $ua->request('POST', $t->url('/api2/invoices'), {
        headers => { 'Content-Type' => 'application/x-www-form-urlencoded', %evil },
        content => "offer=$op&amount=1200000" });
    is($r2->{status}, 403, 'an API with bitcache_cors_origins *: a cross-site amount is still 403');
    $r2 = $ua->request('POST', $t->url('/api2/invoices'), {
        headers => { 'Content-Type' => 'application/x-www-form-urlencoded', Origin => $listed },
        content => "offer=$op&amount=12000" });
    is($r2->{status}, 403, '... from any origin, where only * is listed: 403');
    $r2 = $ua->request('POST', $t->url('/api2/invoices'), {
        headers => { 'Content-Type' => 'application/x-www-form-urlencoded', %evil },
        content => "offer=$op" });
    is($r2->{status}, 303, '... at the price: 303');
}

# ---- a buyer: the amount's parser -------------------------------------------------
{
    my $op = offer_of('/p/a.bin');
    my $of = offer_of('/f/a.bin');
    my @low = (
        [amount => '04999'], [amount => '4999'], [amount => ' 5000'], [amount => '+5000'],
        [amount => '5e3'], [amount => '0x1388'], [amount => '-5000'], [amount => '4999.9'],
        [amount => '0.00005'], [amount => '18446744073709551616'], [amount => '18446744073709551615'],
        [tip => '18446744073709546616'], [tip => '18446744073709551615'], [tip => '-1'],
        [amount => 'custom', custom => '4999'], [amount => 'custom', custom => ''],
        [amount => '5000', tip => '0'], [amount => '%35%30%30%30'],
    );
    for my $f (@low) {
        for my $o ($op, $of) {
            my $r = $t->post_invoice($o, form => $f);
            my $amt = $r->{json}{amount_sats};
            ok($r->{status} == 400 || ($r->{status} == 201 && $amt >= 5000 && $amt <= 1_200_000),
               "amount form @$f: refused or at least the price (got $r->{status}"
               . ($amt ? " amount $amt" : '') . ')');
        }
    }
    # duplicates: the first and the last of each
    for my $f ([amount => 1, amount => 6000], [amount => 6000, amount => 1], [tip => 1, tip => -5000],
               [amount => 'custom', custom => 6000, custom => 1]) {
        my $r = $t->post_invoice($op, form => $f);
        my $amt = $r->{json}{amount_sats} // 0;
        ok($r->{status} == 400 || $amt >= 5000, "duplicate fields @$f: never below the price ($r->{status} $amt)");
    }
    # JSON forms
    for my $body ('{"offer":"%O","amount":4999}', '{"offer":"%O","amount":"4999"}',
                  '{"offer":"%O","amount":4999.99}', '{"offer":"%O","amount":-1}',
                  '{"offer":"%O","amount":1e9}', '{"offer":"%O","tip":-4999}',
                  '{"offer":"%O","amount":6000,"amount":1}', '{"offer":"%O","amount":1,"amount":6000}',
                  '{"offer":"%O","am\u006funt":1}', '{"offer":"%O","amount":null}',
                  '{"offer":"%O","amount":[1]}', '{"offer":"%O","amount":{"a":1}}',
                  '{"offer":"%O","x":{"amount":1},"amount":6000}', '{"offer":"%O","amount":true}') {
        (my $b = $body) =~ s/%O/$op/;
        my $ua = HTTP::Tiny->new(timeout => 10, max_redirect => 0, keep_alive => 0);
        my $r = $ua->request('POST', $t->url('/bitcache/invoices'), {
            headers => { 'Content-Type' => 'application/json', Accept => 'application/json' }, content => $b });
        my $amt = jdec($r)->{amount_sats} // 0;
        (my $show = $body) =~ s/"offer":"%O",//;
        ok($r->{status} == 400 || ($r->{status} == 201 && $amt >= 5000),
           "JSON $show: refused or at least the price ($r->{status} $amt)");
    }
}

# ---- a Redis writer: the giveaway's counter ----------------------------------------
# values that are not a count: no copy, 503 (never a copy past N)
for my $v ('-1', ' 1', '1 ', '0001', '1e0', '', '0x1', "1\n", '999999999999999', '9999999999999999') {
    $t->redis('SET', 'bitcache:free:/g/b.bin', $v);
    my $r = claim(offer_of('/g/b.bin'));
    ok($r->{status} != 201 || ($r->{json}{copy} >= 1 && $r->{json}{copy} <= 2),
       "free:<product> = '" . ($v =~ s/\n/\\n/r) . "': no copy past N (got $r->{status})");
    my $j = jdec($t->get('/g/b.bin', Accept => 'application/json'));
    ok(!defined $j->{free_left} || ($j->{free_left} >= 0 && $j->{free_left} <= 2),
       "... the 402's free_left stays within 0..2 (" . ($j->{free_left} // 'null') . ')');
}
$t->redis('DEL', 'bitcache:free:/g/b.bin');
# a count set at or above N once leaves this host's exhausted mark: the
# giveaway stays closed here after the writer's value is gone (denial only,
# which a Redis writer has anyway; it ends with a restart or a larger N)
is(claim(offer_of('/g/b.bin'))->{status}, 410, 'free: forged high once, then deleted: 410 on this host (denial only)');
# of another type
$t->redis('HSET', 'bitcache:free:/g/c.bin', 'x', '1');
is(claim(offer_of('/g/c.bin'))->{status}, 503, 'free:<product> a hash: 503, no copy');
$t->redis('DEL', 'bitcache:free:/g/c.bin');

# copies 1 and 2 given; counter deleted: refused as a rollback
my @tok;
for (1 .. 2) {
    my $r = claim(offer_of('/g/c.bin'));
    is($r->{status}, 201, "copy $_ of /g/c.bin given");
    push @tok, $r->{json}{token};
}
is(claim(offer_of('/g/c.bin'))->{status}, 410, 'the third: 410');
$t->redis('DEL', 'bitcache:free:/g/c.bin');
is(claim(offer_of('/g/c.bin'))->{status}, 410, 'counter deleted: 410 (this host saw it run out)');

# ---- the copy's token is an ordinary token: one download -------------------------
{
    my $r = $t->get("/g/c.bin?bitcache_token=$tok[0]");
    is($r->{status}, 200, 'copy 1 downloads');
    is(length $r->{content}, 2000, '... the whole file');
    is($t->get("/g/c.bin?bitcache_token=$tok[0]")->{status}, 402, '... once (max_downloads 1)');
    is($t->get("/g/d.bin?bitcache_token=$tok[1]")->{status}, 402, 'a copy of c.bin does not open d.bin');
}

# ---- a Redis writer: copies' records expired (or deleted) + counter set back -------
{
    my $r = claim(offer_of('/t/a.bin'));
    is($r->{status}, 201, '/t/a.bin: the one free copy');
    # a second nginx never saw it run out (the mark lives in one host's memory)
    is(claim(offer_of('/t/a.bin'))->{status}, 410, '... then 410');
    sleep 3;        # the copy's token record expired (token_ttl 2s)
    $t->redis('DEL', 'bitcache:free:/t/a.bin');
    is(claim(offer_of('/t/a.bin'))->{status}, 410,
       'record expired, counter deleted: still 410 on the host that saw it run out');
}

# ---- a Redis reader: what the giveaway keys tell -----------------------------------
{
    my $r = claim(offer_of('/w/a.bin'));
    is($r->{status}, 201, '/w/a.bin: a copy for 127.0.0.1');
    is(claim(offer_of('/w/a.bin'))->{status}, 429, '... not a second one from 127.0.0.1');
    my @keys = grep { /freeip/ } split /\n/, join "\n", @{ $t->redis('KEYS', '*') || [] };
    is(scalar @keys, 1, 'one freeip: key');
    unlike(join(' ', @keys, map { $t->redis('GET', $_) // '' } @keys), qr/127|7f000001|7F000001/,
           'the freeip: key and value do not hold the address');
    cmp_ok($t->redis('TTL', $keys[0]), '<=', 3600, '... and it expires with the window');
    my $id = unpack 'H*', substr(do { my $x = $r->{json}{token}; $x =~ tr/-_/+\//; require MIME::Base64;
                                      MIME::Base64::decode_base64($x . '=' x (-length($x) % 4)) }, 2, 16);
    my %rec = @{ $t->redis('HGETALL', "bitcache:tok:$id") || [] };
    ok(!grep({ /127\.0\.0\.1/ } %rec), "the copy's token record holds no address");
}

# ---- the products route ------------------------------------------------------------
{
    my $r = $t->get('/bitcache/products/plain/x.bin', Origin => $listed);
    ok($r->{status} != 200 || $r->{content} ne 'x' x 0 && $r->{content} !~ /^\0/,
       "an exact location over the products route answers its own thing ($r->{status})");
    for my $p ('/bitcache/products/g%2Fa.bin', '/bitcache/products/g/a.bin%00',
               '/bitcache/products/g/./a.bin', '/bitcache/products/g/%2e%2e/f/a.bin',
               '/bitcache/products//g/a.bin', '/bitcache/products/g/a.bin%3Fbitcache_token=x',
               '/bitcache/products/plain/x.bin', '/bitcache/products/bitcache/free',
               '/bitcache/products/' . ('a/' x 3000) . 'x') {
        my $r = $t->get($p, Origin => $listed);
        my $file = $r->{content} =~ /^[\x00-\xff]{2000}\z/ && $r->{content} !~ /[{"]/;
        ok(!$file && $r->{status} != 500, "GET $p: no file, no 500 ($r->{status})");
    }
}

# ---- a node that lies: received beyond any bitcoin, in bitcache sales ---------------
# The watcher attests what the node says it received (settle.c saturates at
# 2^64-1); two such sales must not wrap the creator's tips around to a
# small number in `bitcache sales`.
{
    my (undef, $xonly) = $t->watcher_key;
    my @S = ('--redis', $t->redis_addr, '--secret', $t->dir . '/secret', '--watcher-key', $xonly,
             '--product', '/p/a.bin', '--format', 'json');
    my @ids;
    for my $rcv ('18446744073709551615', '18446744073709551615', '7000') {
        my $inv = $t->new_invoice('/p/a.bin');
        $t->pay_invoice($inv->{id}, $rcv, 1);
        $t->redis('COPY', "bitcache:inv:$inv->{id}", "bitcache:sold:$inv->{id}");
        push @ids, $inv->{id};
    }
    my ($rc, $out, $err) = $t->cli('sales', @S);
    is($rc, 0, 'sales with a lying node\'s received: exit 0') or diag $err;
    my $j = eval { decode_json($out) } || {};
    my $tips = $j->{total}{tips_sats} // 0;
    my $paid = $j->{total}{paid_sats} // 0;
    cmp_ok($paid, '>=', $tips, "paid ($paid) is never below tips ($tips)");
    ok($tips <= 2_100_000_000_000_000 || $tips == 0,
       "tips ($tips) never beyond 21 million BTC, never wrapped");
    like(join("\n", @{ $j->{skipped} || [] }), qr/sold:$ids[0]: .*received/,
         'a sale that received more than 21 million BTC is skipped and named');
    is($j->{total}{count}, 1, 'the honest sale is counted');
    is($tips, 2000, '... with its 2000 sats of tips');
}

# ---- another website: what the free claim and invoices answer it -------------------
{
    # a form claim's answer: the token only in an HttpOnly cookie, never CORS
    my $ua = HTTP::Tiny->new(timeout => 10, max_redirect => 0, keep_alive => 0);
    my $r = $ua->request('POST', $t->url('/bitcache/free'), {
        headers => { 'Content-Type' => 'application/x-www-form-urlencoded' },
        content => 'offer=' . offer_of('/w/a.bin') });
    # /w/ already gave 127.0.0.1 its copy: 429; claim /g/b.bin's instead
    $r = $ua->request('POST', $t->url('/bitcache/free'), {
        headers => { 'Content-Type' => 'application/x-www-form-urlencoded',
                     Origin => "http://127.0.0.1:$t->{http_port}", 'Sec-Fetch-Site' => 'same-origin' },
        content => 'offer=' . offer_of('/g/d.bin') });
    is($r->{status}, 303, 'a same-origin form claim: 303');
    my $cookie = $r->{headers}{'set-cookie'} // '';
    $cookie = join ' | ', @$cookie if ref $cookie;
    like($cookie, qr/bitcache_token=[^;]+;.*HttpOnly/i, '... the token in an HttpOnly cookie');
    like($cookie, qr/SameSite=(Lax|Strict)/i, '... SameSite');
    like($cookie, qr{Path=/g/d\.bin}, '... for the file\'s path only');
    unlike($r->{headers}{location} // '', qr/token/, '... the Location holds no token');
    ok(!exists $r->{headers}{'access-control-allow-origin'}, '... no CORS header');
    for my $route ('/bitcache/free', '/bitcache/invoices') {
        my $o = $t->raw('OPTIONS', $route, undef, Origin => $listed,
                        'Access-Control-Request-Method' => 'POST',
                        'Access-Control-Request-Headers' => 'content-type');
        ok($o->{status} >= 400, "preflight of POST $route from the listed origin: refused ($o->{status})");
        ok(!grep({ /^access-control-/ } keys %{ $o->{headers} }), '... no Access-Control-* header');
    }
    my $j = $t->raw('POST', '/bitcache/free', encode_json({ offer => offer_of('/g/a.bin') }),
                    Origin => $listed, 'Content-Type' => 'text/plain', Accept => 'application/json');
    is($j->{status}, 403, 'a listed origin\'s fetch of POST /free (text/plain, no preflight): 403');
    ok(!exists $j->{headers}{'access-control-allow-origin'}, '... unreadable: no CORS header');
    my $iv = $t->raw('POST', '/bitcache/invoices', encode_json({ offer => offer_of('/f/a.bin') }),
                     Origin => $listed, 'Content-Type' => 'text/plain', Accept => 'application/json');
    ok(!exists $iv->{headers}{'access-control-allow-origin'},
       "a listed origin's POST /invoices ($iv->{status}): no CORS header, its claim unreadable");
    my $p = $t->raw('GET', '/g/a.bin', undef, Origin => $listed);
    ok(!exists $p->{headers}{'access-control-allow-origin'}, 'the 402 page: no CORS header for a listed origin');
    # popups: the page the button opens is cut from the opener's browsing
    # context group, so the creator's page (or any opener) keeps no handle
    # that could navigate it (window.open('', 'bitcache') finds it by name)
    is(($p->{headers}{'cross-origin-opener-policy'} || [])->[0], 'same-origin',
       'the 402 page: Cross-Origin-Opener-Policy: same-origin');
    like(($p->{headers}{'content-security-policy'} || [])->[0] // '', qr/frame-ancestors 'none'/, '... and no framing');
    my $inv = $t->new_invoice('/f/a.bin');
    my $st = $t->raw('GET', "/bitcache/invoices/$inv->{id}", undef);
    is(($st->{headers}{'cross-origin-opener-policy'} || [])->[0], 'same-origin', 'the invoice page too');
}

# ---- a buyer: the per-address window ----------------------------------------------
{
    for my $h ({ 'X-Forwarded-For' => '10.1.2.3' }, { 'X-Real-IP' => '10.9.9.9' }, { Forwarded => 'for=10.3.3.3' }) {
        is(claim(offer_of('/w/a.bin'), headers => $h)->{status}, 429,
           'a second copy with ' . join(' ', %$h) . ' (no real_ip): 429');
    }
    # an offer of another product does not carry /w/'s window over
    my $og2 = offer_of('/g/a.bin');
    is(claim($og2)->{status}, 201, '/g/a.bin: its own giveaway (no window)');
}

# ---- a Redis writer: the per-address key, the copy records -------------------------
{
    my @keys = grep { /freeip/ } @{ $t->redis('KEYS', 'bitcache:freeip:*') || [] };
    $t->redis('SET', $keys[0], '1', 'EX', '1');   # a shorter window: 1 s
    sleep 2;
    my $r = claim(offer_of('/w/a.bin'));
    is($r->{status}, 201, 'a writer who shortens freeip: lifts the window (known: only the window, never N)');
    # the count: copies given are numbered and never above N
    $t->redis('SET', 'bitcache:free:/w/a.bin', '5');
    is(claim(offer_of('/w/a.bin'), local => '127.0.0.2')->{status}, 410, 'counter at N: 410 whatever the window');
}

# ---- a Redis writer: copies' records deleted and the counter set back, on a host
# that never saw the giveaway run out (what remains, docs/security.md) ------------------
{
    my $t2 = BcTest->new;
    $t2->{redis_port} = $t->{redis_port};
    $t2->write_file('secret', do { local (@ARGV, $/) = $t->dir . '/secret'; <> }, 0600);
    $t2->make_file('t/a.bin', 2_000);
    $t2->start_nginx($t2->selling_http(<<"LOC"));
        location /t/ { bitcache on; bitcache_price 5000; bitcache_free_first 1; bitcache_token_ttl 2s; }
LOC
    my $o2 = jdec($t2->get('/t/a.bin', Accept => 'application/json'))->{offer};
    # host 2 shows the page while the copy is given: it has seen the giveaway run out
    $t->redis('SET', 'bitcache:free:/t/a.bin', '1');
    is(jdec($t2->get('/t/a.bin', Accept => 'application/json'))->{free_left}, 0, 'host 2 shows 0 free copies left');
    $t->redis('DEL', 'bitcache:free:/t/a.bin');
    is(claim_on($t2, $o2)->{status}, 410,
       'host 2, which only showed the giveaway run out: counter set back after the copy expired: 410');
    is(jdec($t2->get('/t/a.bin', Accept => 'application/json'))->{free_left}, 0, '... and shows none left');
    $t->redis('DEL', 'bitcache:free:/t/a.bin');
    $t->make_file('t/b.bin', 2_000); $t2->make_file('t/b.bin', 2_000);
    $o2 = jdec($t2->get('/t/b.bin', Accept => 'application/json'))->{offer};   # before it ran out
    is(claim(offer_of('/t/b.bin'))->{status}, 201, '/t/b.bin: its copy, on host 1');
    $t->redis('DEL', 'bitcache:free:/t/b.bin');
    sleep 3;
    {
        local $TODO = 'known (docs/security.md, what remains): a copy\'s record expired or deleted and the '
                    . 'counter set back, a host that never saw the giveaway run out gives the copy again';
        isnt(claim_on($t2, $o2)->{status}, 201, 'host 2: counter set back after the copy\'s record expired: no copy');
    }
    $t2->stop_nginx;
}

sub claim_on {
    my ($host, $offer) = @_;
    my $ua = HTTP::Tiny->new(timeout => 20, max_redirect => 0, keep_alive => 0);
    return $ua->request('POST', $host->url('/bitcache/free'), {
        headers => { 'Content-Type' => 'application/json', Accept => 'application/json' },
        content => encode_json({ offer => $offer }) });
}

# ---- the products route: headers and methods ----------------------------------------
{
    my $r = $t->raw('GET', '/bitcache/products/g/a.bin', undef, Range => 'bytes=0-10', 'If-None-Match' => '*',
                    'If-Modified-Since' => 'Mon, 01 Jan 2035 00:00:00 GMT', Cookie => 'bitcache_token=x',
                    Authorization => 'Basic eDp5', Origin => $listed);
    is($r->{status}, 200, 'products route with Range, If-*, Cookie, Authorization: 200 (a description)');
    like($r->{content}, qr/^\{"product"/, '... JSON, not the file');
    is(($r->{headers}{'access-control-allow-origin'} || [])->[0], $listed, '... CORS for the listed origin');
    ok(!exists $r->{headers}{'access-control-allow-credentials'}, '... never with credentials');
    for my $m ('PUT', 'DELETE', 'POST', 'PATCH') {
        my $x = $t->raw($m, '/bitcache/products/g/a.bin', '', Origin => $listed);
        ok($x->{status} >= 400 && $x->{content} !~ /"offer"/, "$m on the products route: $x->{status}, no description");
    }
    my $h = $t->raw('HEAD', '/bitcache/products/g/a.bin', undef, Origin => $listed);
    is($h->{status}, 200, 'HEAD: 200');
    is($h->{content}, '', '... no body');
    # HTTP/1.0 and pipelining
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $t->{http_port}, Timeout => 10);
    print $s "GET /bitcache/products/g/a.bin HTTP/1.1\r\nHost: x\r\n\r\n"
           . "GET /g/a.bin HTTP/1.1\r\nHost: x\r\n\r\n"
           . "GET /bitcache/products/g/a.bin HTTP/1.0\r\n\r\n";
    local $/;
    my $all = <$s> // '';
    my @st = $all =~ m{^HTTP/1\.\d (\d{3})}mg;
    is("@st", '200 402 200', 'pipelined: description, 402, description (HTTP/1.0 too)');
    unlike($all, qr/\0{100}/, '... no file bytes');
}

# ---- a Redis writer and the CLI: product show / list / sales print what they read ----
{
    my ($R, $S) = ($t->redis_addr, $t->dir . '/secret');
    my ($rc, $out, $err) = $t->cli('product', 'set', '--redis', $R, '--secret', $S, '--price', '5000',
                                   '--suggested', '9000', '--free-first', '3', '--title', 'Song', '/p/a.bin');
    is($rc, 0, 'product set with --suggested and --free-first') or diag $err;
    my $good = jdec($t->get('/p/a.bin', Accept => 'application/json'));
    is_deeply([@$good{qw(suggested_sats free_total)}], [9000, 3], 'the module sells by the record (suggested 9000, 3 free)');
    $t->redis('HSET', 'bitcache:prod:/p/a.bin', 'title', "X\e]0;owned\a\e[2J", 'free', '1000000');
    $t->redis('SET', 'bitcache:free:/p/a.bin', "1\e[31mred\n");
    ($rc, $out, $err) = $t->cli('product', 'show', '--redis', $R, '--secret', $S, '/p/a.bin');
    unlike($out . $err, qr/[\e\a]/, 'product show: no escape sequence from Redis reaches the terminal');
    like($out, qr/MAC BAD|malformed/, '... the forged record is named');
    like($out, qr/not a count/, '... the forged counter is named');
    ($rc, $out, $err) = $t->cli('product', 'list', '--redis', $R, '--secret', $S);
    unlike($out . $err, qr/[\e\a]/, 'product list: no escape sequence');
    like($out, qr/free first 1000000[^\n]*BAD MAC/, '... the forged giveaway shown with BAD MAC');
    my $j = jdec($t->get('/p/a.bin', Accept => 'application/json'));
    ok(!$j->{free_total} && !$j->{offer}, 'the module, which read the good record: the forged one sells nothing, gives nothing')
        or diag explain $j;
    is($t->get('/p/a.bin')->{status}, 503, '... 503');
    $t->redis('DEL', 'bitcache:prod:/p/a.bin', 'bitcache:free:/p/a.bin');
    # SCRIPT FLUSH: the scripts are sent whole (EVAL), nothing to lose
    $t->redis('SCRIPT', 'FLUSH');
    $t->make_file('g/e.bin', 2_000);
    is(claim(offer_of('/g/e.bin'))->{status}, 201, 'after SCRIPT FLUSH a claim still works');
    # a writer who creates the next copy's record first burns that copy (denial only)
    my $sec = $t->secret_hex;
    chomp(my $id2 = `$BcTest::TOOLS/giveaway_tool token $sec /g/e.bin 2`);
    like($id2, qr/^[0-9a-f]{32}\z/, 'copy 2 of /g/e.bin: its token id');
    $t->redis('HSET', "bitcache:tok:$id2", 'uses', '0', 'product', '/g/e.bin', 'expires', time + 3600);
    my $r = claim(offer_of('/g/e.bin'));
    is($r->{status}, 503, 'a token record made ahead for copy 2: 503 (the writer spends a copy: denial only)');
    unlike($r->{content}, qr/"token"/, '... no token given');
    is(claim(offer_of('/g/e.bin'))->{status}, 410, '... then none left (copy 2 is not given to anyone)');
}

# ---- HTTP/2: 20 free claims as streams of one connection, the products route ---------
{
    my $t4 = BcTest->new;
    $t4->{redis_port} = $t->{redis_port};
    $t4->write_file('secret', do { local (@ARGV, $/) = $t->dir . '/secret'; <> }, 0600);
    $t4->make_file('h/a.bin', 2_000);
    my $http = $t4->selling_http(<<"LOC");
        location /h/ { bitcache on; bitcache_price 5000; bitcache_free_first 3; }
        bitcache_cors_origins $listed;
LOC
    $http =~ s/listen 127\.0\.0\.1:%%PORT%%;/listen 127.0.0.1:%%PORT%% http2;/ or die;
    $t4->start_nginx($http, workers => 2);
    my $base = "http://127.0.0.1:$t4->{http_port}";
    my $j = decode_json(`curl -s --http2-prior-knowledge -H 'Accept: application/json' $base/h/a.bin` || '{}');
    my $o = $j->{offer} // '';
    # node's http2: 20 POST streams on one connection, all at once
    my $js = <<'JS';
const http2 = require('http2');
const [port, body] = process.argv.slice(2);
const s = http2.connect(`http://127.0.0.1:${port}`);
s.on('error', () => {});
const codes = new Array(20).fill(0);
let left = 20;
for (let i = 0; i < 20; i++) {
  const st = s.request({ ':method': 'POST', ':path': '/bitcache/free',
                         'content-type': 'application/x-www-form-urlencoded' });
  st.on('response', (h) => { codes[i] = h[':status']; });
  st.on('data', () => {}); st.on('error', () => {});
  st.on('close', () => { if (--left === 0) { console.log(codes.join(' ')); s.close(); } });
  st.end(body);
}
JS
    my $jsf = $t4->write_file('h2-claims.js', $js);
    my @codes = split ' ', `node $jsf $t4->{http_port} 'offer=$o'`;
    is(scalar @codes, 20, 'HTTP/2: 20 claims answered');
    is(scalar(grep { $_ eq '303' } @codes), 3, "HTTP/2: exactly 3 copies (@codes)");
    is(scalar(grep { $_ eq '410' } @codes), 17, '... the others 410');
    my $d = `curl -s --http2-prior-knowledge -D - -H 'Origin: $listed' $base/bitcache/products/h/a.bin`;
    like($d, qr{^HTTP/2 200}m, 'HTTP/2: the products route: 200');
    like($d, qr{^access-control-allow-origin: \Q$listed\E\r?$}mi, '... with CORS for the listed origin');
    unlike($d, qr/\0{64}/, '... no file');
    $t4->stop_nginx;
}

# ---- another website: the popup by name ---------------------------------------------
# The creator's page clicks the button, then asks for the window named
# "bitcache" to send it to a page of its own: the host's page, cut from
# its opener (Cross-Origin-Opener-Policy), is not found; a new window opens.
SKIP: {
    skip 'no node/chromium', 5 unless `node -v 2>/dev/null` =~ /^v\d/ && -x ($ENV{CHROMIUM} || '/usr/bin/chromium');
    my $host = "http://127.0.0.1:$t->{http_port}";
    $t->write_file('site/index.html', <<"HTML");
<!DOCTYPE html><html><head><meta charset="utf-8"><title>creator</title></head><body>
<a class="bitcache-button" href="$host/f/a.bin">Buy</a>
<script src="$host/bitcache/button.js" async></script></body></html>
HTML
    open my $p, '-|', 'node', "$BcTest::ROOT/t/node/button-page.js", "$site_url/index.html",
         '--allow', $host, '--click', '--steal', '--timeout', 30000 or die;
    my $res = eval { decode_json(do { local $/; <$p> }) } || {};
    close $p;
    diag("button-page.js: " . ($res->{error} // 'no output')) unless $res->{ok};
    like($res->{popup}{url} // '', qr{^\Q$host\E/f/a\.bin}, 'the click opened the host\'s 402 page in a popup');
    like($res->{steal}{popup_url} // '', qr{^\Q$host\E/f/a\.bin}, 'the creator\'s page asked for it by name: it stays on the host\'s page');
    is($res->{steal}{pages}, 3, '... a new window opened instead (the creator\'s, the popup, the new one)');
    # without the button: a page that opens the host's page itself and keeps the handle
    ok($res->{steal}{handle_closed}, 'a window.open of the host\'s page: the opener\'s handle is cut (closed)');
    like($res->{steal}{own_url} // '', qr{^\Q$host\E/f/a\.bin}, '... it cannot send the window elsewhere');
}

# ---- anyone on the web: a location nginx denies (deny all, auth_basic) ----------------
# The module's access handler answers before nginx's access module: the 402
# (as before #12), the description, and free claims that spend copies of a
# file nobody outside may download.
{
    my $j = jdec($t->get('/deny/a.bin', Accept => 'application/json'));
    my $d = $t->get('/bitcache/products/deny/a.bin');
    my $c = $j->{offer} ? claim($j->{offer}) : { status => 0, json => {} };
    is($t->get("/deny/a.bin?bitcache_token=" . ($c->{json}{token} // 'x'))->{status}, 403,
       'deny all: a copy claimed from outside still downloads nothing (403)');
    local $TODO = 'a location nginx denies (deny all / allow, auth_basic): its 402, description and '
                . 'giveaway answer anyone, who can spend its free copies (denial only, the file stays denied)';
    isnt($d->{status}, 200, "deny all: the products route does not describe it ($d->{status})");
    isnt($c->{status}, 201, "deny all: no free copy claimed from outside ($c->{status})");
}

{
    my $log = $t->error_log;
    ok(!grep({ index($log, $_) >= 0 } grep { defined && length } @tok), 'a log reader: no free copy\'s token in error.log');
    unlike($log, qr/bitcache_token=[A-Za-z0-9_-]{20}/, '... nor any token in a URL');
}
$t->check_log_clean;
unlike($t->error_log, qr/\[crit\]|segfault|signal \d+/, 'no crit, no worker crash in error.log');
done_testing;
