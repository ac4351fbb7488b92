#!/usr/bin/perl
# The pay button for any website (docs/creators.md): GET/HEAD
# <api>/products/<path> describes what a file's location sells (never the
# file, never for an outside ?bitcache_describe=1), the CORS headers and
# the preflight by bitcache_cors_origins, <api>/button.js; then in headless
# Chromium (t/node/button-page.js) a creator's page on a second origin with
# the snippet: a listed origin shows the title, price and free copies left
# and opens the 402 page in a popup; an unlisted origin keeps the link's
# text and still opens it; without JavaScript the link goes to the 402
# page. Screenshots go to t/artifacts/88-*.png.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use JSON::PP;
use BcTest;

my $root = $BcTest::ROOT;
my $art = "$root/t/artifacts";

plan skip_all => 'module or tools not built (make all unit)'
    unless -f $BcTest::MODULE && -x $BcTest::CLI && -x "$BcTest::TOOLS/pay_invoice";

my $t = BcTest->new;
$t->start_redis;
my (undef, $xonly) = $t->watcher_key;
my $site = BcTest::free_port();     # the creator's site: listed
my $other = BcTest::free_port();    # another site: not listed
$t->{http_port} = BcTest::free_port();
my $host = "http://127.0.0.1:$t->{http_port}";
my $listed = "http://127.0.0.1:$site";
my $unlisted = "http://127.0.0.1:$other";

my $film = $t->make_file('films/night.bin', 30_000);
my $short = $t->make_file('films/short.bin', 5_000);
$t->write_file('html/films/index.html', 'an index page');
my $plain = $t->make_file('plain/readme.txt', 2_000);
$t->make_file('secret/hidden.bin', 1_000);
$t->make_file('nosale/x.bin', 1_000);
$t->make_file('gift/song.bin', 3_000);
$t->make_file('pwyw/tune.bin', 2_000);

my $snippet = <<"HTML";
<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>A creator's site</title>
<style>body{font:16px sans-serif;margin:2em}
a.bitcache-button{display:inline-block;padding:.6em 1em;background:#f7931a;color:#fff;
border-radius:6px;text-decoration:none;margin:.3em 0}</style></head>
<body><h1>My films</h1>
<p><a class="bitcache-button" href="$host/films/night.bin">Buy "Night" with bitcoin</a></p>
<p><a class="bitcache-button" href="$host/gift/song.bin">Get the song</a></p>
<p><a class="bitcache-button" href="$host/pwyw/tune.bin">Pay what you want</a></p>
<script src="$host/bitcache/button.js" async></script>
</body></html>
HTML
$t->write_file('site/index.html', $snippet);
# the page of conf.example, as it is, with this host for shop.example
$t->make_file('films/alice/night.mp4', 4_000);
my $alice = do { local (@ARGV, $/) = "$root/conf.example/creator-site/index.html"; <> };
$alice =~ s{https://shop\.example}{$host}g;
$t->write_file('site/alice.html', $alice);

$t->start_nginx(<<"CONF");
    bitcache_redis %%REDIS%% timeout=2s;
    server {
        listen 127.0.0.1:%%PORT%%;
        root %%DIR%%/html;
        bitcache_secret %%DIR%%/secret;
        bitcache_network regtest;
        bitcache_watcher_key $xonly;
        bitcache_wallet "$BcTest::TEST_WALLET";
        bitcache_token_ttl 1h;
        location /films/ { bitcache on; bitcache_price 12345; index index.html; }
        location /gift/ { bitcache on; bitcache_price 3000; bitcache_free_first 3; }
        location /secret/ { internal; bitcache on; bitcache_price 1000; }
        location /nosale/ { bitcache on; }
        location /pwyw/ { bitcache on; bitcache_price 1000; bitcache_suggested_price 4000; }
        location /plain/ { }
        location /bitcache/ {
            bitcache_api;
            bitcache_cors_origins $listed https://shop.example:8443;
        }
    }
    server {
        listen 127.0.0.1:$site;
        root %%DIR%%/site;
    }
    server {
        listen 127.0.0.1:$other;
        root %%DIR%%/site;
    }
CONF

my ($rc, undef, $err) = $t->cli('product', 'set', '/films/night.bin', '--price', '5000',
                                '--title', 'Night <b>', '--secret', $t->dir . '/secret',
                                '--redis', $t->redis_addr);
is($rc, 0, 'catalog record for /films/night.bin (price 5000, a title)') or diag $err;

sub hdr { my ($r, $name) = @_; my $v = $r->{headers}{lc $name}; $v ? join(', ', @$v) : undef }
sub json_of { my ($r) = @_; eval { decode_json($r->{content}) } || {} }
sub no_acx {
    my ($r, $what) = @_;
    ok(!grep({ /^access-control-/ } keys %{ $r->{headers} }), "$what: no Access-Control-* header")
        or diag $r->{head};
}

# --- describe ----------------------------------------------------------------

my $r = $t->raw('GET', '/bitcache/products/films/night.bin', undef, Origin => $listed,
                Accept => 'application/json');
is($r->{status}, 200, 'describe: 200');
my $j = json_of($r);
is($j->{product}, '/films/night.bin', 'describe: product');
is($j->{title}, 'Night <b>', 'describe: the catalog\'s title');
is($j->{price_sats}, 5000, 'describe: the catalog\'s price');
is($j->{price_btc}, '0.00005', 'describe: price in BTC');
is($j->{url}, '/films/night.bin', 'describe: url');
is($j->{network}, 'regtest', 'describe: network');
is($j->{invoices_url}, '/bitcache/invoices', 'describe: invoices_url');
is($j->{free_total}, 0, 'describe: no giveaway');
ok(!exists $j->{free_url}, 'describe: no free_url without a giveaway');
is($j->{suggested_sats}, 0, 'describe: no suggested price');
like($j->{offer} // '', qr/^[A-Za-z0-9_-]+$/, 'describe: an offer');
unlike($r->{content}, qr/<b>/, 'describe: < and > escaped in the JSON');
is(hdr($r, 'Access-Control-Allow-Origin'), $listed, 'listed Origin: Access-Control-Allow-Origin');
like(hdr($r, 'Vary') // '', qr/\bOrigin\b/, 'Vary: Origin');
is(hdr($r, 'Cache-Control'), 'no-store', 'Cache-Control: no-store');
ok(!defined hdr($r, 'Access-Control-Allow-Credentials'), 'never Access-Control-Allow-Credentials');
is(hdr($r, 'Content-Type'), 'application/json', 'application/json');
ok(index($r->{content}, substr($film, 0, 64)) < 0 && length($r->{content}) < 4000,
   'describe: none of the file');

# the offer is the module's: it buys an invoice at the catalog's price
my $ua = HTTP::Tiny->new(timeout => 10, max_redirect => 0);
my $inv = $ua->request('POST', $t->url('/bitcache/invoices'), {
    headers => { 'Content-Type' => 'application/json', Accept => 'application/json' },
    content => encode_json({ offer => $j->{offer} }) });
is($inv->{status}, 201, 'the described offer makes an invoice');
my $ij = eval { decode_json($inv->{content}) } || {};
is($ij->{amount_sats} // $ij->{price_sats} // $ij->{amount}, 5000, 'at the catalog\'s price')
    or diag $inv->{content};

$r = $t->raw('HEAD', '/bitcache/products/films/night.bin', undef, Origin => $listed);
is($r->{status}, 200, 'HEAD: 200');
is($r->{content}, '', 'HEAD: no body');
is(hdr($r, 'Access-Control-Allow-Origin'), $listed, 'HEAD: Access-Control-Allow-Origin');

$r = $t->raw('GET', '/bitcache/products/films/night%2Ebin', undef, Origin => 'https://shop.example:8443');
is($r->{status}, 200, 'a percent-encoded path: 200');
is(json_of($r)->{product}, '/films/night.bin', '... the decoded path');
is(hdr($r, 'Access-Control-Allow-Origin'), 'https://shop.example:8443', 'the second listed origin');

for my $case (['unlisted Origin', Origin => $unlisted],
              ['no Origin'],
              ['Origin: null', Origin => 'null'],
              ['an upper-case variant of a listed origin', Origin => uc $listed],
              ['a listed origin with a path', Origin => "$listed/"]) {
    my ($what, @h) = @$case;
    $r = $t->raw('GET', '/bitcache/products/films/short.bin', undef, @h);
    is($r->{status}, 200, "$what: still described (same-origin readers)");
    is(json_of($r)->{price_sats}, 12345, "$what: the location's price");
    no_acx($r, $what);
    like(hdr($r, 'Vary') // '', qr/\bOrigin\b/, "$what: Vary: Origin");
}

# two Origin headers are no origin
{
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $t->{http_port}) or die;
    print $s "GET /bitcache/products/films/short.bin HTTP/1.1\r\nHost: x\r\nOrigin: $listed\r\n"
           . "Origin: $listed\r\nConnection: close\r\n\r\n";
    local $/;
    my $resp = <$s>;
    like($resp, qr{^HTTP/1\.1 200}, 'two Origin headers: 200');
    unlike($resp, qr/Access-Control-/i, 'two Origin headers: no CORS header');
}

$r = $t->raw('GET', '/bitcache/products/pwyw/tune.bin', undef);
is(json_of($r)->{suggested_sats}, 4000, 'pay what you want: suggested_sats');
is(json_of($r)->{price_sats}, 1000, 'pay what you want: price_sats, the least');

# --- a valid token changes nothing: no token looked at, nothing drawn --------
my $token = $t->grant('/films/short.bin', '--uses', 5);
$r = $t->raw('GET', '/bitcache/products/films/short.bin', undef,
             Cookie => "bitcache_token=$token", Origin => $listed);
is($r->{status}, 200, 'with a paid token: described');
ok(index($r->{content}, substr($short, 0, 64)) < 0, 'with a paid token: not the file');
ok(!$t->drawn($token), 'with a paid token: nothing drawn');
$r = $t->raw('GET', "/bitcache/products/films/short.bin?bitcache_token=$token", undef);
is($r->{status}, 200, 'token in the query: described, not sent');
ok(index($r->{content}, substr($short, 0, 64)) < 0, 'token in the query: not the file');
ok(!$t->drawn($token), 'token in the query: nothing drawn');
$r = $t->raw('GET', "/films/short.bin?bitcache_token=$token", undef);
is($r->{status}, 200, 'the token itself still works on the file');
ok($r->{content} eq $short, '... the file\'s bytes');

# --- an outside bitcache_describe is an ordinary request --------------------
$r = $t->raw('GET', '/films/night.bin?bitcache_describe=1', undef, Accept => 'application/json');
is($r->{status}, 402, 'GET /films/night.bin?bitcache_describe=1: 402');
is(json_of($r)->{error}, 'payment_required', '... the 402 JSON, not a description');
$r = $t->raw('GET', '/films/?bitcache_describe=1', undef, Accept => 'application/json');
is($r->{status}, 402, 'an index redirect (internal) with ?bitcache_describe=1: 402');
ok(!exists json_of($r)->{url}, '... not a description');
$r = $t->raw('GET', "/films/short.bin?bitcache_describe=cors&bitcache_token=$token", undef,
             Origin => $listed);
is($r->{status}, 200, 'a paid request with ?bitcache_describe=cors: the file');
ok($r->{content} eq $short, '... its bytes');
no_acx($r, 'the file with ?bitcache_describe=cors');

# --- where nothing is sold: 404 not_for_sale, the file never sent -----------
for my $case (['/plain/readme.txt', 'bitcache off', $plain],
              ['/secret/hidden.bin', 'an internal location'],
              ['/nosale/x.bin', 'bitcache on, no price'],
              ['/bitcache/button.js', 'the API itself'],
              ['/bitcache/products/films/night.bin', 'the products route again'],
              ['/missing/nothing', 'no location sells it']) {
    my ($path, $what, $bytes) = @$case;
    (my $rest = $path) =~ s{^/}{};
    $r = $t->raw('GET', "/bitcache/products/$rest", undef, Origin => $listed);
    is($r->{status}, 404, "$what: 404");
    is(json_of($r)->{error}, 'not_for_sale', "$what: not_for_sale");
    ok(!$bytes || index($r->{content}, substr($bytes, 0, 64)) < 0, "$what: not the file");
    is(hdr($r, 'Access-Control-Allow-Origin'), $listed, "$what: readable by the listed origin");
}
for my $bad ('/bitcache/products/', '/bitcache/products/films/%01x', '/bitcache/products/%00') {
    $r = $t->raw('GET', $bad, undef);
    ok($r->{status} == 404 || $r->{status} == 400, "$bad: refused ($r->{status})");
    ok(index($r->{content}, substr($film, 0, 64)) < 0, "$bad: not a file");
}

# --- methods and the preflight ------------------------------------------------
$r = $t->raw('OPTIONS', '/bitcache/products/films/night.bin', undef, Origin => $listed,
             'Access-Control-Request-Method' => 'GET', 'Access-Control-Request-Headers' => 'accept');
is($r->{status}, 204, 'preflight from a listed origin: 204');
is(hdr($r, 'Access-Control-Allow-Origin'), $listed, 'preflight: Allow-Origin');
is(hdr($r, 'Access-Control-Allow-Methods'), 'GET, HEAD', 'preflight: Allow-Methods');
is(hdr($r, 'Access-Control-Allow-Headers'), 'Accept', 'preflight: Allow-Headers');
is(hdr($r, 'Access-Control-Max-Age'), '600', 'preflight: Max-Age');
ok(!defined hdr($r, 'Access-Control-Allow-Credentials'), 'preflight: no Allow-Credentials');
for my $case (['an unlisted origin', Origin => $unlisted], ['no Origin'],
              ['Origin: null', Origin => 'null']) {
    my ($what, @h) = @$case;
    $r = $t->raw('OPTIONS', '/bitcache/products/films/night.bin', undef, @h,
                 'Access-Control-Request-Method' => 'GET');
    is($r->{status}, 403, "preflight from $what: 403");
    no_acx($r, "preflight from $what");
}
for my $case (['OPTIONS', '/bitcache/invoices'], ['OPTIONS', '/bitcache/button.js'],
              ['POST', '/bitcache/products/films/night.bin'],
              ['DELETE', '/bitcache/products/films/night.bin']) {
    my ($m, $path) = @$case;
    $r = $t->raw($m, $path, $m eq 'POST' ? '' : undef, Origin => $listed);
    is($r->{status}, 405, "$m $path: 405");
    no_acx($r, "$m $path");
}
$r = $t->raw('GET', '/bitcache/invoices/' . ('0' x 32), undef, Origin => $listed,
             Accept => 'application/json');
no_acx($r, 'another API route with a listed Origin');
$r = $t->raw('GET', '/films/night.bin', undef, Origin => $listed, Accept => 'application/json');
is($r->{status}, 402, 'the 402 itself');
no_acx($r, 'the 402 with a listed Origin');

# --- button.js -------------------------------------------------------------
$r = $t->raw('GET', '/bitcache/button.js', undef);
is($r->{status}, 200, 'button.js: 200');
like(hdr($r, 'Content-Type') // '', qr{^text/javascript}, 'button.js: text/javascript');
is(hdr($r, 'X-Content-Type-Options'), 'nosniff', 'button.js: nosniff');
like(hdr($r, 'Cache-Control') // '', qr/max-age=\d+/, 'button.js: cacheable');
my $js = do { local (@ARGV, $/) = "$root/ngx_bitcache_module/button.js"; <> };
ok($r->{content} eq $js, 'button.js: ngx_bitcache_module/button.js byte for byte');
$r = $t->raw('HEAD', '/bitcache/button.js', undef);
is($r->{status}, 200, 'HEAD button.js: 200');
is($r->{content}, '', 'HEAD button.js: no body');

# --- the giveaway's numbers ----------------------------------------------------
$r = $t->raw('GET', '/bitcache/products/gift/song.bin', undef, Accept => 'application/json');
$j = json_of($r);
is($j->{price_sats}, 3000, 'giveaway: the price');
is($j->{free_total}, 3, 'giveaway: free_total from bitcache_free_first');
is($j->{free_url}, '/bitcache/free', 'giveaway: free_url');
is($j->{free_left}, 3, 'giveaway: 3 of 3 left');
# the described offer claims a copy; the next description counts it
my $claim = $ua->request('POST', $t->url($j->{free_url}), {
    headers => { 'Content-Type' => 'application/json', Accept => 'application/json' },
    content => encode_json({ offer => $j->{offer} }) });
is($claim->{status}, 201, 'the described offer claims a free copy') or diag $claim->{content};
is(json_of($t->raw('GET', '/bitcache/products/gift/song.bin', undef))->{free_left}, 2,
   'giveaway: then 2 of 3 left');

# --- Chromium: the button on a creator's page --------------------------------
SKIP: {
    skip 'chromium or playwright-core missing (make deps)', 1
        unless -x '/usr/bin/chromium' && -d "$root/t/node/node_modules/playwright-core";
    mkdir $art;

    my $browse = sub {
        my ($url, @opt) = @_;
        open my $p, '-|', 'node', "$root/t/node/button-page.js", $url, '--timeout', 30000, @opt
            or die;
        local $/;
        my $out = <$p>;
        close $p;
        my $res = eval { decode_json($out) } || { ok => 0, error => "no JSON: $out" };
        diag("button-page.js: $res->{error}") unless $res->{ok};
        return $res;
    };

    # a listed origin, with JavaScript
    my $b = $browse->("$listed/", '--allow', $host, '--screenshot', "$art/88-button-listed.png",
                      '--click', '--popup-screenshot', "$art/88-button-popup.png");
    ok($b->{ok}, 'listed origin: the page loaded') or diag explain $b;
    my ($night, $song, $tune) = @{ $b->{buttons} || [] };
    ok($night && $night->{ready}, 'listed origin: the button was filled in');
    is($night->{text}, "Buy \x{201c}Night <b>\x{201d} \x{2014} 5000 sats", 'the title and price, as text')
        or diag explain $night;
    is($night->{price}, '5000', 'data-bitcache-price-sats');
    like($song->{text} // '', qr/^Buy \x{201c}\/gift\/song\.bin\x{201d} \x{2014} 3000 sats/,
         'the second button: its own price');
    is($song->{free}, '2 of 3 free copies left', 'free copies left on the button');
    is($tune->{text}, "Buy \x{201c}/pwyw/tune.bin\x{201d} \x{2014} from 1000 sats",
       'pay what you want: "from" the price');
    is_deeply($b->{external}, [], 'listed origin: nothing loaded from a third host');
    is_deeply($b->{page_errors}, [], 'listed origin: no script errors');
    is_deeply($b->{failed}, [], 'listed origin: no failed request');
    ok(grep({ $_ eq "GET $host/bitcache/products/films/night.bin" } @{ $b->{requests} }),
       'the button asked <api>/products/films/night.bin');
    ok(!grep({ /^OPTIONS/ } @{ $b->{requests} }), 'a simple request: no preflight needed');
    is($b->{cookie_visible}, '', 'the creator\'s page sees no cookie');
    ok($b->{popup}, 'the click opened a popup') or diag explain $b;
    is($b->{popup}{url}, "$host/films/night.bin", 'the popup shows the file\'s URL');
    is($b->{popup}{status}, 402, '... its 402 page');
    is($b->{popup}{price_sats}, '5000', '... with the price');
    ok($b->{popup}{opener_null}, 'the popup has no opener');
    is($b->{opener_url}, "$listed/", 'the creator\'s page stays where it was');

    # conf.example's creator page, pasted as it is
    $b = $browse->("$listed/alice.html", '--allow', $host,
                   '--screenshot', "$art/88-button-conf-example.png");
    ($night) = @{ $b->{buttons} || [] };
    ok($night && $night->{ready}, 'conf.example\'s page: the button was filled in') or diag explain $b;
    is($night->{text}, "Buy \x{201c}/films/alice/night.mp4\x{201d} \x{2014} 12345 sats",
       'conf.example\'s page: the title and price');

    # an unlisted origin: the fetch is refused, the link keeps its text and still opens
    $b = $browse->("$unlisted/", '--allow', $host, '--ready', 2000,
                   '--screenshot', "$art/88-button-unlisted.png", '--click');
    ok($b->{ok}, 'unlisted origin: the page loaded') or diag explain $b;
    ($night) = @{ $b->{buttons} || [] };
    ok($night && !$night->{ready}, 'unlisted origin: the button was not filled in');
    is($night->{text}, 'Buy "Night" with bitcoin', 'unlisted origin: the link keeps its text');
    ok(grep({ $_->{url} =~ m{/bitcache/products/} && !$_->{acao} } @{ $b->{responses} })
       || grep({ m{/bitcache/products/} } @{ $b->{failed} }),
       'unlisted origin: the description came without CORS headers');
    ok($b->{popup} && $b->{popup}{status} == 402, 'unlisted origin: the click still opens the 402 page')
        or diag explain $b;

    # without JavaScript: a plain link to the 402 page
    $b = $browse->("$listed/", '--allow', $host, '--no-js', '--screenshot', "$art/88-button-nojs.png",
                   '--click', '--popup-screenshot', "$art/88-button-nojs-402.png");
    ok($b->{ok}, 'no JavaScript: the page loaded') or diag explain $b;
    ($night) = @{ $b->{buttons} || [] };
    is($night->{text}, 'Buy "Night" with bitcoin', 'no JavaScript: the link\'s own text');
    ok(!grep({ m{/bitcache/products/} } @{ $b->{requests} }), 'no JavaScript: no description asked');
    ok(!$b->{popup}, 'no JavaScript: no popup');
    is($b->{navigated}{status}, 402, 'no JavaScript: the link leads to the 402 page');
    is($b->{navigated}{url}, "$host/films/night.bin", '... of the file');
    is($b->{navigated}{price_sats}, '5000', '... with the price');
    ok(-s "$art/$_", "screenshot $_") for qw(88-button-listed.png 88-button-popup.png
                                             88-button-unlisted.png 88-button-nojs.png);
}

# --- a wallet that buys with a plain GET buys nothing on a description ----------
{
    my $wt = BcTest->new;
    $wt->start_redis;
    my $auto = $wt->make_file('auto/a.bin', 2_000);
    $wt->start_nginx($wt->wallet_http(<<'LOC', price => 1000));
        bitcache_wallets on;
        location /auto/ { bitcache on; bitcache_wallet_autobuy on; }
LOC
    my $code = $wt->wallet_open->{code};
    $wt->wallet_topup_paid($code, 10_000);
    is($wt->wallet_req('POST', '/wallet/settings', $code, 'max_auto_price=5000')->{status}, 200,
       'auto-buy: max_auto_price 5000');
    my $d = $wt->raw('GET', '/bitcache/products/auto/a.bin', undef, Authorization => "Bitcache $code");
    is($d->{status}, 200, 'auto-buy wallet: described');
    ok(index($d->{content}, substr($auto, 0, 64)) < 0, 'auto-buy wallet: not the file');
    is($wt->wallet_balance($code), 10_000, 'auto-buy wallet: nothing bought');
    my $g = $wt->get('/auto/a.bin', Authorization => "Bitcache $code");
    ok($g->{status} == 200 && $g->{content} eq $auto, 'the same GET of the file buys it (the control)');
    is($wt->wallet_balance($code), 9_000, '... for 1000 sats');
}

# --- Redis down: 503 --------------------------------------------------------
$t->stop_redis;
$r = $t->raw('GET', '/bitcache/products/films/short.bin', undef, Accept => 'application/json');
is($r->{status}, 503, 'Redis down: 503');
ok(defined hdr($r, 'Retry-After'), 'Redis down: Retry-After');
ok(index($r->{content}, substr($short, 0, 64)) < 0, 'Redis down: not the file');

$t->check_log_clean;
done_testing();
