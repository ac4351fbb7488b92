#!/usr/bin/perl
# bench/watcher.sh: see there. Uses the test harness (t/lib/BcTest.pm).
use strict;
use warnings;
use lib 't/lib';
use IO::Socket::INET;
use Time::HiRes qw(time sleep);
use BcTest;
use ProtocolRef;

my $TXS = $ENV{BENCH_BLOCK_TXS} || 2000;
my $WALLET = $BcTest::TEST_WALLET;
$| = 1;

my $t = BcTest->new;
$t->start_redis;
$t->start_node;
$t->fund_wallet;
print STDERR "bench: building 2 blocks of $TXS transactions on the regtest node...\n";
my $per = 1000;
for (my $left = 2 * $TXS + 20; $left > 0; $left -= $per) {
    $t->node_rpc('bitcache_fanout', $left < $per ? $left : $per, 100_000);
}
$t->mine(1);

# 2 x $TXS invoice addresses (index 1000.. so that nginx's invoices, from 0, differ)
my @addr = map { [split / /] } grep { /^\d+ / }
    split /\n/, `build/bitcache derive '$WALLET' --network regtest --from 1000 --count ${\(2 * $TXS)} --spk 2>/dev/null`;
die "derive failed" unless @addr == 2 * $TXS;
my $h1 = $t->node_rpc('getblockcount') + 1;
for my $b (0, 1) {
    $t->bulk_pay(map { [$addr[$_][1], 10_000] } $b * $TXS .. ($b + 1) * $TXS - 1);
    $t->mine(1);
}
my $h2 = $t->node_rpc('getblockcount');

# polls $cond every 2 ms (BcTest::wait_until's 50 ms is too coarse to time)
sub tight_until {
    my ($cond, $secs) = @_;
    my $until = time + $secs;
    while (time < $until) {
        my $v = $cond->();
        return $v if $v;
        sleep 0.002;
    }
    return undef;
}

# one Redis connection, pipelined
sub redis_pipe {
    my (@cmds) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $t->{redis_port}) or die;
    my $req = '';
    for my $c (@cmds) {
        $req .= '*' . @$c . "\r\n" . join('', map { '$' . length($_) . "\r\n$_\r\n" } @$c);
    }
    print $s $req;
    BcTest::_resp($s) for @cmds;
    close $s;
}

# the invoices as the module writes them, MAC'd (t/lib/ProtocolRef.pm) with
# the secret the watcher checks them with; $every: only every $every-th
# address is an invoice's (0: none), the other outputs pay addresses nobody
# sells at
my $keys = ProtocolRef::keys_of($t->secret_bytes);
sub load_invoices {
    my ($prefix, $every) = @_;
    my $now = time;
    my @cmds;
    return 0 unless $every;
    for my $i (grep { $_ % $every == $every - 1 } 0 .. $#addr) {
        my $id = sprintf('%032x', $i + 1);
        my %f = (product => '/files/bench', wallet => $WALLET, network => 3,
                 index => $addr[$i][0], address => $addr[$i][1], spk => $addr[$i][2],
                 amount => 10_000, confirmations => 1, created => int($now),
                 expires => int($now) + 3600, token_ttl => 3600, max_downloads => 1);
        my $claim = ProtocolRef::claim_hash($id);
        my $mac = unpack 'H*', ProtocolRef::invoice_mac($keys, { %f, id => pack('H*', $id),
                                                                 spk => pack('H*', $f{spk}),
                                                                 title => '', claim_hash => $claim });
        push @cmds, ['HSET', "${prefix}inv:$id", v => 2, title => '', %f, mac => $mac,
                     claim => unpack('H*', $claim), state => 'new'];
        push @cmds, ['SET', "${prefix}spk:$addr[$i][2]", $id];
    }
    redis_pipe(@cmds);
    return scalar(@cmds) / 2;
}

# One watcher from $h1 with every $every-th output an invoice's: the time
# of its round (fetching, parsing, matching, settling) as it logs it.
my $runs = 0;
sub round_ms {
    my ($every) = @_;
    my $prefix = 'bench' . ++$runs . ':';
    my $n = load_invoices($prefix, $every);
    my $name = "bench$runs";
    $t->start_watcher(name => $name, poll => 10,
                      args => ['--redis-prefix', $prefix, '--from-height', $h1]);
    my $round = BcTest::wait_until(sub {
        $t->watcher_log($name) =~ /round: (\d+) block\(s\) processed and (\d+) open invoice\(s\) evaluated in (\d+) ms/
            ? [$1, $2, $3] : undef }, 120)
        or die "the watcher did not finish:\n" . $t->watcher_log($name);
    $t->stop_watcher($name);
    die "bench: the watcher processed $round->[0] blocks, not 2\n" unless $round->[0] == 2;
    die "bench: $round->[1] invoices evaluated, not $n\n" unless $round->[1] == $n;
    if ($n) {
        my $id = sprintf('%032x', 2 * $TXS - 2 * $TXS % $every);
        my $paid = $t->redis('HGET', "${prefix}inv:$id", 'state') // '';
        die "bench: invoice $id is '$paid', not paid\n" . $t->watcher_log($name) unless $paid eq 'paid';
    }
    print STDERR "bench: 2 blocks, $n invoices settled in $round->[2] ms\n";
    $t->redis('FLUSHDB');
    return $round->[2] || 1;
}

sub median { my @v = sort { $a <=> $b } @_; return $v[@v / 2] }

# interleaved, so that the machine's moods touch all three alike
my (@mixed, @all, @scan);
for (1 .. 3) {
    push @mixed, round_ms(4);
    push @all, round_ms(1);
    push @scan, round_ms(0);
}
printf "blocks_per_sec=%.1f\n", 2000 / median(@mixed);
printf "blocks_per_sec_all_paying=%.1f\n", 2000 / median(@all);
printf "scan_blocks_per_sec=%.1f\n", 2000 / median(@scan);

# settle_ms: a block with a payment arrives; how long until nginx hands out the token
$t->make_file('files/book.pdf', 1000);
$t->start_nginx($t->selling_http('location /files/ { bitcache on; bitcache_confirmations 1; }',
                                 price => 10_000));
$t->start_watcher(name => 'settle', poll => 10);
my @ms;
for (1 .. 5) {
    my $inv = $t->new_invoice('/files/book.pdf');
    $t->bulk_pay([$inv->{address}, 10_000]);
    BcTest::wait_until(sub { ($t->redis('HGET', "bitcache:inv:$inv->{id}", 'state') // '') eq 'seen' }, 30)
        or die "not seen:\n" . $t->watcher_log('settle');
    $t->mine(1);
    my $t0 = time;
    my $tok = tight_until(sub { $t->invoice_status($inv->{id})->{token} }, 30) or die "no token:\n" . $t->watcher_log('settle');
    push @ms, 1000 * (time - $t0);
}
@ms = sort { $a <=> $b } @ms;
printf "settle_ms=%.0f\n", $ms[2];
$t->stop_watcher('settle');
