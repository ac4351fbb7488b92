#!/usr/bin/perl
# GET <api>/keys/<product> (docs/sealed.md, "Selling a sealed file"): the
# content key of a sealed file released for a token of its product,
# counted in the token's record (tok:<id> keys), never drawing the file;
# without a token (or a refused one) the sale as a 402 JSON with the key's
# id; 404 not_sealed / not_for_sale, 409 for a key record that does not
# open, 503 + Retry-After without Redis, 405 for other methods; the token
# stays out of the logs, and no CORS header ever goes with a key.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use JSON::PP;
use POSIX ();
use BcTest;
use TokenRef;

plan skip_all => 'module or CLI not built (make all)'
    unless -f $BcTest::MODULE && -x $BcTest::CLI;

my $t = BcTest->new;
$t->start_redis;
my $dir = $t->dir;
$t->{http_port} = BcTest::free_port();
my $api = "http://127.0.0.1:$t->{http_port}/bitcache";
my $listed = 'https://shop.example';

my %file = (
    a    => $t->make_file('films/a.bin', 200_000),
    b    => $t->make_file('films/b.bin', 3_000),
    n    => $t->make_file('films/never.bin', 1_000),
    w    => $t->make_file('w/c.bin', 5_000),
    gift => $t->make_file('gift/g.bin', 4_000),
    sec  => $t->make_file('secret/s.bin', 1_000),
    pl   => $t->make_file('plain/p.bin', 1_000),
    nm   => $t->make_file('named/x.bin', 1_000),
);

$t->start_nginx($t->wallet_http(<<'LOC', price => 1000, api => "bitcache_cors_origins $listed;"));
        location /films/ { bitcache on; }
        location /w/ { bitcache on; bitcache_wallets on; }
        location /gift/ { bitcache on; bitcache_price 3000; bitcache_free_first 3; }
        location /secret/ { internal; bitcache on; }
        location /plain/ { }
        location /named/ { bitcache on; bitcache_product /films/a.bin; }
LOC

my %id;
$id{a} = $t->seal('films/a.bin', "$dir/a.sealed", '/films/a.bin', $api, '--title', 'A');
$id{b} = $t->seal('films/b.bin', "$dir/b.sealed", '/films/b.bin', $api);
$id{w} = $t->seal('w/c.bin', "$dir/c.sealed", '/w/c.bin', $api);
$id{gift} = $t->seal('gift/g.bin', "$dir/g.sealed", '/gift/g.bin', $api);
$id{sec} = $t->seal('secret/s.bin', "$dir/s.sealed", '/secret/s.bin', $api);
$id{pl} = $t->seal('plain/p.bin', "$dir/p.sealed", '/plain/p.bin', $api);
$id{nm} = $t->seal('named/x.bin', "$dir/x.sealed", '/named/x.bin', $api);

sub hdr { my ($r, $name) = @_; my $v = $r->{headers}{lc $name}; $v ? join(', ', @$v) : undef }
sub json_of { my ($r) = @_; eval { decode_json($r->{content}) } || {} }
sub tok_id { TokenRef::parse_token($_[0])->{id} }
sub keys_count { $t->redis('HGET', 'bitcache:tok:' . tok_id($_[0]), 'keys') // 0 }
sub key_get {
    my ($path, $token, %h) = @_;
    my $target = "/bitcache/keys$path" . (defined $token ? "?bitcache_token=$token" : '');
    return $t->raw('GET', $target, undef, %h);
}
sub no_acx {
    my ($r, $what) = @_;
    ok(!grep({ /^access-control-/ } keys %{ $r->{headers} }), "$what: no Access-Control-* header")
        or diag $r->{head};
}
# opens the sealed copy with the key; 1 if the bytes are the original's
sub opens_to {
    my ($sealed, $key, $orig) = @_;
    unlink "$dir/opened";
    my ($rc, undef, $err) = $t->cli('open', $sealed, '-o', "$dir/opened", '--key', $key);
    return 0 if $rc;
    open my $fh, '<:raw', "$dir/opened" or return 0;
    local $/;
    my $got = <$fh>;
    return defined $got && $got eq $orig;
}

# --- no token: the sale, as JSON, with the key's id ---------------------------

my $r = key_get('/films/a.bin');
is($r->{status}, 402, 'no token: 402');
my $j = json_of($r);
is($j->{status}, 402, 'no token: status 402 in the JSON');
is($j->{reason}, 'no token', 'no token: the reason');
is($j->{key_id}, $id{a}, 'no token: key_id is the sealed header\'s');
is($j->{product}, '/films/a.bin', 'no token: the product');
is($j->{price_sats}, 1000, 'no token: the price');
like($j->{offer} // '', qr/^[A-Za-z0-9_-]+$/, 'no token: an offer');
is($j->{invoices_url}, '/bitcache/invoices', 'no token: invoices_url');
ok(!exists $j->{wallet_buy_url}, 'no token, no bitcache_wallets: no wallet_buy_url');
is(hdr($r, 'Content-Type'), 'application/json', 'no token: application/json');
is(hdr($r, 'Cache-Control'), 'no-store', 'no token: no-store');
ok(index($r->{content}, substr($file{a}, 0, 32)) < 0 && length($r->{content}) < 4000,
   'no token: none of the file');

# the offer is the module's: it makes an invoice at the price
my $ua = HTTP::Tiny->new(timeout => 10, max_redirect => 0);
my $inv = $ua->request('POST', $t->url('/bitcache/invoices'), {
    headers => { 'Content-Type' => 'application/json', Accept => 'application/json' },
    content => encode_json({ offer => $j->{offer} }) });
is($inv->{status}, 201, 'the 402\'s offer makes an invoice');

$r = key_get('/w/c.bin');
$j = json_of($r);
is($r->{status}, 402, 'bitcache_wallets on: 402');
is($j->{wallet_buy_url}, '/bitcache/wallet/buy', 'bitcache_wallets on: wallet_buy_url');
is($j->{key_id}, $id{w}, 'bitcache_wallets on: key_id');
unlike($r->{content}, qr/balance/i, 'bitcache_wallets on: no wallet view');

# --- a token: the key, counted --------------------------------------------------

my $tok = $t->grant('/films/a.bin', '--uses', 2);
$r = key_get('/films/a.bin', $tok, Origin => $listed);
is($r->{status}, 200, 'token (uses 2): 200');
$j = json_of($r);
is($j->{product}, '/films/a.bin', '200: product');
is($j->{key_id}, $id{a}, '200: key_id');
like($j->{key} // '', qr/^[0-9a-f]{64}$/, '200: a key of 64 hex digits');
is($j->{fetches}, 1, '200: fetches 1');
is($j->{uses}, 2, '200: uses 2');
is(hdr($r, 'Cache-Control'), 'no-store', '200: Cache-Control: no-store');
is(hdr($r, 'X-Content-Type-Options'), 'nosniff', '200: nosniff');
is(hdr($r, 'Content-Type'), 'application/json', '200: application/json');
no_acx($r, '200 with a listed Origin');
ok(opens_to("$dir/a.sealed", $j->{key}, $file{a}), 'the key opens the sealed copy: identical bytes');
my $key_a = $j->{key};

$r = key_get('/films/a.bin', $tok);
is($r->{status}, 200, 'second fetch: 200');
is(json_of($r)->{fetches}, 2, 'second fetch: fetches 2');
is(json_of($r)->{key}, $key_a, 'second fetch: the same key');
$r = key_get('/films/a.bin', $tok);
is($r->{status}, 402, 'third fetch of uses 2: 402');
is(json_of($r)->{reason}, 'downloads used up', 'third fetch: downloads used up');
is(json_of($r)->{key_id}, $id{a}, 'third fetch: key_id');
is(keys_count($tok), 2, 'the record counts 2 fetches (the refused one taken back)');

# the cookie works as the query does
my $tok_c = $t->grant('/films/a.bin', '--uses', 1);
$r = key_get('/films/a.bin', undef, Cookie => "bitcache_token=$tok_c");
is($r->{status}, 200, 'token in the cookie: 200');
is(json_of($r)->{key}, $key_a, 'token in the cookie: the key');

# the file itself with the same token: downloaded, not drawn by key fetches
is($t->drawn($tok, 'films/a.bin'), 0, 'key fetches drew none of the file');
my $dl = $t->get("/films/a.bin?bitcache_token=$tok");
is($dl->{status}, 200, 'the plain file with the same token: 200');
ok($dl->{content} eq $file{a}, 'the plain file: identical bytes');
is($t->drawn_settled($tok, 'films/a.bin'), length $file{a}, 'the download drew the file once');

# unlimited
my $tok_u = $t->grant('/films/a.bin', '--uses', 0);
my $ok = 1;
for (1 .. 5) {
    $r = key_get('/films/a.bin', $tok_u);
    $ok &&= $r->{status} == 200 && json_of($r)->{fetches} == $_ && json_of($r)->{uses} == 0;
}
ok($ok, 'unlimited token: 5 fetches, each 200, counted 1..5, uses 0');

done_testing;
