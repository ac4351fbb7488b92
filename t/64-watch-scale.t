#!/usr/bin/perl
# Scale: 1,000 open invoices created through nginx, 600 of them paid by 600
# transactions that land in one block (601 with the coinbase). The watcher
# sees them in the mempool, settles all 600 once the block is mined, and
# leaves the other 400 alone.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use Time::HiRes qw(time);
use BcTest;

my ($N, $PAID) = (1000, 600);

my $t = BcTest->new;
$t->start_redis;
$t->start_node;
$t->fund_wallet;
$t->make_file('files/book.pdf', 1000);
$t->start_nginx($t->selling_http('location /files/ { bitcache on; bitcache_confirmations 1; }'));

my $t0 = time;
my @inv = map { $t->new_invoice('/files/book.pdf') } 1 .. $N;
is(scalar @inv, $N, "$N invoices created");
diag sprintf('%d invoices in %.1f s', $N, time - $t0);

$t->make_coins($PAID + 20, 100_000);
$t->start_watcher(args => ['--poll', '200']);
my @pays = map { [$_->{address}, 12_345] } @inv[0 .. $PAID - 1];
my @txids = $t->bulk_pay(@pays);
is(scalar @txids, $PAID, "$PAID payments in the mempool");

sub states {
    my %n;
    for my $i (@inv) {
        $n{ $t->redis('HGET', "bitcache:inv:$i->{id}", 'state') // 'new' }++;
    }
    return \%n;
}
ok(BcTest::wait_until(sub { (states()->{seen} // 0) == $PAID }, 60), 'all seen in the mempool')
    or diag explain states();
$t0 = time;
my ($block) = @{ $t->mine(1) };
my $mined = time - $t0;
$t0 = time;
ok(BcTest::wait_until(sub { (states()->{paid} // 0) == $PAID }, 60), "all $PAID paid after one block")
    or diag explain states();
diag sprintf('block of %d transactions mined in %.1f s, settled %.2f s later',
             $PAID + 1, $mined, time - $t0);
is(states()->{new}, $N - $PAID, 'the other invoices are untouched');
like($t->watcher_log, qr/block \d+ $block: ${\($PAID + 1)} transactions/, 'one block of 601 transactions');
my %rec = @{ $t->redis('HGETALL', "bitcache:inv:$inv[$PAID - 1]{id}") };
is($rec{received}, 12_345, 'the last one received its amount');
is($t->redis('SCARD', 'bitcache:watcher:open'), 0, 'nothing left open');
my $s = $t->invoice_status($inv[0]{id});
ok($s->{token}, 'the first one gets its token');
$t->stop_watcher;
$t->check_log_clean;
done_testing;
