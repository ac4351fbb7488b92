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

$t->check_log_clean;
done_testing();
