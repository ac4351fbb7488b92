#!/usr/bin/perl
# The giveaway's pieces of libbitcache/giveaway.h on a real redis-server
# (docs/protocol.md, "Giveaways"): the claim script gives exactly N copies,
# marks an address only when a copy is left and before the count is
# raised, answers -2 for a counter someone else wrote; the copy's token
# record is created only once; the copy's token id and the address hash
# agree with the Perl reference.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use BcTest;
use ProtocolRef qw(keys_of free_token_id free_address_hash);

my $TOOL = "$BcTest::TOOLS/giveaway_tool";
-x $TOOL or BAIL_OUT("$TOOL missing: make unit");
my %script = map { $_ => scalar `$TOOL script $_` } qw(claim create);

my $t = BcTest->new;
$t->start_redis;

my $P = '/films/night.mp4';
my $FREE = "bitcache:free:$P";
sub claim {
    my ($n, $window, $addr) = @_;
    my @keys = ($FREE, defined $addr ? ("bitcache:freeip:$P:$addr") : ());
    return join ' ', @{ $t->redis('EVAL', $script{claim}, scalar @keys, @keys, $n, $window // 0) };
}

# --- N copies, then none ---------------------------------------------------------
is(claim(3), '1 1', 'copy 1');
is(claim(3), '2 2', 'copy 2');
is(claim(3), '3 3', 'copy 3');
is(claim(3), '0 3', 'none left: 0, 3 given');
is(claim(3), '0 3', '  and again');
is($t->redis('GET', $FREE), 3, 'the count stays at N');
is(claim(5), '4 4', 'a giveaway raised to 5 (a new record): copy 4');
is(claim(0), '0 4', 'N 0: nothing given');
$t->redis('DEL', $FREE);

# --- one per address within the window -------------------------------------------
my ($A, $B, $C) = ('a' x 32, 'b' x 32, 'c' x 32);
is(claim(2, 600, $A), '1 1', 'address A: copy 1');
my $ttl = $t->redis('TTL', "bitcache:freeip:$P:$A");
ok($ttl > 590 && $ttl <= 600, "  its mark lives for the window ($ttl s)");
is(claim(2, 600, $A), '-1 1', 'address A again: -1, the count not raised');
is($t->redis('GET', $FREE), 1, '  still 1 given');
is(claim(2, 600, $B), '2 2', 'address B: copy 2');
is(claim(2, 600, $C), '0 2', 'address C when none are left: 0');
ok(!$t->redis('EXISTS', "bitcache:freeip:$P:$C"), '  and C is not marked (it may come back for a copy set free)');
is(claim(2, 0, $C), '0 2', 'window 0: the address key is not looked at');
$t->redis('DEL', $FREE, "bitcache:freeip:$P:$A", "bitcache:freeip:$P:$B");

# --- a counter written by someone else ---------------------------------------------
for my $bad ('abc', '-1', '1e3', ' 1', '1.5', '9' x 16, '') {
    $t->redis('SET', $FREE, $bad);
    is(claim(100, 600, $A), '-2 0', "counter \"$bad\": -2 (the module answers 503)");
    is($t->redis('GET', $FREE), $bad, '  left as it was');
    ok(!$t->redis('EXISTS', "bitcache:freeip:$P:$A"), '  no address marked');
}
$t->redis('SET', $FREE, '9' x 15);
is(claim(100), '0 ' . ('9' x 15), 'a huge count (15 digits): none left');
$t->redis('DEL', $FREE);
$t->redis('HSET', $FREE, 'x', 1);
ok(!eval { claim(100); 1 } && $@ =~ /WRONGTYPE|wrong kind/i, 'a counter of another type: an error (503)');
$t->redis('DEL', $FREE);

# --- exactly N under many claimers -----------------------------------------------------
{
    my @pids;
    for my $k (1 .. 8) {
        my $pid = fork // die "fork: $!";
        if (!$pid) {
            my $got = 0;
            for (1 .. 25) { $got++ if claim(50) =~ /^[1-9]/ }
            open my $fh, '>', $t->dir . "/claims.$k" or die;
            print $fh $got;
            close $fh;
            exit 0;
        }
        push @pids, $pid;
    }
    waitpid $_, 0 for @pids;
    my $sum = 0;
    for my $k (1 .. 8) {
        open my $fh, '<', $t->dir . "/claims.$k" or die;
        $sum += <$fh>;
    }
    is($sum, 50, '8 claimers x 25 tries on a giveaway of 50: exactly 50 copies');
    is($t->redis('GET', $FREE), 50, '  counted 50');
    $t->redis('DEL', $FREE);
}

# --- the copy's token record: created once ------------------------------------------
my $secret = unpack 'H*', $t->secret_bytes;
my $k = keys_of($t->secret_bytes);
my $tid = `$TOOL token $secret '$P' 7`;
chomp $tid;
is($tid, unpack('H32', free_token_id($k, $P, 7)), 'copy 7\'s token id (ProtocolRef::free_token_id)');
isnt(`$TOOL token $secret '$P' 8`, "$tid\n", 'copy 8: another id');
my $exp = time + 3600;
is($t->redis('EVAL', $script{create}, 1, "bitcache:tok:$tid", '', 3, $P, $exp), 1, 'created');
my %tok = @{ $t->redis('HGETALL', "bitcache:tok:$tid") };
is_deeply([@tok{'uses', 'product', 'expires', "b:$P"}], [3, $P, $exp, 1 << 50], 'uses, product, expires, the file counter');
$t->redis('HINCRBY', "bitcache:tok:$tid", "b:$P", 5000);
is($t->redis('EVAL', $script{create}, 1, "bitcache:tok:$tid", '', 3, $P, $exp + 999), 0,
   'the same copy again (a counter set back): 0');
%tok = @{ $t->redis('HGETALL', "bitcache:tok:$tid") };
is_deeply([@tok{'expires', "b:$P"}], [$exp, (1 << 50) + 5000], '  the record untouched (no new expiry, bytes kept)');

# --- the address hash ----------------------------------------------------------------
for my $addr ('7f000001', '20010db8000000000000000000000001') {
    my $h = `$TOOL hash $secret '$P' $addr`;
    chomp $h;
    is($h, free_address_hash($k, $P, pack('H*', $addr)), "address $addr: hash as ProtocolRef's");
    unlike($h, qr/$addr/, '  the address is not in it');
}
isnt(`$TOOL hash $secret /other 7f000001`, `$TOOL hash $secret '$P' 7f000001`, 'another product, another hash');

done_testing;
