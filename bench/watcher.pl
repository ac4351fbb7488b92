#!/usr/bin/perl
# bench/watcher.sh: see there. Uses the test harness (t/lib/BcTest.pm).
use strict;
use warnings;
use lib 't/lib';
use IO::Socket::INET;
use Time::HiRes qw(time sleep);
use BcTest;

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

# the invoices as the module writes them (no MAC check: the watcher runs without --secret)
sub load_invoices {
    my ($prefix) = @_;
    my $now = time;
    my @cmds;
    for my $i (0 .. $#addr) {
        my $id = sprintf('%032x', $i + 1);
        push @cmds, ['HSET', "${prefix}inv:$id", v => 1, product => '/files/bench', title => '',
                     wallet => $WALLET, network => 3, index => $addr[$i][0],
                     address => $addr[$i][1], spk => $addr[$i][2], amount => 10_000,
                     confirmations => 1, created => int($now), expires => int($now) + 3600,
                     token_ttl => 3600, max_downloads => 1, mac => '00' x 32, state => 'new'];
        push @cmds, ['SET', "${prefix}spk:$addr[$i][2]", $id];
    }
    redis_pipe(@cmds);
}

my @rates;
for my $run (1 .. 3) {
    my $prefix = "bench$run:";
    load_invoices($prefix);
    my $name = "bench$run";
    $t->start_watcher(name => $name, poll => 10, no_secret => 1,
                      args => ['--redis-prefix', $prefix, '--from-height', $h1]);
    # the watcher times its own round: fetching, parsing, matching, settling
    my $round = BcTest::wait_until(sub {
        $t->watcher_log($name) =~ /round: (\d+) block\(s\) processed and (\d+) open invoice\(s\) evaluated in (\d+) ms/
            ? [$1, $2, $3] : undef }, 120)
        or die "the watcher did not finish:\n" . $t->watcher_log($name);
    $t->stop_watcher($name);
    my $paid = $t->redis('HGET', sprintf('%sinv:%032x', $prefix, 2 * $TXS), 'state') // '';
    die "bench: the last invoice is '$paid', not paid\n" . $t->watcher_log($name) unless $paid eq 'paid';
    die "bench: the watcher processed $round->[0] blocks, not 2\n" unless $round->[0] == 2;
    print STDERR "bench: run $run: 2 blocks, $round->[1] invoices settled in $round->[2] ms\n";
    push @rates, 2000 / ($round->[2] || 1);
    $t->redis('FLUSHDB');
}
@rates = sort { $a <=> $b } @rates;
printf "blocks_per_sec=%.1f\n", $rates[1];

# the same blocks when none of their outputs pays a watched invoice: what
# fetching, parsing and looking up every output costs alone
{
    my $prefix = 'scan:';
    $t->start_watcher(name => 'scan', poll => 10, no_secret => 1,
                      args => ['--redis-prefix', $prefix, '--from-height', $h1]);
    my $ms = BcTest::wait_until(sub {
        $t->watcher_log('scan') =~ /round: 2 block\(s\) processed .* in (\d+) ms/ ? $1 : undef }, 120)
        or die "the scan did not finish:\n" . $t->watcher_log('scan');
    $t->stop_watcher('scan');
    printf "scan_blocks_per_sec=%.1f\n", 2000 / ($ms || 1);
    $t->redis('FLUSHDB');
}

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
