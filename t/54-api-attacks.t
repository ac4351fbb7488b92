#!/usr/bin/perl
# The attack review of the API, through real nginx: what a buyer or anyone
# on the web sends (paths, headers, cookies, bodies), and what each gets.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use JSON::PP qw(decode_json encode_json);
use BcTest;

plan skip_all => 'module or tools not built (make all unit)'
    unless -f $BcTest::MODULE && -x "$BcTest::TOOLS/pay_invoice";

my $t = BcTest->new;
$t->start_redis;
my $book = $t->make_file('files/book.pdf', 20_000);
$t->make_file('evil.example/x', 100);
# a site that sells from its root, slashes not merged: the product ($uri)
# may then start with "//"
$t->start_nginx($t->selling_http(<<'LOC'));
        merge_slashes off;
        location /files/ { bitcache on; }
        location / { bitcache on; }
LOC

sub json_of { my $j = eval { decode_json($_[0]{content}) }; return $j || {} }

# --- a product that starts with "//": the download link stays on this site ----------
{
    my $inv = $t->new_invoice('//evil.example/x');
    $t->pay_invoice($inv->{id}, 12_345, 1);
    my $s = $t->invoice_status($inv->{id});
    ok($s->{token}, '//evil.example/x: paid, a token');
    my $link = $s->{download_url} // '';
    unlike($link, qr{^//}, 'its download link is no protocol-relative URL to another host')
        or diag $link;
    like($link, qr{^/}, 'a path on this site');
    my $page = $t->get("/bitcache/invoices/$inv->{id}",
                       'X-Bitcache-Claim' => $t->claim_of($inv->{id}))->{content};
    unlike($page, qr{href="//}, 'the page links to no other host');
    my $r = $t->get("/bitcache/invoices/$inv->{id}", Accept => 'application/json',
                    'X-Bitcache-Claim' => $t->claim_of($inv->{id}));
    my ($cookie) = grep { /^bitcache_token=/ } @{ ref $r->{headers}{'set-cookie'}
                                                  ? $r->{headers}{'set-cookie'}
                                                  : [ $r->{headers}{'set-cookie'} // () ] };
    unlike($cookie // '', qr{Path=//}, 'the token cookie\'s path is no "//" either');
    # the link still downloads the file it was bought for
    is($t->get($link)->{status}, 200, 'the link downloads')
        if $link =~ m{^/[^/]};
}

# --- a line break and a terminal escape in the product (the URI): the API's log
# lines hold them escaped (a forged "[alert]" line would start at the break)
{
    my $path = '/files/x%0a2026/01/01%2000:00:00%20%5Bnotice%5D%201%231:%20FORGED%1b%5B31m.pdf';
    my $r = $t->get($path, Accept => 'application/json');
    is($r->{status}, 402, 'a product with CR/LF and ESC: 402');
    my $offer = json_of($r)->{offer};
    $r = $t->raw('POST', '/bitcache/invoices', encode_json({ offer => $offer }),
                 'Content-Type' => 'application/json', Accept => 'application/json');
    is($r->{status}, 201, 'an invoice for it');
    my $id = json_of($r)->{id} // 'none';
    like($t->error_log, qr{bitcache: invoice $id for "/files/x\\x0a2026/01/01 00:00:00 \[notice\] 1#1: FORGED\\x1b\[31m\.pdf"},
         'the invoice\'s log line: the break and the escape as \\x0a, \\x1b');
    unlike($t->error_log, qr/^2026\/01\/01 00:00:00 \[notice\] 1#1: FORGED\x1b\[31m\.pdf": \d+ sats/m,
           'no forged line from it');
    unlike($t->error_log, qr/^2026\/01\/01 00:00:00 \[notice\] 1#1: FORGED/m,
           'no forged line from the 402 either');
}

# --- a Redis writer's records of the wrong type: 503, and the log says why -----------
{
    my $id = '0' x 31 . '1';
    $t->redis('SET', "bitcache:inv:$id", 'x');
    my $r = $t->get("/bitcache/invoices/$id", Accept => 'application/json');
    is($r->{status}, 503, 'inv:<id> a string: 503');
    like($t->error_log, qr/\[warn\].*bitcache: invoice $id unreadable: WRONGTYPE/,
         'log: the invoice is unreadable, and why');
    my ($counter) = @{ $t->redis('KEYS', 'bitcache:index:*') };
    my $n = $t->redis('GET', $counter);
    $t->redis('SET', $counter, 'not a number');
    my $offer = json_of($t->get('/files/book.pdf', Accept => 'application/json'))->{offer};
    $r = $t->raw('POST', '/bitcache/invoices', encode_json({ offer => $offer }),
                 'Content-Type' => 'application/json', Accept => 'application/json');
    is($r->{status}, 503, 'a counter that is no number: 503');
    ok($r->{headers}{'retry-after'}, 'with Retry-After');
    like($t->error_log, qr/\[error\].*derivation counter of wallet [0-9a-f]{16}: ERR value is not an integer/,
         'log: the counter, and why');
    $t->redis('SET', $counter, $n);
}

# --- a reuse: member above the counter (never handed out): dropped, not taken -------
# (an index far past the wallet's gap limit would hide the payment from the
# creator's wallet)
{
    my ($counter) = @{ $t->redis('KEYS', 'bitcache:index:*') };
    my ($wid) = $counter =~ /index:([0-9a-f]{16})$/;
    my $n = $t->redis('GET', $counter);
    $t->redis('ZADD', "bitcache:reuse:$wid", 0, '0999999999');
    my $offer = json_of($t->get('/files/book.pdf', Accept => 'application/json'))->{offer};
    my $r = $t->raw('POST', '/bitcache/invoices', encode_json({ offer => $offer }),
                    'Content-Type' => 'application/json', Accept => 'application/json');
    is($r->{status}, 201, 'a reuse: member above the counter: an invoice all the same');
    my $id = json_of($r)->{id} // 'none';
    is($t->invoice($id)->{index}, $n, 'at the counter\'s next index, not 999999999');
    is($t->redis('ZCARD', "bitcache:reuse:$wid"), 0, 'the member is dropped');
    like($t->error_log, qr/reuse set of wallet $wid listed "[^"]*0999999999", not an index/,
         'log: dropped, and why');
}

# --- the claim among many wrong ones (cookies and headers): found, nothing else -------
{
    my $inv = $t->new_invoice('/files/book.pdf');
    $t->pay_invoice($inv->{id}, 12_345, 1);
    my $claim = $t->claim_of($inv->{id});
    my $junk = join '; ', map { 'bitcache_claim=' . ('A' x 43) } 1 .. 100;
    my $r = $t->raw('GET', "/bitcache/invoices/$inv->{id}", undef, Accept => 'application/json',
                    Cookie => "$junk; bitcache_claim=$claim");
    ok(json_of($r)->{token}, 'the right claim after 100 wrong cookies: the token');
    $r = $t->raw('GET', "/bitcache/invoices/$inv->{id}", undef, Accept => 'application/json',
                 Cookie => $junk, 'X-Bitcache-Claim' => substr($claim, 0, 42) . '=');
    ok(!json_of($r)->{token}, 'only wrong ones: no token');
    $r = $t->raw('GET', "/bitcache/invoices/$inv->{id}", undef, Accept => 'application/json',
                 Cookie => "bitcache_claim=$claim" . 'x');
    ok(!json_of($r)->{token}, 'the claim with a byte more: no token');
    $r = $t->raw('GET', "/bitcache/invoices/$inv->{id}", undef, Accept => 'application/json',
                 Cookie => "x_bitcache_claim=$claim");
    ok(!json_of($r)->{token}, 'the claim under another cookie name: no token');
    is($t->raw('HEAD', "/bitcache/invoices/$inv->{id}", undef, 'X-Bitcache-Claim' => $claim)->{content}, '',
       'HEAD: no body');
}

$t->check_log_clean;
done_testing();
