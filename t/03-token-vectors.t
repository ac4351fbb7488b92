#!/usr/bin/perl
# The token vectors of docs/protocol.md, recomputed by an independent Perl
# implementation (t/lib/TokenRef.pm); t/unit/token.c checks the C code
# against the same file.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use TokenRef qw(mint_token token_key parse_token);

open my $fh, '<:raw', 't/vectors/token.tsv' or die "t/vectors/token.tsv: $!";
my $n = 0;
while (<$fh>) {
    next if /^#/;
    chomp;
    my ($secret, $id, $expires, $uses, $product, $key, $token) = split /\t/;
    $n++;
    is(unpack('H*', token_key(pack 'H*', $secret)), $key, "vector $n: token key");
    is(mint_token(pack('H*', $secret), pack('H*', $id), $expires, $uses, $product), $token, "vector $n: token");
    my $p = parse_token($token);
    is_deeply([@$p{qw(version id expires uses product)}], [1, $id, $expires, $uses, $product], "vector $n: fields");
    like($token, qr/^[A-Za-z0-9_-]+$/, "vector $n: URL-safe");
}
is($n, 3, 'three vectors');

open my $doc, '<:raw', 'docs/protocol.md' or die;
my $text = do { local $/; <$doc> };
seek $fh, 0, 0;
while (<$fh>) {
    next if /^#/;
    my $token = (split /\t/)[6];
    chomp $token;
    like($text, qr/\Q$token\E/, 'docs/protocol.md shows the same token');
}
done_testing;
