#!/usr/bin/perl
# Exact routes and escaped output, through real nginx. The API answers
# POST <api>/invoices and GET|HEAD <api>/invoices/<32 lowercase hex> only
# (404 elsewhere, 405 for another method), <api> being the configured
# bitcache_api_url, checked by nginx -t (and against the API's location).
# CRLF, quotes and backslashes, raw and %-encoded, in every URL part land
# in no header and no JSON: every JSON answer is parsed with a real parser
# and has one "state"; Location, cookies and links are built from the API
# URL, hex ids and escaped strings only.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use JSON::PP qw(decode_json encode_json);
use BcTest;
use ProtocolRef qw(keys_of product_mac);

plan skip_all => 'module or tools not built (make all unit)'
    unless -f $BcTest::MODULE && -x "$BcTest::TOOLS/pay_invoice";

my $t = BcTest->new;
$t->start_redis;
my (undef, $xonly) = $t->watcher_key;
my $api_conf = <<"CONF";
    bitcache_redis %%REDIS%% timeout=2s;
    limit_req_zone \$binary_remote_addr zone=inv:1m rate=600r/m;
    server {
        listen 127.0.0.1:%%PORT%%;
        root %%DIR%%/html;
        bitcache_secret %%DIR%%/secret;
        bitcache_network regtest;
        bitcache_watcher_key $xonly;
        bitcache_wallet "$BcTest::TEST_WALLET";
        bitcache_price 12345;
        location /files/ { bitcache on; }
        location /bitcache/ { bitcache_api; }
        location = /bitcache/invoices { limit_req zone=inv burst=100; bitcache_api; }
    }
CONF
$t->start_nginx($api_conf);
my $k = keys_of($t->secret_bytes);

sub json_ok {
    my ($r, $name) = @_;
    my $j = eval { decode_json($r->{content}) };
    ok($j && ref $j eq 'HASH', "$name: parses as JSON") or diag $r->{content};
    my @states = $r->{content} =~ /(?<!\\)"state"\s*:/g;
    ok(@states <= 1, "$name: at most one state key");
    return $j || {};
}

sub no_injection {
    my ($r, $name) = @_;
    ok(!exists $r->{headers}{'x-injected'}, "$name: no injected header");
    unlike($r->{head}, qr/\r\n[^\r\n:]*X-Injected/i, "$name: no X-Injected line in the head");
    for my $h (qw(location set-cookie)) {
        for my $v (@{ $r->{headers}{$h} || [] }) {
            unlike($v, qr/["\\\x00-\x1f\x7f]/, "$name: $h holds no quote, backslash or control");
        }
    }
}

# --- routes --------------------------------------------------------------------------
my $offer = decode_json($t->get('/files/book.pdf', Accept => 'application/json')->{content})->{offer};
my $body = encode_json({ offer => $offer });
my %json = ('Content-Type' => 'application/json', Accept => 'application/json');
my $zero = 'ab' x 16;
# indexes handed out: the counters (index:<wallet id>) and the address claims
my $idx = sub {
    my $n = 0;
    $n += $t->redis('GET', $_) // 0 for @{ $t->redis('KEYS', 'bitcache:index:*') };
    return $n . ' ' . scalar @{ $t->redis('KEYS', 'bitcache:spk:*') };
};

for my $path ('/bitcache/x/invoices', '/bitcache/invoices/', '/bitcache/invoicesx', '/bitcache/invoices/x',
              '/bitcache/a/b/invoices', '/bitcache/invoices/' . uc($zero), "/bitcache/invoices/$zero/",
              "/bitcache/invoices/$zero/invoices", '/bitcache/%0d%0aX-Injected:%201/invoices',
              '/bitcache/x%22,%22state%22:%22paid%22/invoices', '/bitcache/inv%6fices/x',
              '/bitcache/%5C%22/invoices', '/bitcache/') {
    my $before = $idx->();
    my $r = $t->raw('POST', $path, $body, %json);
    is($r->{status}, 404, "POST $path: 404");
    no_injection($r, "POST $path");
    is($idx->(), $before, "POST $path: no invoice, no index used");
}
is($t->raw('GET', '/bitcache/invoices', undef, %json)->{status}, 405, 'GET <api>/invoices: 405');
is($t->raw('PUT', '/bitcache/invoices', $body, %json)->{status}, 405, 'PUT <api>/invoices: 405');
is($t->raw('POST', "/bitcache/invoices/$zero", $body, %json)->{status}, 405, 'POST <api>/invoices/<id>: 405');
is($t->raw('GET', "/bitcache/invoices/$zero", undef, %json)->{status}, 404, 'an unknown id: 404');
is($t->raw('GET', "/bitcache/invoices/$zero%0d%0aX-Injected:%201", undef, %json)->{status}, 404, 'an id and CRLF: 404');
is($t->raw('GET', "/bitcache/x%22,%22state%22:%22paid%22,%22z%22:%22/invoices/$zero", undef, %json)->{status}, 404,
   'JSON in the path before /invoices/<id>: 404');

# the %-encoded spelling of the create path is the same path once decoded
my $before = $idx->();
my $r = $t->raw('POST', '/bitcache/inv%6fices', $body, %json);
is($r->{status}, 201, '%-encoded letters in <api>/invoices: the same route (nginx decodes)');
isnt($idx->(), $before, 'an invoice made: an index used (the check above can fail)');
my $inv = json_ok($r, 'create');
like($r->{headers}{location}[0] // '', qr{^(http://127\.0\.0\.1:\d+)?/bitcache/invoices/$inv->{id}$},
     'Location from the configured URL, not the request\'s spelling');
is($inv->{status_url}, "/bitcache/invoices/$inv->{id}", 'status_url likewise');
like($r->{headers}{'set-cookie'}[0] // '', qr{; Path=/bitcache/invoices/$inv->{id}; }, 'claim cookie path likewise');

# query strings and headers with CRLF, quotes and backslashes: nothing lands
$r = $t->raw('GET', "/bitcache/invoices/$inv->{id}?a=%22%5C%0d%0aX-Injected:%201&\"\\=\"", undef,
             %json, 'X-Bitcache-Claim' => "\"\\x", Referer => "\"\\");
is($r->{status}, 200, 'a query with quotes, backslashes and %0d%0a: 200');
no_injection($r, 'query');
my $j = json_ok($r, 'query');
is($j->{status_url}, "/bitcache/invoices/$inv->{id}", 'query: status_url clean');

# --- products with every awkward byte: offer, invoice, token, cookie ----------------------
my @products = (
    [ 'quotes and backslashes', '/files/a%22b%5Cc.pdf', qq{/files/a"b\\c.pdf} ],
    [ 'raw quotes and backslash', qq{/files/r"q\\s.pdf}, qq{/files/r"q\\s.pdf} ],
    [ 'CRLF and a header', '/files/x%0d%0aX-Injected:%201.pdf', "/files/x\r\nX-Injected: 1.pdf" ],
    [ 'JSON in the name', '/files/%22,%22state%22:%22paid%22,%22z%22:%22.pdf', '/files/","state":"paid","z":".pdf' ],
    [ 'semicolons, commas, spaces', '/files/a;%20b,c%09d.pdf', "/files/a; b,c\td.pdf" ],
    [ 'invalid UTF-8 and </script>', '/files/%ff%fe%3C/script%3E.pdf', "/files/\xff\xfe</script>.pdf" ],
);
for my $case (@products) {
    my ($name, $path, $product) = @$case;
    my $r = $t->raw('GET', $path, undef, Accept => 'application/json');
    is($r->{status}, 402, "$name: 402");
    no_injection($r, "$name 402");
    my $o = json_ok($r, "$name 402");
    is($o->{product}, do { my $p = $product; utf8::decode($p) ? $p : $p =~ s/[\x80-\xff]/\x{fffd}/gr }, "$name: product in the offer JSON")
        unless $product =~ /[\x80-\xff]/;

    # a catalog title with the same bytes
    my $title = qq{T"\\</script>\r\nX-Injected: 1 & 'x'};
    $t->redis('HSET', "bitcache:prod:$product", price => 12345, wallet => '', title => $title,
              mac => unpack('H*', product_mac($k, $product, 12345, '', $title)));
    $o = json_ok($t->raw('GET', $path, undef, Accept => 'application/json'), "$name offer with title");
    is($o->{title}, $title, "$name: the title round-trips through JSON");

    $r = $t->raw('POST', '/bitcache/invoices', encode_json({ offer => $o->{offer} }), %json);
    is($r->{status}, 201, "$name: invoice 201");
    no_injection($r, "$name 201");
    my $i = json_ok($r, "$name 201");
    is($i->{state}, 'new', "$name: state new");
    $t->pay_invoice($i->{id}, 12345, 1);

    $r = $t->raw('GET', "/bitcache/invoices/$i->{id}", undef, %json, 'X-Bitcache-Claim' => $i->{claim});
    no_injection($r, "$name status");
    my $s = json_ok($r, "$name status");
    is($s->{state}, 'paid', "$name: paid, one state");
    is($s->{title}, $title, "$name: title intact");
    my $enc = $product =~ s/([^A-Za-z0-9\-._~\/!\$&()*+=:\@])/sprintf('%%%02X', ord $1)/ger;
    is($s->{download_url}, "$enc?bitcache_token=$s->{token}", "$name: the link is the %-encoded path");
    like($r->{headers}{'set-cookie'}[0] // '', qr{^bitcache_token=[A-Za-z0-9_-]+; Path=\Q$enc\E; Max-Age=\d+; HttpOnly; SameSite=Lax$},
         "$name: the token cookie's Path is the %-encoded path");

    $r = $t->raw('GET', "/bitcache/invoices/$i->{id}", undef, Cookie => "bitcache_claim=$i->{claim}");
    is($r->{status}, 200, "$name: HTML 200");
    no_injection($r, "$name HTML");
    unlike($r->{content}, qr{</script>\r?\n?X-Injected|<script>alert|"\\</script>}, "$name: nothing raw in the page");
    like($r->{content}, qr{href="\Q$enc\E\?bitcache_token=}, "$name: the page links the encoded path");
}

# --- bitcache_api_url is checked by nginx -t -------------------------------------------
my $cfg = sub {
    my ($api_url, $loc) = @_;
    return <<"CONF";
    bitcache_redis %%REDIS%%;
    server {
        listen 127.0.0.1:%%PORT%%;
        bitcache_secret %%DIR%%/secret;
        bitcache_watcher_key $xonly;
        $api_url
        location $loc {
            bitcache_api;
        }
    }
CONF
};
# the line an nginx message names, from the file it names
sub line_of {
    my ($out) = @_;
    my ($file, $n) = $out =~ / in (\S+):(\d+)$/m or return '';
    open my $fh, '<', $file or return '';
    my @lines = <$fh>;
    return $lines[$n - 1] // '';
}
for my $bad ('"/bit cache"', '/bitcache/', 'bitcache', '"/a\"b"', '/a/../b', '/a%0d%0ab', '"/a;b"') {
    my ($rc, $out, $conf) = $t->nginx_test($cfg->("bitcache_api_url $bad;", '/bitcache/'), 'bad.conf');
    isnt($rc, 0, "bitcache_api_url $bad: nginx -t fails");
    like($out, qr/"bitcache_api_url": ".*" .* in \Q$conf\E:\d+$/m, "  names the directive and the file");
    like(line_of($out), qr/^\s*bitcache_api_url \Q$bad\E;$/, "  and the line of the directive");
}
my ($rc, $out, $conf) = $t->nginx_test($cfg->('bitcache_api_url /shop;', '/bitcache/'), 'mismatch.conf');
isnt($rc, 0, 'API location /bitcache/ with bitcache_api_url /shop: nginx -t fails');
like($out, qr{"bitcache_api" in location "/bitcache/" never receives "/shop/invoices".* in \Q$conf\E:\d+$}m, '  and says why, where');
like(line_of($out), qr/^\s*bitcache_api;$/, '  (the line of bitcache_api)');
($rc, $out) = $t->nginx_test($cfg->('', '= /shop/invoices'), 'exact.conf');
isnt($rc, 0, 'location = /shop/invoices with the default /bitcache: fails');
($rc, $out) = $t->nginx_test($cfg->('bitcache_api_url /shop;', '= /shop/invoices'), 'exact-ok.conf');
is($rc, 0, 'location = /shop/invoices with bitcache_api_url /shop: ok') or diag $out;
($rc, $out) = $t->nginx_test($cfg->('bitcache_api_url /shop/api;', '/shop/'), 'prefix-ok.conf');
is($rc, 0, 'location /shop/ with bitcache_api_url /shop/api: ok') or diag $out;

# a custom API URL works end to end, and the default one is then nothing
$t->stop_nginx;
(my $custom = $api_conf) =~ s{location /bitcache/ \{ bitcache_api; \}}{location /shop/api/ { bitcache_api; }};
$custom =~ s{location = /bitcache/invoices .*\n}{};
$custom =~ s{(bitcache_price 12345;)}{$1\n        bitcache_api_url /shop/api;};
$t->start_nginx($custom);
my $o2 = decode_json($t->get('/files/book.pdf', Accept => 'application/json')->{content});
is($o2->{invoices_url}, '/shop/api/invoices', 'the offer points to the custom API URL');
$r = $t->raw('POST', '/shop/api/invoices', encode_json({ offer => $o2->{offer} }), %json);
is($r->{status}, 201, 'POST /shop/api/invoices: 201');
$j = json_ok($r, 'custom');
is($j->{status_url}, "/shop/api/invoices/$j->{id}", 'status_url under /shop/api');
is($t->raw('GET', "/shop/api/invoices/$j->{id}", undef, %json)->{status}, 200, 'the status under /shop/api');
is($t->raw('POST', '/shop/api/x/invoices', encode_json({ offer => $o2->{offer} }), %json)->{status}, 404,
   'POST /shop/api/x/invoices: 404');

$t->stop_nginx;
$t->check_log_clean;
done_testing;
