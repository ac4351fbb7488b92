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
        location /ret/ { internal; bitcache on; return 200 "internal"; }
LOC

my %id;
$id{a} = $t->seal('films/a.bin', "$dir/a.sealed", '/films/a.bin', $api, '--title', 'A');
$id{b} = $t->seal('films/b.bin', "$dir/b.sealed", '/films/b.bin', $api);
$id{w} = $t->seal('w/c.bin', "$dir/c.sealed", '/w/c.bin', $api);
$id{gift} = $t->seal('gift/g.bin', "$dir/g.sealed", '/gift/g.bin', $api);
$id{sec} = $t->seal('secret/s.bin', "$dir/s.sealed", '/secret/s.bin', $api);
$id{pl} = $t->seal('plain/p.bin', "$dir/p.sealed", '/plain/p.bin', $api);
$id{nm} = $t->seal('named/x.bin', "$dir/x.sealed", '/named/x.bin', $api);
$t->make_file('ret/r.bin', 100);
$id{ret} = $t->seal('ret/r.bin', "$dir/r.sealed", '/ret/r.bin', $api);

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

# the key's answer goes through the header and body filters whole, and
# its end gives nothing back: one script a fetch, no refund, no draw
my $tok_f = $t->grant('/films/a.bin', '--uses', 3);
my %before = @{ $t->redis('HGETALL', 'bitcache:tok:' . tok_id($tok_f)) };
my $evals = $t->redis_calls('evalsha') + $t->redis_calls('eval');
$r = key_get('/films/a.bin', $tok_f, Range => 'bytes=0-9', 'If-None-Match' => '*');
is($r->{status}, 200, 'a fetch with Range and If-None-Match: 200, the whole JSON');
is(length($r->{content}), $r->{headers}{'content-length'}[0], '... as long as its Content-Length');
sleep 0.3;
is($t->redis_calls('evalsha') + $t->redis_calls('eval') - $evals, 1, '... one script ran (no refund)');
my %after = @{ $t->redis('HGETALL', 'bitcache:tok:' . tok_id($tok_f)) };
delete $after{keys};
is_deeply(\%after, \%before, '... the record changed only in keys');

# unlimited
my $tok_u = $t->grant('/films/a.bin', '--uses', 0);
my $ok = 1;
for (1 .. 5) {
    $r = key_get('/films/a.bin', $tok_u);
    $ok &&= $r->{status} == 200 && json_of($r)->{fetches} == $_ && json_of($r)->{uses} == 0;
}
ok($ok, 'unlimited token: 5 fetches, each 200, counted 1..5, uses 0');

# --- parallel fetches never exceed uses ---------------------------------------

my $tok_p = $t->grant('/films/b.bin', '--uses', 3);
my $out = "$dir/par";
mkdir $out;
my @kids;
for my $i (1 .. 20) {
    my $pid = fork // die;
    if (!$pid) {
        my $x = key_get('/films/b.bin', $tok_p);
        open my $fh, '>', "$out/$i" or POSIX::_exit(1);
        print $fh $x->{status}, "\n", $x->{content};
        close $fh;
        POSIX::_exit(0);
    }
    push @kids, $pid;
}
waitpid $_, 0 for @kids;
my (%status, %keys_seen);
for my $i (1 .. 20) {
    open my $fh, '<', "$out/$i" or next;
    my ($st, $body) = split /\n/, do { local $/; <$fh> }, 2;
    $status{$st}++;
    $keys_seen{ (eval { decode_json($body) } || {})->{key} // '' }++ if $st == 200;
}
is($status{200} // 0, 3, '20 parallel fetches, uses 3: exactly 3 get the key');
is($status{402} // 0, 17, '... the 17 others 402');
is(scalar(keys %keys_seen), 1, '... all the same key');
ok(opens_to("$dir/b.sealed", (keys %keys_seen)[0], $file{b}), '... which opens b\'s copy');
is(keys_count($tok_p), 3, '... and the record counts 3');

# --- refused tokens: 402 with the key id, nothing counted ----------------------

my $tok_r = $t->grant('/films/a.bin', '--uses', 5);
my ($rc, undef, $err) = $t->cli('revoke', '--redis', $t->redis_addr, $tok_r);
is($rc, 0, 'bitcache revoke') or diag $err;
$r = key_get('/films/a.bin', $tok_r);
is($r->{status}, 402, 'revoked token: 402');
is(json_of($r)->{reason}, 'token revoked', 'revoked token: the reason');
is(json_of($r)->{key_id}, $id{a}, 'revoked token: key_id');
is(keys_count($tok_r), 0, 'revoked token: nothing counted');

my $tok_k = $t->grant('/films/a.bin', '--uses', 5);
$t->redis('DEL', 'bitcache:tok:' . tok_id($tok_k));
$r = key_get('/films/a.bin', $tok_k);
is($r->{status}, 402, 'unknown record: 402');
is(json_of($r)->{reason}, 'unknown token', 'unknown record: the reason');
is($t->redis('EXISTS', 'bitcache:tok:' . tok_id($tok_k)), 0, 'unknown record: nothing created');

my $tok_e = $t->grant('/films/a.bin', '--uses', 5, '--ttl', '1s');
sleep 2.2;
$r = key_get('/films/a.bin', $tok_e);
is($r->{status}, 402, 'expired token: 402');
is(json_of($r)->{reason}, 'token expired', 'expired token: the reason');
is(json_of($r)->{key_id}, $id{a}, 'expired token: key_id');

my $tok_b = $t->grant('/films/b.bin', '--uses', 5);
$r = key_get('/films/a.bin', $tok_b);
is($r->{status}, 402, 'another product\'s token: 402');
is(json_of($r)->{reason}, 'token is for another product', '... the reason');
is(keys_count($tok_b), 0, '... nothing counted');

my $forged = $tok;
substr($forged, 10, 1) = substr($forged, 10, 1) eq 'A' ? 'B' : 'A';
for my $bad (['garbage', 'garbage'], ['a forged token', $forged], ['an empty token', ''],
             ['a long one', 'x' x 5000]) {
    $r = key_get('/films/a.bin', $bad->[1]);
    is($r->{status}, 402, "$bad->[0]: 402");
    ok(!exists json_of($r)->{key} && json_of($r)->{key_id} eq $id{a}, "$bad->[0]: no key, the key id");
}

# a giveaway's copy releases the key
$r = key_get('/gift/g.bin');
$j = json_of($r);
is($r->{status}, 402, 'giveaway, no token: 402');
is($j->{free_total}, 3, 'giveaway: free_total');
is($j->{free_url}, '/bitcache/free', 'giveaway: free_url');
my $fr = $ua->request('POST', $t->url('/bitcache/free'), {
    headers => { 'Content-Type' => 'application/json', Accept => 'application/json' },
    content => encode_json({ offer => $j->{offer} }) });
is($fr->{status}, 201, 'giveaway: a free copy');
my $gift_tok = (eval { decode_json($fr->{content}) } || {})->{token} // '';
$r = key_get('/gift/g.bin', $gift_tok);
is($r->{status}, 200, 'giveaway copy\'s token: 200');
ok(opens_to("$dir/g.sealed", json_of($r)->{key} // '', $file{gift}), 'giveaway: the key opens the copy');

# --- 404s ----------------------------------------------------------------------

my $tok_n = $t->grant('/films/never.bin', '--uses', 5);
$r = key_get('/films/never.bin', $tok_n);
is($r->{status}, 404, 'not sealed, with a token: 404');
is(json_of($r)->{error}, 'not_sealed', '... not_sealed');
is(json_of($r)->{product}, '/films/never.bin', '... the product');
is($t->redis('HEXISTS', 'bitcache:tok:' . tok_id($tok_n), 'keys'), 0, '... nothing counted');
$r = key_get('/films/never.bin');
is($r->{status}, 404, 'not sealed, no token: 404');
is(json_of($r)->{error}, 'not_sealed', '... not_sealed (nothing offered)');

for my $c (['/plain/p.bin', 'no bitcache'], ['/secret/s.bin', 'an internal location'],
           ['/named/x.bin', 'a product that is not the path'], ['/nowhere/x.bin', 'no location'],
           ['/ret/r.bin', 'an internal location that returns']) {
    my $tk = $t->grant($c->[0] eq '/named/x.bin' ? '/films/a.bin' : $c->[0], '--uses', 5);
    for my $with (['no token', undef], ['a token', $tk]) {
        $r = key_get($c->[0], $with->[1]);
        is($r->{status}, 404, "$c->[1], $with->[0]: 404");
        is(json_of($r)->{error}, 'not_for_sale', "$c->[1], $with->[0]: not_for_sale");
    }
    is(keys_count($tk), 0, "$c->[1]: nothing counted");
}

# --- methods and paths ---------------------------------------------------------

for my $m (qw(POST HEAD PUT DELETE OPTIONS)) {
    $r = $t->raw($m, "/bitcache/keys/films/a.bin?bitcache_token=$tok_u", $m eq 'POST' ? '' : undef);
    is($r->{status}, 405, "$m: 405");
}
my $before = keys_count($tok_u);
for my $p (['%2F', '/bitcache/keys/films%2Fa.bin'], ['..', '/bitcache/keys/films/../films/a.bin'],
           ['%2e%2e', '/bitcache/keys/x/%2e%2e/films/a.bin'], ['//', '/bitcache/keys//films/a.bin'],
           ['%3F', '/bitcache/keys/films/a.bin%3Fx'], ['%0A', '/bitcache/keys/films/a.bin%0Ax'],
           ['a bare route', '/bitcache/keys/']) {
    $r = $t->raw('GET', "$p->[1]?bitcache_token=$tok_u");
    my $k = json_of($r)->{key};
    ok($r->{status} != 200 || (defined $k && $k eq $key_a && json_of($r)->{product} eq '/films/a.bin'),
       "$p->[0]: no other product's key ($r->{status})");
    unlike($r->{content}, qr/\Q$tok_u\E/, "$p->[0]: the token is not echoed");
}
# nginx resolves ".." before any module: this is <api>/films/a.bin, the
# API's plain 404, which hides a token in the query too (the log check below)
my $tok_dd = $t->grant('/films/a.bin');
$r = $t->raw('GET', "/bitcache/keys/../films/a.bin?bitcache_token=$tok_dd");
is($r->{status}, 404, '<api>/keys/../films/a.bin: out of the route, 404');
ok(!exists json_of($r)->{key}, '... no key');
$r = $t->raw('GET', "/bitcache/keys/films%2Fa.bin?bitcache_token=$tok_u");
is($r->{status}, 200, '%2F in the product: the same path, 200');
# nginx refuses %00 while it reads the request line, before any module
# sees it (and logs that line as it came, as for a download): a throwaway
$r = $t->raw('GET', "/bitcache/keys/films/a.bin%00.x?bitcache_token=" . $t->grant('/films/a.bin'));
ok($r->{status} == 400 || $r->{status} == 404, '%00: refused');
$r = $t->raw('GET', "/bitcache/keys/films/a.bin%3Fx?bitcache_token=$tok_u");
is($r->{status}, 404, '%3F: 404');

# --- a Redis writer ------------------------------------------------------------

# b's wrapped key and id copied into a's record: the tag (product in the
# AAD) refuses it
my %rec_a = @{ $t->redis('HGETALL', 'bitcache:sealkey:/films/a.bin') };
my %rec_b = @{ $t->redis('HGETALL', 'bitcache:sealkey:/films/b.bin') };
$t->redis('HSET', 'bitcache:sealkey:/films/a.bin', 'id', $rec_b{id}, 'key', $rec_b{key});
$r = key_get('/films/a.bin', $tok_u);
is($r->{status}, 409, 'another product\'s wrapped key in the record: 409');
is(json_of($r)->{error}, 'key_record_invalid', '... key_record_invalid');
ok(!exists json_of($r)->{key}, '... no key');
like($t->error_log, qr/\[error\].*key record of "\/films\/a\.bin" does not open/, '... logged at error');
$t->redis('HSET', 'bitcache:sealkey:/films/a.bin', 'key', '00' x 60, 'id', $rec_a{id});
$r = key_get('/films/a.bin', $tok_u);
is($r->{status}, 409, 'a wrapped key of zeros: 409');
$t->redis('HSET', 'bitcache:sealkey:/films/a.bin', 'key', 'zz');
is(key_get('/films/a.bin', $tok_u)->{status}, 409, 'a wrapped key that is not hex: 409');
$t->redis('HSET', 'bitcache:sealkey:/films/a.bin', 'id', 'nothex');
is(key_get('/films/a.bin')->{status}, 409, 'an id that is not hex, no token: 409');
$t->redis('HSET', 'bitcache:sealkey:/films/a.bin', %rec_a);
is(key_get('/films/a.bin', $tok_u)->{status}, 200, 'the record put back: 200');

# a garbage "keys" count: never a key
my $tok_g = $t->grant('/films/a.bin', '--uses', 2);
$t->redis('HSET', 'bitcache:tok:' . tok_id($tok_g), 'keys', 'lots');
$r = key_get('/films/a.bin', $tok_g);
ok($r->{status} == 503 || $r->{status} == 402, "a garbage keys field: $r->{status}, refused");
ok(!exists json_of($r)->{key}, '... no key');
$t->redis('HSET', 'bitcache:tok:' . tok_id($tok_g), 'keys', '-5');
$r = key_get('/films/a.bin', $tok_g);
is($r->{status}, 503, 'a negative keys field: 503');
ok(!exists json_of($r)->{key}, '... no key');
$t->redis('HSET', 'bitcache:tok:' . tok_id($tok_g), 'keys', '1');
is(key_get('/films/a.bin', $tok_g)->{status}, 200, 'a number again: the token\'s last fetch');

# --- logs ----------------------------------------------------------------------

my $logs = $t->access_log . $t->error_log;
my @leaks = grep { length($_) > 20 && index($logs, $_) >= 0 } ($tok, $tok_c, $tok_u, $tok_p, $tok_r, $tok_b, $gift_tok, $tok_n, $tok_dd);
ok(!@leaks, 'no token in the access or error log') or diag "leaked: @leaks";
ok(index($logs, $key_a) < 0, 'no key in the logs');
like($t->access_log, qr{GET /bitcache/keys/films/a\.bin\?bitcache_token=\*+ }, 'the access log has the request, token starred');

# --- Redis down, then back -----------------------------------------------------

$t->stop_redis;
$r = key_get('/films/a.bin', $tok_u);
is($r->{status}, 503, 'Redis down, a token: 503');
ok(defined hdr($r, 'Retry-After'), '... Retry-After');
ok(!exists json_of($r)->{key}, '... no key');
$r = key_get('/films/a.bin');
is($r->{status}, 503, 'Redis down, no token: 503');
ok(defined hdr($r, 'Retry-After'), '... Retry-After');
$t->start_redis;
# Redis came back empty (no save): seal again, grant again
my $id2 = $t->seal('films/a.bin', "$dir/a2.sealed", '/films/a.bin', $api);
my $tok_2 = $t->grant('/films/a.bin', '--uses', 1);
$ok = 0;
for (1 .. 50) {
    $r = key_get('/films/a.bin', $tok_2);
    last if $r->{status} != 503 && ($ok = 1);
    sleep 0.2;
}
is($r->{status}, 200, 'Redis back: 200');
is(json_of($r)->{key_id}, $id2, '... the new key\'s id');
ok(opens_to("$dir/a2.sealed", json_of($r)->{key} // '', $file{a}), '... which opens the new copy');

$t->check_log_clean;
done_testing;
