#!/usr/bin/perl
# The hot path on real nginx and redis-server: no token -> 402; a granted
# token -> the exact file through nginx's static handler (Range, HEAD,
# ETag, If-Modified-Since), bytes counted, bad tokens refused without a
# Redis call, tokens kept out of the logs. (t/15-bytes.t: the byte
# accounting in depth.)
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use Digest::SHA qw(sha256_hex);
use Time::HiRes ();
use BcTest;
use TokenRef qw(mint_token);

my $t = BcTest->new;
$t->start_redis;
my $big = $t->make_file('files/film.bin', 10 * 1024 * 1024);
my $small = $t->make_file('files/book.pdf', 4096);
$t->make_file('free/readme.txt', 100);
$t->start_nginx;

# --- no token ---------------------------------------------------------------
my $r = $t->get('/files/film.bin');
is($r->{status}, 402, 'no token: 402');
is($r->{headers}{'cache-control'}, 'no-store', '402 is not cached');
like($r->{headers}{'content-type'}, qr{^text/html}, 'HTML for a browser');
like($r->{content}, qr{/files/film\.bin is for sale}, 'the page names the file');
unlike($r->{content}, qr/\Q@{[substr($big, 0, 64)]}\E/, 'no file bytes in the 402');

$r = $t->get('/files/film.bin', Accept => 'application/json');
is($r->{status}, 402, 'JSON 402');
like($r->{headers}{'content-type'}, qr{^application/json}, 'JSON content type');
like($r->{content}, qr/^\{"status":402,"error":"payment_required","reason":"no token","product":"\/files\/film.bin"\}$/,
     'JSON body');

$r = $t->http('HEAD', '/files/film.bin');
is($r->{status}, 402, 'HEAD without token: 402');

# the product ($uri) is the client's: escaped in HTML and JSON
$r = $t->get('/files/%3Cscript%3Ex%22%27%26.bin');
is($r->{status}, 402, 'any name under the location is for sale');
like($r->{content}, qr{/files/&lt;script&gt;x&quot;&#39;&amp;\.bin is for sale}, 'HTML-escaped');
unlike($r->{content}, qr/<script>/, 'no markup injected');
$r = $t->get('/files/%3Cscript%3Ex%22%27%26.bin', Accept => 'application/json');
like($r->{content}, qr{"product":"/files/\\u003cscript\\u003ex\\"'\\u0026\.bin"}, 'JSON-escaped');

$r = $t->get('/free/readme.txt');
is($r->{status}, 200, 'a location without bitcache is untouched');

# --- a valid token ------------------------------------------------------------
my $tok = $t->grant('/files/film.bin', '--uses', 3);
like($tok, qr/^[A-Za-z0-9_-]+$/, 'token is URL-safe');

$r = $t->get("/files/film.bin?bitcache_token=$tok");
is($r->{status}, 200, 'query token: 200');
is(length $r->{content}, length $big, '10 MiB served');
is(sha256_hex($r->{content}), sha256_hex($big), 'bytes equal the file');
ok($r->{headers}{etag}, 'ETag from the static handler');
ok($r->{headers}{'last-modified'}, 'Last-Modified from the static handler');
my $L = length $big;
is($t->drawn_settled($tok), $L, 'the file\'s size drawn');

# ranges draw what they send
$r = $t->get('/files/film.bin', Cookie => "bitcache_token=$tok", Range => 'bytes=1000-1999');
is($r->{status}, 206, 'cookie token + range: 206');
is($r->{content}, substr($big, 1000, 1000), 'the right 1000 bytes');
is($t->drawn_settled($tok), $L + 1000, '1000 bytes drawn');
$r = $t->get('/files/film.bin', Cookie => "other=1; bitcache_token=$tok", Range => 'bytes=5000000-');
is($r->{status}, 206, 'open-ended range: 206');
is(sha256_hex($r->{content}), sha256_hex(substr($big, 5000000)), 'the rest of the file');
is($t->drawn_settled($tok), 2 * $L + 1000 - 5000000, 'and its length drawn');
$r = $t->http('HEAD', "/files/film.bin?bitcache_token=$tok");
is($r->{status}, 200, 'HEAD with token: 200');
is($r->{headers}{'content-length'}, length $big, 'HEAD has the length');

# conditional requests still work through the paywall, and draw nothing
my $etag = $r->{headers}{etag};
$r = $t->get("/files/film.bin?bitcache_token=$tok", 'If-None-Match' => $etag);
is($r->{status}, 304, 'If-None-Match: 304');
$r = $t->get("/files/film.bin?bitcache_token=$tok", 'If-Modified-Since' => $r->{headers}{'last-modified'});
is($r->{status}, 304, 'If-Modified-Since: 304');
is($t->drawn_settled($tok), 2 * $L + 1000 - 5000000, 'HEAD and 304 drew nothing');

# --- the allowance runs out -----------------------------------------------------
$r = $t->get("/files/film.bin?bitcache_token=$tok");
is($r->{status}, 200, 'a third whole file fits in what is left');
$r = $t->get("/files/film.bin?bitcache_token=$tok");
is($r->{status}, 402, 'a fourth does not');
like($r->{content}, qr/downloads used up/, 'and says why');
$r = $t->get('/files/film.bin', Cookie => "bitcache_token=$tok", Range => 'bytes=1-');
is($r->{status}, 402, 'nor the file but its first byte');
my $left = 3 * $L - $t->drawn_settled($tok);
$r = $t->get('/files/film.bin', Cookie => "bitcache_token=$tok", Range => 'bytes=0-' . ($left - 1));
is($r->{status}, 206, "the $left bytes left still go out");
is($r->{content}, substr($big, 0, $left), 'exactly');
for my $range ('bytes=0-0', 'bytes=-1', 'bytes=1-10,0-5', 'bytes=0-') {
    $r = $t->get("/files/film.bin?bitcache_token=$tok", Range => $range);
    is($r->{status}, 402, "then Range '$range': 402");
}

# If-Range that no longer matches would turn a range into the whole file
my $tok2 = $t->grant('/files/film.bin', '--uses', 1);
$r = $t->get("/files/film.bin?bitcache_token=$tok2", Range => 'bytes=100-199', 'If-Range' => '"stale"');
ok($r->{status} != 200 || length($r->{content}) < length($big),
   'a range never yields the whole file') or diag "status $r->{status}";
unlike($t->error_log, qr/\[alert\]/, 'refused cleanly');
like($t->error_log, qr/"\/files\/film.bin": the response would carry \d+ bytes, 100 were drawn: no body sent/, 'and logged');
is($t->drawn_settled($tok2), 0, 'nothing stays drawn');
$r = $t->get("/files/film.bin?bitcache_token=$tok2");
is(sha256_hex($r->{content}), sha256_hex($big), 'the token still downloads once');

# --- bad tokens cost no Redis call ------------------------------------------
my $secret = $t->secret_bytes;
my $now = time;
my %bad = (
    'tampered'        => do { my $x = $t->grant('/files/book.pdf'); substr($x, 20, 1) = substr($x, 20, 1) eq 'A' ? 'B' : 'A'; $x },
    'truncated'       => substr($t->grant('/files/book.pdf'), 0, 60),
    'expired'         => mint_token($secret, "\x01" x 16, $now - 10, 1, '/files/book.pdf'),
    'other product'   => mint_token($secret, "\x02" x 16, $now + 3600, 1, '/files/film.bin'),
    'other secret'    => mint_token("\x00" x 32, "\x03" x 16, $now + 3600, 1, '/files/book.pdf'),
    '8 KiB'           => 'A' x 8192,
    'not base64url'   => 'AQ!!' x 20,
    'empty'           => '',
);
my $calls = $t->redis_calls_all;
for my $name (sort keys %bad) {
    $r = $t->get("/files/book.pdf?bitcache_token=$bad{$name}", Accept => 'application/json');
    is($r->{status}, 402, "$name token: 402");
}
$r = $t->get('/files/book.pdf', Cookie => 'bitcache_token=' . $bad{'8 KiB'});
is($r->{status}, 402, '8 KiB token in a cookie: 402');
is($t->redis_calls_all, $calls, 'none of them reached Redis (every command counted)');
like($t->error_log, qr/402 for "\/files\/book.pdf": token expired/, 'the log says expired');
like($t->error_log, qr/402 for "\/files\/book.pdf": bad token MAC/, 'the log says bad MAC');
like($t->error_log, qr/402 for "\/files\/book.pdf": token is for another product/, 'the log says other product');

# genuine MAC, but no record in Redis (never granted, or Redis was flushed)
$r = $t->get('/files/book.pdf?bitcache_token=' . mint_token($secret, "\x04" x 16, $now + 3600, 1, '/files/book.pdf'));
is($r->{status}, 402, 'a token without a Redis record: 402');
like($t->error_log, qr/unknown token/, 'logged as unknown');
Time::HiRes::sleep(0.2);
is($t->redis('EXISTS', 'bitcache:tok:' . ('04' x 16)), 0, 'and no stray record is left behind');
$r = $t->get('/files/book.pdf', Range => 'bytes=5-', Cookie => 'bitcache_token=' . mint_token($secret, "\x04" x 16, $now + 3600, 1, '/files/book.pdf'));
is($r->{status}, 402, 'nor may it resume');

# --- revocation -------------------------------------------------------------
my $tok3 = $t->grant('/files/book.pdf', '--uses', 0);
is($t->get("/files/book.pdf?bitcache_token=$tok3")->{content}, $small, 'unlimited token works');
is($t->get("/files/book.pdf?bitcache_token=$tok3")->{content}, $small, 'and again');
my ($rc, $out) = $t->cli('revoke', '--redis', $t->redis_addr, $tok3);
is($rc, 0, 'revoke exits 0');
$r = $t->get("/files/book.pdf?bitcache_token=$tok3");
is($r->{status}, 402, 'revoked: 402');
like($r->{content}, qr/token revoked/, 'says revoked');
$r = $t->get("/files/book.pdf?bitcache_token=$tok3", Range => 'bytes=10-');
is($r->{status}, 402, 'revoked: no resume either');

# --- a count that is not a number (someone wrote to Redis): fail closed ----
my $tok4 = $t->grant('/files/book.pdf', '--uses', 2);
is($t->get("/files/book.pdf?bitcache_token=$tok4")->{status}, 200, 'a download');
my $key4 = 'bitcache:tok:' . TokenRef::parse_token($tok4)->{id};
my ($field) = grep { /^b:/ } @{ $t->redis('HKEYS', $key4) };
$t->redis('HSET', $key4, $field, 'lots');
$r = $t->get("/files/book.pdf?bitcache_token=$tok4");
is($r->{status}, 503, 'a corrupt record: 503, not the file');
like($t->error_log, qr/unexpected redis reply: ERR hash value is not an integer/, 'logged');

# --- tokens stay out of the logs ----------------------------------------------
my $logs = $t->access_log . $t->error_log;
for my $x ($tok, $tok2, $tok3) {
    unlike($logs, qr/\Q$x\E/, 'token not in the logs');
}
like($t->access_log, qr/bitcache_token=\*{20,}/, 'the access log shows it masked');

$t->stop_nginx;
$t->check_log_clean;
done_testing;
