#!/usr/bin/perl
# Limited giveaways (docs/creators.md): the first N copies of a product are
# free, claimed by POST <api>/free with the 402's offer. Exactly N under 50
# parallel claims across two nginx instances on one Redis; each copy is an
# ordinary token (the file's bytes, the location's limits); one copy per
# address within a window; a counter set back in Redis gives no copy twice
# (the copy's token record exists: 503) and a host that saw the giveaway
# run out gives none whatever the counter says; forged offers and catalog
# records give nothing; Redis down is 503.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use JSON::PP;
use HTTP::Tiny;
use BcTest;

plan skip_all => 'module or tools not built (make all unit)'
    unless -f $BcTest::MODULE && -x $BcTest::CLI;

my $t = BcTest->new;
$t->start_redis;
my %file = (
    g => $t->make_file('g/a.bin', 30_000),
    b => $t->make_file('b/b.bin', 2_000),
    w => $t->make_file('w/w.bin', 1_000),
    s => $t->make_file('s/s.bin', 1_000),
    c => $t->make_file('c/c.bin', 1_000),
    f => $t->make_file('f/f.bin', 1_000),
);
my $locations = <<'LOC';
        bitcache_max_downloads 2;
        location /g/ { bitcache on; bitcache_free_first 10; }
        location /b/ { bitcache on; bitcache_free_first 3; }
        location /w/ { bitcache on; bitcache_free_first 5; bitcache_free_per_address 1h; }
        location /s/ { bitcache on; }
        location /c/ { bitcache on; bitcache_free_first 4; }
        location /f/ { bitcache on; bitcache_free_first 2; }
LOC
$t->start_nginx($t->selling_http($locations));

# a second nginx on the same Redis, with the same secret: another host
my $t2 = BcTest->new;
$t2->{redis_port} = $t->{redis_port};
$t2->write_file('secret', do { local (@ARGV, $/) = $t->dir . '/secret'; <> }, 0600);
$t2->write_file("html/$_", do { local (@ARGV, $/) = $t->dir . "/html/$_"; <> })
    for qw(g/a.bin b/b.bin);
$t2->start_nginx($t2->selling_http($locations));

sub json_of { my $r = shift; return eval { decode_json($r->{content}) } || {} }

sub page402 {
    my ($host, $path) = @_;
    my $r = $host->get($path, Accept => 'application/json');
    return ($r, json_of($r));
}

# POST <api>/free; %o: form (a form body, no JSON), local (source address),
# headers
sub claim {
    my ($host, $offer, %o) = @_;
    my $ua = HTTP::Tiny->new(timeout => 20, max_redirect => 0, keep_alive => 0,
                             ($o{local} ? (local_address => $o{local}) : ()));
    my %h = %{ $o{headers} || {} };
    my $body;
    if ($o{form}) {
        $h{'Content-Type'} = 'application/x-www-form-urlencoded';
        $body = "offer=$offer";
    } else {
        $h{'Content-Type'} = 'application/json';
        $h{Accept} = 'application/json';
        $body = encode_json({ offer => $offer });
    }
    my $r = $ua->request('POST', $host->url('/bitcache/free'), { headers => \%h, content => $body });
    $r->{json} = json_of($r);
    return $r;
}

sub fetch_with {
    my ($host, $path, $token) = @_;
    return $host->get("$path?bitcache_token=$token");
}

# 1. the 402 says how many copies are free, and where to claim one
my ($r, $j) = page402($t, '/g/a.bin');
is($r->{status}, 402, '402 for a file with a giveaway');
is($j->{free_total}, 10, 'JSON: free_total 10');
is($j->{free_left}, 10, 'JSON: free_left 10');
is($j->{free_url}, '/bitcache/free', 'JSON: free_url');
my $offer_g = $j->{offer};
$r = $t->get('/g/a.bin');
like($r->{content}, qr{<b>10 of 10</b> free copies left}, 'the page: "10 of 10 free copies left"');
like($r->{content}, qr{<form id="free-form" method="post" action="/bitcache/free">}, 'the page: the "Get a free copy" form');
(undef, $j) = page402($t, '/s/s.bin');
ok(!exists $j->{free_total} && !exists $j->{free_left}, 'no giveaway: no free fields in the JSON');
unlike($t->get('/s/s.bin')->{content}, qr{free-form}, 'no giveaway: no free form on the page');
is($t->redis('GET', 'bitcache:free:/g/a.bin'), undef, 'showing the page gave nothing away');

# 2. what is refused before anything is counted
is(claim($t, $j->{offer})->{status}, 400, 'an offer without a giveaway: 400');
is(claim($t, $j->{offer})->{json}{error}, 'not_free', '... not_free');
my $bad = $offer_g;
substr($bad, 20, 1) = substr($bad, 20, 1) eq 'A' ? 'B' : 'A';
is(claim($t, $bad)->{json}{error}, 'bad_offer', 'a tampered offer (more copies?): 400 bad_offer');
is(claim($t, 'x' x 50)->{status}, 400, 'garbage: 400');
is($t->get('/bitcache/free')->{status}, 405, 'GET <api>/free: 405');
$r = claim($t, $offer_g, headers => { Origin => 'http://evil.example' });
is($r->{status}, 403, 'a POST from another site: 403');
$r = claim($t, $offer_g, headers => { 'Sec-Fetch-Site' => 'cross-site' });
is($r->{status}, 403, 'Sec-Fetch-Site: cross-site: 403');
is($t->redis('GET', 'bitcache:free:/g/a.bin'), undef, 'nothing counted yet');

# 3. 50 parallel claims across the two hosts: exactly 10
my $offer_g2 = (page402($t2, '/g/a.bin'))[1]{offer};
my @kids;
my $out = $t->dir . '/claims';
mkdir $out;
for my $i (1 .. 50) {
    my $pid = fork // die;
    if (!$pid) {
        my $host = $i % 2 ? $t : $t2;
        my $c = claim($host, $i % 2 ? $offer_g : $offer_g2);
        open my $fh, '>', "$out/$i" or exit 1;
        print $fh "$c->{status}\n$c->{content}";
        close $fh;
        POSIX::_exit(0);
    }
    push @kids, $pid;
}
waitpid $_, 0 for @kids;
my (%status, @copies, @tokens);
for my $i (1 .. 50) {
    open my $fh, '<', "$out/$i" or next;
    my ($st, $body) = split /\n/, do { local $/; <$fh> }, 2;
    $status{$st}++;
    next unless $st == 201;
    my $c = eval { decode_json($body) } || {};
    push @copies, $c->{copy};
    push @tokens, $c->{token};
}
is($status{201}, 10, '50 parallel claims on two hosts: exactly 10 copies (201)');
is($status{410}, 40, '... and 40 "no_free_copies" (410)');
is_deeply([sort { $a <=> $b } @copies], [1 .. 10], '... copies 1 to 10, each once');
is($t->redis('GET', 'bitcache:free:/g/a.bin'), 10, 'free:/g/a.bin is 10');
my $ok = grep { my $f = fetch_with($_ % 2 ? $t : $t2, '/g/a.bin', $tokens[$_]); $f->{status} == 200 && $f->{content} eq $file{g} } 0 .. $#tokens;
is($ok, 10, 'each copy downloads the exact bytes of the file');
my $f = $t->get("/g/a.bin?bitcache_token=$tokens[0]");
$f = $t->get("/g/a.bin?bitcache_token=$tokens[0]");
is($f->{status}, 402, 'a copy is an ordinary token: bitcache_max_downloads 2 applies');
($r, $j) = page402($t, '/g/a.bin');
is($j->{free_left}, 0, 'the 402 now says 0 left');
unlike($t->get('/g/a.bin')->{content}, qr{free-form}, '... and the page shows only the ways to pay');
like($t->get('/g/a.bin')->{content}, qr{id="offer-form"}, '... (the pay form is there)');

# 4. the counter set back: a host that saw it run out gives no more
$t->redis('SET', 'bitcache:free:/g/a.bin', 3);
$r = claim($t, $offer_g);
is($r->{status}, 410, 'counter set back to 3: the host that saw it run out answers 410');
is($t->redis('GET', 'bitcache:free:/g/a.bin'), 3, '... without asking Redis to count');
is((page402($t, '/g/a.bin'))[1]{free_left}, 0, '... and its 402 still says 0 left');
$t->redis('DEL', 'bitcache:free:/g/a.bin');
is(claim($t, $offer_g)->{status}, 410, 'counter deleted: 410');

# ... on a host that did not see it run out, the copies' records stand in
# the way: copy n exists, so the set-back counter gives nothing
my $offer_b = (page402($t, '/b/b.bin'))[1]{offer};
my @b = map { claim($t, $offer_b) } 1 .. 2;
is_deeply([map { $_->{status} } @b], [201, 201], '/b/: two of three copies claimed');
$t->redis('SET', 'bitcache:free:/b/b.bin', 0);
$r = claim($t, $offer_b);
is($r->{status}, 503, 'counter set back to 0: copy 1 exists, 503');
like($r->{json}{reason}, qr/giveaway counter rolled back/, '... "giveaway counter rolled back"');
like($t->error_log, qr/\[warn\].*giveaway of "\/b\/b\.bin": copy 1 exists already: giveaway counter rolled back/,
     '... logged at warn');
is(claim($t, $offer_b)->{status}, 503, 'copy 2 exists: 503');
$r = claim($t, $offer_b);
is($r->{status}, 201, 'copy 3 is new: given');
is($r->{json}{copy}, 3, '... as copy 3');
is(claim($t, $offer_b)->{status}, 410, 'then none left');
# the other host never saw it run out (neither a claim's 410 nor a page of 0
# left, which would leave it the mark too: t/91): a counter set back there
# meets the records of copies given
$t->redis('SET', 'bitcache:free:/b/b.bin', 0);
my $offer_b2 = (page402($t2, '/b/b.bin'))[1]{offer};
is((page402($t2, '/b/b.bin'))[1]{free_left}, 3, 'a host that never saw it run out believes the counter on its page');
is_deeply([map { claim($t2, $offer_b2)->{status} } 1 .. 4], [503, 503, 503, 410],
          '... but every copy it would give exists: 503, then none left');
is($t->redis('GET', 'bitcache:free:/b/b.bin'), 3, 'three copies in all');
is($t2->get('/b/b.bin', Accept => 'application/json')->{status}, 402, 'the other host too');
is(json_of($t2->get('/b/b.bin', Accept => 'application/json'))->{free_left}, 0, '... says 0 left');

# 5. one copy per address within the window
my $offer_w = (page402($t, '/w/w.bin'))[1]{offer};
$r = claim($t, $offer_w, local => '127.0.0.1');
is($r->{status}, 201, 'per address: the first claim from 127.0.0.1');
is($r->{json}{free_left}, 4, '... 4 left');
$r = claim($t, $offer_w, local => '127.0.0.1');
is($r->{status}, 429, 'the second from 127.0.0.1 within the window: 429');
is($r->{json}{error}, 'one_per_address', '... one_per_address');
is($r->{headers}{'retry-after'}, 3600, '... Retry-After: 3600');
is($t->redis('GET', 'bitcache:free:/w/w.bin'), 1, '... and it cost no copy');
$r = claim($t, $offer_w, local => '127.0.0.2');
is($r->{status}, 201, 'another address (127.0.0.2): given');
my $keys = $t->redis('KEYS', 'bitcache:freeip:*');
is(scalar @$keys, 2, 'two freeip: keys');
ok(!(grep { !m{^bitcache:freeip:/w/w\.bin:[0-9a-f]{32}$} } @$keys), '... named by a hash, no address in Redis');
my $ttl = $t->redis('TTL', $keys->[0]);
ok($ttl > 3500 && $ttl <= 3600, "... living as long as the window ($ttl s)");

# 6. forged catalog records give no copies
my $S = $t->dir . '/secret';
my ($rc, undef, $err) = $t->cli('product', 'set', '/c/c.bin', '--price', '777', '--secret', $S,
                                '--redis', $t->redis_addr);
is($rc, 0, 'bitcache product set /c/c.bin (a record without a giveaway)') or diag $err;
($r, $j) = page402($t, '/c/c.bin');
is($j->{price_sats}, 777, 'the catalog record sells it');
my $v3 = defined $t->redis('HGET', 'bitcache:prod:/c/c.bin', 'v');
is($j->{free_total}, $v3 ? undef : 4,
   $v3 ? 'a version 3 record without a giveaway: none (the record decides)'
       : 'a version 2 record: the directive\'s giveaway (4)');
$t->redis('HSET', 'bitcache:prod:/c/c.bin', 'free', '1000000');
($r, $j) = page402($t, '/c/c.bin');
if ($v3) {
    is($r->{status}, 503, 'a forged free field (1000000): the MAC fails, refused (503)');
} else {
    is($j->{free_total}, 4, 'a free field added to a version 2 record means nothing: still 4');
}
$t->redis('HSET', 'bitcache:prod:/c/c.bin', 'v', '3', 'suggested', '0', 'free', '1000000',
          'free_window', '0');
($r, $j) = page402($t, '/c/c.bin');
is($r->{status}, 503, 'a record forged into version 3 with 1000000 free copies: refused, 503');
ok(!exists $j->{free_total}, '... and no giveaway offered');
is($t->redis('GET', 'bitcache:free:/c/c.bin'), undef, '... nothing counted');

# ... a version 3 record (bitcache product set --free-first) decides the
# giveaway over the directive's, and a forged one gives nothing
($rc, undef, $err) = $t->cli('product', 'set', '/c/c.bin', '--price', '777', '--free-first', '2',
                             '--free-per-address', '1h', '--secret', $S, '--redis', $t->redis_addr);
is($rc, 0, 'bitcache product set /c/c.bin --free-first 2 --free-per-address 1h') or diag $err;
($r, $j) = page402($t, '/c/c.bin');
is($j->{free_total}, 2, "the record's giveaway: 2 (over the directive's 4)");
is($j->{free_left}, 2, '... 2 left');
my $offer_c = $j->{offer};
$r = claim($t, $offer_c);
is($r->{status}, 201, "a claim under the record's terms");
is(claim($t, $offer_c)->{status}, 429, "... its window (one per address) applies");
$t->redis('HSET', 'bitcache:prod:/c/c.bin', 'free', '1000000');
($r, $j) = page402($t, '/c/c.bin');
is($r->{status}, 503, 'its free field forged to 1000000: the MAC fails, refused (503)');
ok(!exists $j->{free_total}, '... no giveaway offered');
is($t->redis('GET', 'bitcache:free:/c/c.bin'), 1, '... one copy given in all');

# 7. a counter that is not a number: nothing given
my $offer_f = (page402($t, '/f/f.bin'))[1]{offer};
$t->redis('SET', 'bitcache:free:/f/f.bin', 'lots');
is((page402($t, '/f/f.bin'))[1]{free_left}, 0, 'a counter that is not a number: the 402 shows 0 left');
$r = claim($t, $offer_f);
is($r->{status}, 503, '... and a claim is 503');

# 8. a form claim: 303 to the file with the token cookie
$t->redis('DEL', 'bitcache:free:/f/f.bin');
$r = claim($t, $offer_f, form => 1);
is($r->{status}, 303, 'a form claim: 303');
like($r->{headers}{location}, qr{^(?:http://127\.0\.0\.1:\d+)?/f/f\.bin$}, '... to the file, no token in the URL');
my $cookie = $r->{headers}{'set-cookie'} // '';
like($cookie, qr{^bitcache_token=[A-Za-z0-9_-]+;.*Path=/f/f\.bin.*HttpOnly}i, '... the token cookie, HttpOnly, for the file');
my ($tok) = $cookie =~ /^bitcache_token=([^;]+)/;
$f = $t->get('/f/f.bin', Cookie => "bitcache_token=$tok");
ok($f->{status} == 200 && $f->{content} eq $file{f}, '... and the cookie downloads the file');

# 9. Redis down: 503, never a copy
$t->stop_redis;
$r = claim($t, $offer_f);
is($r->{status}, 503, 'Redis down: POST <api>/free is 503');
ok($r->{headers}{'retry-after'}, '... with Retry-After');
is($t->get('/f/f.bin')->{status}, 503, '... and the 402 of a file with a giveaway is 503');

my $log = $t->error_log . $t->access_log . $t2->error_log . $t2->access_log;
ok(!(grep { index($log, $_) >= 0 } grep { defined } @tokens, $tok), 'no token in the logs');
$t->check_log_clean;
$t2->check_log_clean;
done_testing;
