#!/usr/bin/perl
# The wallet records of docs/protocol.md ("Wallet records") by two
# implementations side by side: libbitcache (through build/tools/wallet_tool)
# and t/node/wallet.js, written from the page with Node's crypto and the npm
# bech32 package. Both must give the vectors of t/vectors/wallet.txt, the
# same answers to random records (made and parsed), and the same refusals
# of mangled ones; the page must show the vectors.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use File::Temp qw(tempfile);
use BcTest;

my $TOOL = "$BcTest::TOOLS/wallet_tool";
my $NODE = 't/node/wallet.js';
-x $TOOL or BAIL_OUT("$TOOL missing: make unit");

my $seed = $ENV{BC_SEED} // time;
srand $seed;
diag("seed $seed (BC_SEED=$seed to repeat)");

# Runs commands (array refs of fields) through one implementation.
sub run_all {
    my ($cmd, @lines) = @_;
    my ($fh, $file) = tempfile(UNLINK => 1);
    binmode $fh;
    print $fh join("\t", @$_), "\n" for @lines;
    close $fh;
    my @out = `$cmd < $file`;
    die "$cmd failed: $?" if $?;
    chomp @out;
    return @out;
}

sub both {
    my @lines = @_;
    my @c = run_all($TOOL, @lines);
    my @n = run_all("node $NODE", @lines);
    is(scalar @c, scalar @lines, 'C answered every line');
    is(scalar @n, scalar @lines, 'Node answered every line');
    return (\@c, \@n);
}

sub hexs { unpack 'H*', $_[0] }

# --- the vectors ----------------------------------------------------------
my %v;
open my $fh, '<', 't/vectors/wallet.txt' or die "t/vectors/wallet.txt: $!";
while (<$fh>) {
    next if /^#/ || !/=/;
    chomp;
    my ($k, $val) = split /=/, $_, 2;
    $v{$k} = $val;
}
close $fh;
is(scalar keys %v, 33, 'every vector read');

my $Z = '00' x 32;
my @vec = (
    [['code', $v{wallet_secret}], "$v{code}\t$v{wid}", 'code and wid'],
    [['decode', hexs($v{code})], $v{wallet_secret}, 'the code decodes'],
    [['state', $v{secret}, $v{wid}, $v{network}, $v{created}, 0, 0, $Z, 0], $v{state0_mac},
     'new state'],
    [['credit', $v{secret}, $v{wid}, 1, $v{received}, $v{credit_time}, $Z, $v{invoice},
      $v{network}, $v{received}, $v{conf}, $v{paid_at}, $v{spk}, $v{att}],
     "$v{credit_text}\t$v{credit_hash}", 'credit text and hash'],
    [['state', $v{secret}, $v{wid}, $v{network}, $v{created}, 1, $v{received}, $v{credit_hash}, 0],
     $v{state1_mac}, 'state after the credit'],
    [['debit', $v{secret}, $v{wid}, 2, $v{price}, $v{received} - $v{price}, $v{debit_time},
      $v{credit_hash}, $v{purchase}, $v{uses}, $v{expires}, hexs($v{product}), hexs($v{seller})],
     "$v{debit_text}\t$v{debit_hash}", 'debit text and hash'],
    [['state', $v{secret}, $v{wid}, $v{network}, $v{created}, 2, $v{received} - $v{price},
      $v{debit_hash}, $v{max_auto}], $v{state2_mac}, 'state after the debit'],
    [['owned', $v{secret}, $v{wid}, $v{purchase}, $v{uses}, $v{expires}, 2, hexs($v{product})],
     $v{owned}, 'ownership'],
    [['verify', $v{secret}, $v{wid}, hexs($v{credit_text})], '1', 'credit MAC verifies'],
    [['verify', $v{secret}, $v{wid}, hexs($v{debit_text})], '1', 'debit MAC verifies'],
    [['att', $v{watcher_pub}, hexs($v{credit_text})], '1', 'credit attestation verifies'],
    [['ownparse', $v{secret}, $v{wid}, hexs($v{product}), $v{owned}],
     join("\t", $v{purchase}, $v{uses}, $v{expires}, 2, (split / /, $v{owned})[4]),
     'ownership parses'],
);
is($v{credit_mac}, (split / /, $v{credit_text})[-1], 'credit_mac ends the credit');
is($v{debit_mac}, (split / /, $v{debit_text})[-1], 'debit_mac ends the debit');
{
    my ($c, $n) = both(map { $_->[0] } @vec);
    for my $i (0 .. $#vec) {
        is($c->[$i], $vec[$i][1], "C: $vec[$i][2]");
        is($n->[$i], $vec[$i][1], "Node: $vec[$i][2]");
    }
}

# --- random records, made by both -----------------------------------------
sub rhex { join '', map { sprintf '%02x', int rand 256 } 1 .. $_[0] }
sub rbytes { join '', map { chr int rand 256 } 1 .. $_[0] }

# numbers at and around the edges the parsers care about
my @edges = (0, 1, 2, 9, 10, 255, 256, 4294967295, 4294967296, '2100000000000000',
             '2100000000000001', '18446744073709551615', '18446744073709551616', '01', '');
sub rnum {
    my ($max) = @_;
    return $edges[rand @edges] if rand() < 0.1;
    return int rand($max // 1e15);
}

sub typed {
    my ($code) = @_;
    my $t = $code;
    $t = uc $t if rand() < 0.3;
    $t =~ s/(.{4})/$1-/g if rand() < 0.3;
    $t =~ s/(.{6})/$1 /g if rand() < 0.3;
    $t = " \t$t\t " if rand() < 0.2;
    return $t;
}

my @lines;
for (1 .. 100) {
    push @lines, ['code', rhex(20)];
    push @lines, ['state', rhex(32), rhex(16), int(rand 5), rnum(), rnum(), rnum(),
                  rand() < 0.2 ? $Z : rhex(32), rnum()];
    my $recv = rnum();
    my $seq = rnum();
    push @lines, ['credit', rhex(32), rhex(16), $seq, rnum(), rnum(), rand() < 0.5 ? $Z : rhex(32),
                  rhex(16), int(rand 5), $recv, rnum(5e9), rnum(), rhex(1 + int rand 36), rhex(64)];
    my $plen = rand() < 0.1 ? 1000 + int rand 30 : 1 + int rand 60;
    push @lines, ['debit', rhex(32), rhex(16), rnum(), rnum(), rnum(), rnum(),
                  rand() < 0.5 ? $Z : rhex(32), rhex(16), rnum(5e9), rnum(),
                  hexs(rbytes($plen)), hexs(rbytes(rand() < 0.1 ? 0 : 1 + int rand 120))];
    push @lines, ['owned', rhex(32), rhex(16), rhex(16), rnum(5e9), rnum(), rnum(),
                  hexs(rbytes(rand() < 0.05 ? 0 : 1 + int rand 80))];
}
my ($c, $n) = both(@lines);
my @d = grep { $c->[$_] ne $n->[$_] } 0 .. $#lines;
is(scalar @d, 0, 'random records: C and Node give the same answer to each');
diag("differs: @{$lines[$_]}: C '$c->[$_]' Node '$n->[$_]'") for @d[0 .. ($#d < 4 ? $#d : 4)];
my %made;
$made{ $lines[$_][0] }++ for grep { $c->[$_] ne 'error' } 0 .. $#lines;
for my $k (qw(code state credit debit owned)) {
    cmp_ok($made{$k} // 0, '>=', 10, "random ${k}s: some were made (" . ($made{$k} // 0) . ')');
}

# what was made reads back the same, in both, and decodes/verifies
my @back;
for my $i (0 .. $#lines) {
    next if $c->[$i] eq 'error';
    my $cmd = $lines[$i][0];
    if ($cmd eq 'code') {
        my ($code) = split /\t/, $c->[$i];
        push @back, ['decode', hexs(typed($code))];
    } elsif ($cmd eq 'credit' || $cmd eq 'debit') {
        my ($text) = split /\t/, $c->[$i];
        push @back, ['parse', hexs($text)], ['verify', $lines[$i][1], $lines[$i][2], hexs($text)];
    } elsif ($cmd eq 'owned') {
        push @back, ['ownparse', @{$lines[$i]}[1, 2, 7], $c->[$i]];
    }
}
($c, $n) = both(@back);
is_deeply($c, $n, 'read back: the same fields in C and Node');
is((grep { $_ eq 'error' || $_ eq '0' } @$c), 0, 'everything made reads back and verifies');

# --- mangled input: the same refusals -------------------------------------
sub mangle {
    my ($s) = @_;
    my $k = int rand 6;
    my $p = int rand length $s;
    if ($k == 0) { substr($s, $p, 1) = chr(int rand 256) }
    elsif ($k == 1) { substr($s, $p, 1) = '' }
    elsif ($k == 2) { substr($s, $p, 0) = (' ', '0', 'a', 'A', '-', "\0")[rand 6] }
    elsif ($k == 3) { substr($s, $p, 1) = uc substr($s, $p, 1) }
    elsif ($k == 4) { my @t = (split(/ /, $s, -1), ''); pop @t if @t > 1;
                      @t[0, 1] = @t[1, 0] if @t > 1 && rand() < 0.2;
                      $t[rand @t] = (qw(0 01 x), '', '18446744073709551616')[rand 5]; $s = join ' ', @t }
    else { $s = substr($s, 0, $p) }
    return $s;
}
my @texts = ($v{credit_text}, $v{debit_text});
my @m;
for (1 .. 600) {
    my $t = mangle($texts[rand @texts]);
    $t = mangle($t) if rand() < 0.3;
    push @m, ['parse', hexs($t)], ['verify', $v{secret}, $v{wid}, hexs($t)];
}
for (1 .. 300) {
    push @m, ['decode', hexs(mangle(typed($v{code})))];
    (my $o = mangle($v{owned})) =~ s/[\t\r\n\0]/x/g;       # one line, one field
    push @m, ['ownparse', $v{secret}, $v{wid}, hexs($v{product}), $o];
}
($c, $n) = both(@m);
my @diff = grep { $c->[$_] ne $n->[$_] } 0 .. $#m;
is(scalar @diff, 0, 'mangled texts, codes and ownerships: the same answers in C and Node');
diag("differs: @{$m[$_]}: C '$c->[$_]' Node '$n->[$_]'") for @diff[0 .. ($#diff < 4 ? $#diff : 4)];
cmp_ok((grep { $_ eq 'error' } @$c), '>', @m / 4, 'many refused');

# --- docs/protocol.md shows the vectors -----------------------------------
open my $doc, '<:raw', 'docs/protocol.md' or die;
my $text = do { local $/; <$doc> };
for my $k (qw(code wid state0_mac credit_text credit_hash state1_mac debit_text debit_hash
              state2_mac owned)) {
    ok(index($text, $v{$k}) >= 0, "docs/protocol.md shows $k");
}
done_testing;
