#!/usr/bin/perl
# What docs/operations.md "Sizing" says, measured on real records: a real
# redis-server and nginx with the module (t/lib/BcTest.pm); an invoice made
# through the API, paid as the watcher records it, its token minted by the
# status route, and tokens granted by the CLI. Prints MEMORY USAGE of each
# record (bytes, Redis' own accounting incl. key and overhead), then the
# Redis commands nginx sends for one download, one 402 and one invoice,
# read from bitcache_metrics (bitcache_redis_commands_total). Then the same
# purchase paid for real on the regtest node (bcoin) with `bitcache watch`
# running, for the records the watcher writes (pay:, sold:, watcher:*).
# Run from the top of the tree after `make`: perl bench/redis-sizing.pl
use strict;
use warnings;
use lib 't/lib';
use BcTest;

my $t = BcTest->new;
$t->start_redis;
$t->make_file('files/book.pdf', 100_000);
$t->start_nginx($t->selling_http(<<'LOC'));
        location /files/ { bitcache on; bitcache_max_downloads 3; }
        location = /metrics { bitcache_metrics; }
LOC

sub commands {
    my ($m) = $t->get('/metrics')->{content} =~ /^bitcache_redis_commands_total (\d+)/m;
    return $m // die 'no bitcache_redis_commands_total';
}
sub usage { $t->redis('MEMORY', 'USAGE', $_[0], 'SAMPLES', 0) // 0 }
sub keys_like { @{ $t->redis('KEYS', $_[0]) || [] } }

my $c0 = commands();
my $r402 = $t->get('/files/book.pdf');
my $c1 = commands();
my $inv = $t->new_invoice('/files/book.pdf');
my $c2 = commands();
$t->pay_invoice($inv->{id}, 12345, 1);
my $st = $t->invoice_status($inv->{id});
my $c3 = commands();
die "no token minted" unless $st->{token};
my $r = $t->get("/files/book.pdf?bitcache_token=$st->{token}");
die "download: $r->{status}" unless $r->{status} == 200;
my $c4 = commands();
$t->get("/files/book.pdf?bitcache_token=$st->{token}", Range => 'bytes=0-999');
my $c5 = commands();

printf "%-34s %6s\n", 'record', 'bytes';
for my $k (sort(keys_like('bitcache:*'))) {
    (my $shown = $k) =~ s/[0-9a-f]{16,}/<id>/g;
    printf "%-34s %6d  (%s)\n", $shown, usage($k), $t->redis('TYPE', $k);
}
my @granted = map { $t->grant('/files/book.pdf', '--uses', 3) } 1 .. 100;
my $sum = 0;
$sum += usage($_) for grep { !/\Q$inv->{id}\E/ } keys_like('bitcache:tok:*');
printf "granted token records (100, used 0): %.0f bytes each on average\n", $sum / 101;
printf "redis commands: 402 without token %d, invoice created %d, status that mints %d, "
     . "first download %d, a range download %d\n",
       $c1 - $c0, $c2 - $c1, $c3 - $c2, $c4 - $c3, $c5 - $c4;
my $info = $t->redis('INFO', 'memory');
my ($used) = $info =~ /used_memory:(\d+)/;
printf "used_memory of this Redis: %d bytes\n", $used;

# --- the watcher's records: a real payment on the regtest node -------------
my $w = BcTest->new;
$w->start_redis;
$w->start_node;
$w->fund_wallet;
$w->make_file('files/book.pdf', 1000);
$w->start_nginx($w->selling_http(<<'LOC'));
        location /files/ { bitcache on; bitcache_confirmations 1; }
LOC
$w->start_watcher;
my $winv = $w->new_invoice('/files/book.pdf');
$w->send_sats($winv->{address}, 12_345);
BcTest::wait_until(sub { ($w->invoice($winv->{id})->{state} // '') eq 'seen' }, 30)
    or die 'not seen: ' . $w->watcher_log;
$w->mine(1);
BcTest::wait_until(sub { ($w->invoice($winv->{id})->{state} // '') eq 'paid' }, 30)
    or die 'not paid: ' . $w->watcher_log;
my $paid = $w->invoice_status($winv->{id});
print "\nwith the watcher, one invoice paid on the regtest node:\n";
for my $k (sort @{ $w->redis('KEYS', 'bitcache:*') || [] }) {
    (my $shown = $k) =~ s/[0-9a-f]{16,}/<id>/g;
    printf "%-34s %6d  (%s)\n", $shown, $w->redis('MEMORY', 'USAGE', $k, 'SAMPLES', 0) // 0,
           $w->redis('TYPE', $k);
}
$w->stop_watcher;
