#!/usr/bin/perl
# Gap-safe allocation on real nginx, redis-server, a regtest node (bcoin)
# and the watcher: a script makes 1,000 invoices and pays none; the watcher
# lists each index once it expired unpaid (never a paid, underpaid or
# late-paid one), reusable a day and five minutes after expiry; once that
# time has come (simulated: the scores and the records' TTLs moved as a day
# would move them), new invoices take the lowest free indexes instead of
# new ones, so the highest index stays within a wallet's gap limit of 20,
# and a payment to a reused address settles the new invoice.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use JSON::PP qw(decode_json encode_json);
use Time::HiRes qw(sleep);
use BcTest;

my $wait = \&BcTest::wait_until;
my $N = 1000;

my $t = BcTest->new;
$t->start_redis;
$t->start_node;
$t->fund_wallet;
$t->make_coins(5, 100_000);
$t->make_file('short/book.pdf', 10_000);
$t->start_nginx($t->selling_http(<<'LOC'));
        location /short/ { bitcache on; bitcache_confirmations 1; bitcache_invoice_ttl 40s; }
LOC
$t->start_watcher(name => 'w');

sub inv { $t->invoice(@_) }
sub state_is {
    my ($id, $state, $name, $secs) = @_;
    my $ok = $wait->(sub { (inv($id)->{state} // '') eq $state }, $secs || 30);
    ok($ok, $name) or diag "state " . (inv($id)->{state} // 'none') . "\n" . $t->watcher_log('w');
    return $ok;
}

# paid, underpaid, and one that will be paid late
my $p = $t->new_invoice('/short/book.pdf');
my $u = $t->new_invoice('/short/book.pdf');
my $l = $t->new_invoice('/short/book.pdf');
is(join(' ', map { inv($_->{id})->{index} } $p, $u, $l), '0 1 2', 'indexes 0, 1, 2');
$t->bulk_pay([$p->{address}, 12_345], [$u->{address}, 100]);
$t->mine(1);
state_is($p->{id}, 'paid', 'index 0 paid');
state_is($u->{id}, 'underpaid', 'index 1 underpaid');

# --- a script makes 1,000 invoices and pays none --------------------------------
my $offer = decode_json($t->get('/short/book.pdf', Accept => 'application/json')->{content})->{offer};
my $ua = HTTP::Tiny->new(timeout => 10, max_redirect => 0, keep_alive => 1);
my (@ids, %index_of, $fails);
for (1 .. $N) {
    my $r = $ua->request('POST', $t->url('/bitcache/invoices'), {
        headers => { 'Content-Type' => 'application/json', Accept => 'application/json' },
        content => encode_json({ offer => $offer }) });
    if ($r->{status} != 201) { $fails++; next }
    push @ids, decode_json($r->{content})->{id};
}
ok(!$fails, "$N invoices made") or diag "$fails failed";
%index_of = map { ($_ => inv($_)->{index}) } @ids;
is_deeply([sort { $a <=> $b } values %index_of], [3 .. $N + 2], "indexes 3 .. @{[$N + 2]}");
my ($counter) = @{ $t->redis('KEYS', 'bitcache:index:*') };
my ($WID) = $counter =~ /index:([0-9a-f]{16})$/;
is($t->redis('GET', $counter), $N + 3, 'the counter');
my $reuse = "bitcache:reuse:$WID";

# --- they expire unpaid ------------------------------------------------------------
state_is($l->{id}, 'expired', 'the third invoice expires', 60);
ok($wait->(sub { $t->redis('ZCARD', $reuse) >= $N + 1 }, 60), 'the watcher lists every unpaid index')
    or diag "listed: " . $t->redis('ZCARD', $reuse);
my $e = inv($ids[0]);
is($e->{state}, 'expired', 'an invoice of the script: expired');
is($t->redis('ZSCORE', $reuse, sprintf('%010d', $e->{index})), $e->{expires} + 86400 + 300,
   '  reusable a day and 5 minutes after its expiry');
is($t->redis('ZSCORE', $reuse, sprintf('%010d', 0)), undef, 'the paid index 0 is not listed');
is($t->redis('ZSCORE', $reuse, sprintf('%010d', 1)), undef, 'the underpaid index 1 is not listed');
like($t->watcher_log('w'), qr/invoice $ids[0]: expired unpaid; index $e->{index} of wallet $WID reusable from \d+/,
     'the watcher says so');

# paid late (within the grace): taken off the list again
ok(defined $t->redis('ZSCORE', $reuse, sprintf('%010d', 2)), 'index 2 listed once expired');
$t->send_sats($l->{address}, 12_345);
$t->mine(1);
state_is($l->{id}, 'paid', 'then paid late');
ok($wait->(sub { !defined $t->redis('ZSCORE', $reuse, sprintf('%010d', 2)) }, 20),
   '  and index 2 is no longer listed');
is($t->redis('ZCARD', $reuse), $N, "the $N indexes of the script listed");

# while they are in their grace a late payment can still reach any of them
my ($rc, $out) = $t->cli('invoice', 'gap', '--redis', $t->redis_addr);
is($rc, 3, 'invoice gap: past the gap limit during the grace, exit 3');
like($out, qr/^wallet $WID: counter ${\($N + 3)}, 3 used, $N waiting for reuse, highest index a payment can reach ${\($N + 3)}, longest unpaid run $N \(indexes 3-${\($N + 2)}\)$/m,
     '  counter, waiting, the run') or diag $out;

# a forged invoice record (MAC fails) that "expired": never listed
my $forged = 'ab' x 16;
my %f = %{ inv($ids[1]) };       # an unpaid one, moved to another index
delete @f{qw(received conf paid_at att over late)};
$t->redis('HSET', "bitcache:inv:$forged", %f, index => 5000, state => 'new', expires => time - 5);
$t->redis('ZADD', 'bitcache:watcher:due', time - 5, $forged);
ok($wait->(sub { !defined $t->redis('ZSCORE', 'bitcache:watcher:due', $forged) }, 20), 'a forged due invoice is looked at');
is($t->redis('ZSCORE', $reuse, sprintf('%010d', 5000)), undef, '  and its index is not listed');
like($t->watcher_log('w'), qr/invoice $forged: its MAC does not verify; never credited nor signed/, '  the watcher says why');
$t->redis('DEL', "bitcache:inv:$forged");

# --- a day later -------------------------------------------------------------------
# What a day does to Redis: the records and claims of the unpaid invoices
# expire (EXPIREAT expires + 1 day), and their reuse time comes.
$t->stop_watcher('w');
my $now = time;
$t->redis('ZADD', $reuse, 'XX', map { ($now - 1, sprintf('%010d', $index_of{$_})) } @ids);
for my $id (@ids) {
    my $spk = $t->redis('HGET', "bitcache:inv:$id", 'spk');
    $t->redis('PEXPIRE', "bitcache:spk:$spk", 1);
    $t->redis('PEXPIRE', "bitcache:inv:$id", 1);
}
$t->redis('SREM', 'bitcache:watcher:open', @ids);
sleep 0.1;
$t->start_watcher(name => 'w');

my @again = map { $t->new_invoice('/short/book.pdf') } 1 .. 19;
my @idx = map { inv($_->{id})->{index} } @again;
is("@idx", join(' ', 3 .. 21), 'nineteen new invoices take the lowest reusable indexes, 3 .. 21');
is($t->redis('GET', $counter), $N + 3, 'the counter did not move');
my $spk3 = inv($again[0]{id})->{spk};
is($t->redis('GET', "bitcache:spk:$spk3"), $again[0]{id}, 'index 3 claimed again, for the new invoice');
($rc, $out) = $t->cli('invoice', 'gap', '--redis', $t->redis_addr);
is($rc, 0, 'invoice gap: within the gap limit of 20, exit 0') or diag $out;
like($out, qr/highest index a payment can reach 22, longest unpaid run 19 \(indexes 3-21\)$/m,
     '  the highest index stays within 20 of the last used one');

# the reused address is watched for the new invoice
$t->send_sats($again[0]{address}, 12_345);
$t->mine(1);
state_is($again[0]{id}, 'paid', 'a payment to reused index 3 settles the new invoice');
is(inv($p->{id})->{state}, 'paid', 'index 0 still paid, never reused');

$t->stop_watcher('w');
$t->check_log_clean;
done_testing;
