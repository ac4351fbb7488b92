#!/usr/bin/perl
# `bitcache derive` against an independent implementation (bitcoinjs-lib,
# bip32, tiny-secp256k1 in t/node): 10,000 addresses and scriptPubKeys per
# address type on mainnet and on regtest, then the CLI's refusals.
use strict;
use warnings;
use File::Basename qw(dirname);
use Test::More;

my $root = dirname(dirname(__FILE__)) eq '' ? '.' : dirname(dirname(__FILE__));
$root = '.' if $root eq 't';
my $bitcache = "$root/build/bitcache";
my $node_dir = "$root/t/node";
my $count = $ENV{BITCACHE_CROSSCHECK_COUNT} // 10000;

plan skip_all => "$bitcache not built (make cli)" unless -x $bitcache;
plan skip_all => 'node or t/node/node_modules missing (make deps)'
    unless -d "$node_dir/node_modules" && system('node --version >/dev/null 2>&1') == 0;

sub run {
    my ($cmd) = @_;
    my $out = `$cmd 2>/tmp/bitcache-20-stderr.$$`;
    my $rc = $? >> 8;
    local $/;
    open my $fh, '<', "/tmp/bitcache-20-stderr.$$" or die;
    my $err = <$fh>;
    unlink "/tmp/bitcache-20-stderr.$$";
    return ($rc, $out, $err);
}

# account keys from the BIP and SLIP-132 examples
my %key = (
    xpub => 'xpub6BgBgsespWvERF3LHQu6CnqdvfEvtMcQjYrcRzx53QJjSxarj2afYWcLteoGVky7D3UKDP9QyrLprQ3VCECoY49yfdDEHGCtMMj92pReUsQ',
    ypub => 'ypub6Ww3ibxVfGzLrAH1PNcjyAWenMTbbAosGNB6VvmSEgytSER9azLDWCxoJwW7Ke7icmizBMXrzBx9979FfaHxHcrArf3zbeJJJUZPf663zsP',
    zpub => 'zpub6rFR7y4Q2AijBEqTUquhVz398htDFrtymD9xYYfG1m4wAcvPhXNfE3EfH1r1ADqtfSdVCToUG868RvUUkgDKf31mGDtKsAYz2oz2AGutZYs',
    upub => 'upub5EFU65HtV5TeiSHmZZm7FUffBGy8UKeqp7vw43jYbvZPpoVsgU93oac7Wk3u6moKegAEWtGNF8DehrnHtv21XXEMYRUocHqguyjknFHYfgY',
);
# the upub's key as a tpub, written out by bitcache itself
my ($rc, $out) = run("$bitcache derive $key{upub} --descriptor");
is($rc, 0, 'upub -> descriptor');
my ($tpub) = $out =~ /\((tpub\w+)\//;
ok($tpub, "descriptor spells the key as tpub: $out");

# [what bitcache gets, what derive.js gets, type, network, extra options]
my @cases = (
    [$key{xpub}, $key{xpub}, 'p2pkh', 'mainnet', ''],
    [$key{ypub}, $key{ypub}, 'p2sh-p2wpkh', 'mainnet', ''],
    [$key{zpub}, $key{zpub}, 'p2wpkh', 'mainnet', ''],
    ["tr($key{xpub}/0/*)", $key{xpub}, 'p2tr', 'mainnet', ''],
    ["pkh($tpub/0/*)", $tpub, 'p2pkh', 'regtest', ''],
    [$key{upub}, $key{upub}, 'p2sh-p2wpkh', 'regtest', ''],
    ["wpkh($tpub/0/*)", $tpub, 'p2wpkh', 'regtest', ''],
    ["tr($tpub/0/*)", $tpub, 'p2tr', 'regtest', ''],
    # the change chain and a later range, once each
    [$key{zpub}, $key{zpub}, 'p2wpkh', 'mainnet', 'change'],
    ["tr($tpub/1/*)", $tpub, 'p2tr', 'regtest', 'change'],
);
for my $c (@cases) {
    my ($ours_key, $their_key, $type, $net, $change) = @$c;
    my $n = $change ? 1000 : $count;
    my $from = $change ? 2147482647 - $n : 0;
    my $flag = ($change && $ours_key !~ /\(/) ? '--change' : '';
    my ($rc1, $ours, $err1) = run("$bitcache derive '$ours_key' --network $net --from $from --count $n --spk $flag");
    my ($rc2, $theirs, $err2) = run("node $node_dir/derive.js '$their_key' $type $net $from $n $change");
    my $what = sprintf "%s %s %s%s: %d addresses", $type, $net, substr($ours_key, 0, 12),
        $change ? ' (change)' : '', $n;
    is($rc1, 0, "bitcache: $what") or diag $err1;
    is($rc2, 0, "bitcoinjs: $what") or diag $err2;
    my @a = split /\n/, $ours;
    my @b = split /\n/, $theirs;
    is(scalar @a, $n, "  $n lines");
    my ($first_diff) = grep { $a[$_] ne ($b[$_] // '') } 0 .. $#a;
    ok(!defined $first_diff && @a == @b, "  identical to bitcoinjs-lib")
        or diag "first difference:\n  bitcache:  $a[$first_diff]\n  bitcoinjs: " . ($b[$first_diff] // '(none)');
}

# refusals: exit 2 and a message saying what is wrong
my @bad = (
    ['xprv9s21ZrQH143K3QTDL4LXw2F7HEK3wJUD2nW2nRk4stbPy6cq3jPPqjiChkVvvNKmPGJxWUtg6LnF5kejMRNNU3TGtRBeJgk33yuGBxrMPHi',
     qr/the server must never hold a private key/, 'xprv'],
    ['tprv8ZgxMBicQKsPd9TeAdPADNnSyH9SSUUbTVeFszDE23Ki6TBB5nCefAdHkK8Fm3qMQR6sHwA56zqRmKmxnHk37JkiFzvncDqoKmPWubu7hDF',
     qr/the server must never hold a private key/, 'tprv'],
    ['wpkh(xprv9s21ZrQH143K3QTDL4LXw2F7HEK3wJUD2nW2nRk4stbPy6cq3jPPqjiChkVvvNKmPGJxWUtg6LnF5kejMRNNU3TGtRBeJgk33yuGBxrMPHi/0/*)',
     qr/the server must never hold a private key/, 'xprv in a descriptor'],
    ['KyZpNDKnfs94vbrwhJneDi77V6jF64PWPF8x5cdJb8ifgg2DUc9d', qr/WIF private key: the server must never hold/, 'WIF'],
    [substr($key{zpub}, 0, -1) . 't', qr/checksum/, 'mistyped zpub'],
    ["wpkh($key{xpub}/0/*)#qqqqqqqq", qr/bad descriptor checksum/, 'bad descriptor checksum'],
    ["wpkh($key{xpub}/0/*", qr/descriptor syntax: expected '\)' at character 121/, 'unclosed descriptor'],
    ["wsh($key{xpub}/0/*)", qr/descriptor syntax: expected pkh\(/, 'unsupported descriptor'],
    ["wpkh($key{xpub}/0h/*)", qr/hardened step/, 'hardened step'],
    ["$key{zpub} --network regtest", qr/zpub is a mainnet key/, 'zpub on regtest'],
    ["$key{zpub} --network moon", qr/unknown network 'moon'/, 'unknown network'],
    ["$key{zpub} --count x", qr/--count takes a number/, 'bad count'],
    ["wpkh($key{xpub}/0/*) --change", qr/names its own chain/, '--change with a descriptor'],
);
for my $b (@bad) {
    my ($arg, $re, $what) = @$b;
    my $quoted = $arg =~ /^(\S+)(.*)$/ ? "'$1'$2" : $arg;
    my ($rc, $out, $err) = run("$bitcache derive $quoted");
    is($rc, 2, "$what: exit 2");
    like($err, $re, "$what: message") or diag $err;
    is($out, '', "$what: nothing on stdout");
}

# a descriptor without checksum: the checksummed form on stderr
($rc, $out, my $err) = run("$bitcache derive 'wpkh($key{xpub}/0/*)' --count 1");
like($err, qr/^descriptor with checksum: wpkh\(\Q$key{xpub}\E\/0\/\*\)#[a-z0-9]{8}$/m,
     'checksummed descriptor printed on stderr');
my ($sum) = $err =~ /(#\w{8})/;
($rc, my $out2) = run("$bitcache derive 'wpkh($key{xpub}/0/*)$sum' --count 1");
is($out2, $out, 'and accepted back with the same addresses');
($rc, $out) = run("$bitcache derive $key{zpub}");
is(scalar(split /\n/, $out), 10, 'default: 10 addresses from index 0');
like($out, qr/^0 bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu$/m, '  BIP84 first address');

done_testing();
