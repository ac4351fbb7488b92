#!/usr/bin/perl
# libbitcache's transaction and block parser (build/tools/tx_dump) against
# independent implementations: 300 random transactions from bitcoinjs-lib
# (legacy and segwit, up to 300 inputs and 260 outputs, every script type)
# must give the same txid, counts, locktime and outputs, and every truncated
# or extended copy must be refused; then real blocks of a regtest node
# (bcoin), with segwit payments, must give the node's block hash, parent and
# txids.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use JSON::PP qw(decode_json);
use File::Temp ();
use BcTest;

my $DUMP = "$BcTest::TOOLS/tx_dump";

sub dump_hex {
    my ($kind, $hex) = @_;
    my ($fh, $path) = File::Temp::tempfile(UNLINK => 1);
    print $fh $hex;
    close $fh;
    my $out = `$DUMP $kind < $path 2>/dev/null`;
    my $rc = $? >> 8;
    unlink $path;
    return ($rc, $out);
}

# --- random transactions from bitcoinjs-lib --------------------------------
my @txs = map { decode_json($_) } split /\n/, `node t/node/txgen.js 300 42`;
is(scalar @txs, 300, '300 transactions from bitcoinjs-lib');
my ($same, $segwit, $refused) = (0, 0, 0);
for my $i (0 .. $#txs) {
    my $j = $txs[$i];
    my ($rc, $out) = dump_hex('tx', $j->{hex});
    my $want = "$j->{txid} $j->{segwit} $j->{nin} " . scalar(@{ $j->{outs} }) . " $j->{locktime}\n"
             . join('', map { "$_->[0] $_->[1]\n" } @{ $j->{outs} });
    if ($rc == 0 && $out eq $want) { $same++ } else { diag "tx $i differs:\n$out\nwant\n$want" if $same + 5 > $i }
    $segwit++ if $j->{segwit};
    next if $i >= 40;
    # a few truncations and an extra byte, each must be refused
    my $len = length($j->{hex}) / 2;
    my $all = 1;
    for my $cut (0, 1, 4, 5, 6, int($len / 2), $len - 5, $len - 1) {
        next if $cut < 0 || $cut >= $len;
        my ($r) = dump_hex('tx', substr($j->{hex}, 0, 2 * $cut));
        $all = 0 if $r == 0;
    }
    my ($r) = dump_hex('tx', $j->{hex} . '00');
    $all = 0 if $r == 0;
    $refused++ if $all;
}
is($same, 300, 'txid, counts, locktime and every output agree');
ok($segwit > 100 && $segwit < 300, "both serializations ($segwit segwit)");
is($refused, 40, 'truncated and extended copies refused');

# --- a real node's blocks --------------------------------------------------------
my $t = BcTest->new;
$t->start_node;
$t->fund_wallet;
my @paid;
for (1 .. 5) {
    push @paid, $t->send_sats($t->wallet_rpc('getnewaddress', 'default'), 10_000 + $_);
}
my $raw = $t->node_rpc('getrawtransaction', $paid[0], JSON::PP::false);   # from the mempool
my ($hash) = @{ $t->mine(1) };
my $hex = $t->node_rpc('getblock', $hash, JSON::PP::false);
my $verbose = $t->node_rpc('getblock', $hash, JSON::PP::true);
my ($rc, $out) = dump_hex('block', $hex);
is($rc, 0, 'the node\'s raw block parses');
my ($head, @txids) = split /\n/, $out;
is($head, "$hash $verbose->{previousblockhash} " . scalar(@{ $verbose->{tx} }), 'hash, parent, count');
my @want = map { ref $_ ? $_->{txid} : $_ } @{ $verbose->{tx} };
is_deeply(\@txids, \@want, 'every txid as the node says');
is(scalar(grep { my $p = $_; grep { $_ eq $p } @txids } @paid), 5, 'the wallet\'s payments are in it');
($rc, $out) = dump_hex('tx', $raw);
like($out, qr/^$paid[0] 1 /, 'a wallet payment: segwit, txid as the node says');
($rc) = dump_hex('block', substr($hex, 0, length($hex) - 2));
is($rc, 1, 'a truncated block is refused');
$t->stop_node;
done_testing;
