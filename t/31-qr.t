#!/usr/bin/perl
# The payment page's QR code: bc_qr_svg's SVG for real BIP21 URIs, rendered
# to PNG by librsvg (rsvg-convert) and read back by zbar (zbarimg), equals
# the URI byte for byte.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use File::Temp qw(tempdir);
use BcTest;

my $root = $BcTest::ROOT;
my $dump = "$root/build/tools/qr_svg_dump";
plan skip_all => "$dump not built (make unit)" unless -x $dump;
plan skip_all => "$BcTest::CLI not built (make cli)" unless -x $BcTest::CLI;
for my $tool (qw(rsvg-convert zbarimg)) {
    plan skip_all => "$tool missing (make deps)" if system("command -v $tool >/dev/null") != 0;
}

my $dir = tempdir('bitcache-qr-XXXXXX', TMPDIR => 1, CLEANUP => 1);

# real addresses, derived by bitcache from the BIP49 example account key
my $upub = 'upub5EFU65HtV5TeiSHmZZm7FUffBGy8UKeqp7vw43jYbvZPpoVsgU93oac7Wk3u6moKegAEWtGNF8DehrnHtv21XXEMYRUocHqguyjknFHYfgY';
my $xpub = 'xpub6BgBgsespWvERF3LHQu6CnqdvfEvtMcQjYrcRzx53QJjSxarj2afYWcLteoGVky7D3UKDP9QyrLprQ3VCECoY49yfdDEHGCtMMj92pReUsQ';
my ($tpub) = `$BcTest::CLI derive $upub --descriptor` =~ /\((tpub\w+)\//;
ok($tpub, 'a tpub from bitcache derive --descriptor');
sub address {
    my ($key, $net) = @_;
    my ($addr) = `$BcTest::CLI derive '$key' --network $net --count 1 2>/dev/null` =~ /^0 (\S+)$/m;
    return $addr;
}
my $wpkh = address("wpkh($tpub/0/*)", 'regtest');
my $tr = address("tr($xpub/0/*)", 'mainnet');
my $pkh = address("pkh($tpub/0/*)", 'testnet');
like($wpkh, qr/^bcrt1q[a-z0-9]{38}$/, "regtest P2WPKH $wpkh");
like($tr, qr/^bc1p[a-z0-9]{58}$/, "mainnet taproot, 62 characters: $tr");
is(length $tr, 62, 'taproot address length');
like($pkh, qr/^[mn][1-9A-HJ-NP-Za-km-z]{25,34}$/, "testnet P2PKH $pkh");

my @uris = (
    "bitcoin:$wpkh?amount=0.00012345",
    "bitcoin:$tr?amount=0.001&label=Caf%C3%A9%20%26%20B%C3%BCcher"
        . "&message=Order%20%2342%3A%20%22Book%22%20%3Cscript%3Ealert(1)%3C%2Fscript%3E",
    'bitcoin:' . uc($wpkh) . '?amount=1.5',    # BIP21: upper case for denser QR codes
    "bitcoin:$pkh?amount=21000000&label=~tilde_under.score-dash",
    "bitcoin:$tr",
    "bitcoin:$wpkh?amount=0.0001&message=" . ('%E2%82%BF' x 40),
);

my $i = 0;
for my $uri (@uris) {
    $i++;
    my $svg = `'$dump' '$uri'`;
    is($?, 0, "uri $i: qr_svg_dump exits 0");
    like($svg, qr/^<svg [^>]*viewBox="0 0 (\d+) \1"/, "uri $i: an <svg> with a square viewBox");
    open my $fh, '>', "$dir/$i.svg" or die;
    print $fh $svg;
    close $fh;
    system('rsvg-convert', '-w', 400, '-h', 400, '-o', "$dir/$i.png", "$dir/$i.svg") == 0
        or diag("rsvg-convert failed");
    my $got = `zbarimg --raw -q '$dir/$i.png' 2>/dev/null`;
    $got =~ s/\n\z//;
    is($got, $uri, "uri $i: zbarimg reads back the URI (" . length($uri) . " bytes)");
}

# small renderings still decode: 2 pixels per module
my $svg = `'$dump' '$uris[0]'`;
my ($size) = $svg =~ /viewBox="0 0 (\d+)/;
open my $fh, '>', "$dir/small.svg" or die;
print $fh $svg;
close $fh;
system('rsvg-convert', '-w', 2 * $size, '-h', 2 * $size, '-o', "$dir/small.png", "$dir/small.svg");
my $got = `zbarimg --raw -q '$dir/small.png' 2>/dev/null`;
$got =~ s/\n\z//;
is($got, $uris[0], "decodes at 2 px per module ($size modules)");

# nothing to encode
is(system("'$dump' '' 2>/dev/null") >> 8, 1, 'empty text: exit 1');

done_testing();
