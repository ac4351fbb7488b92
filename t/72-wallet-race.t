#!/usr/bin/perl
# Purchases race and Redis lies: 100 parallel buys of distinct products
# on a balance that covers 10 (two workers, two Redis connections) buy
# exactly 10, the balance never goes below zero and the ledger adds up;
# 32 parallel buys on one wallet with a balance for all buy all 32 (one
# purchase of a wallet in flight per worker: no "busy");
# 20 parallel retries with one idempotency key buy once; a wrong or
# missing code buys nothing; a state, ledger entry or ownership record
# written into Redis by hand is refused (docs/security.md: a Redis writer
# may deny service, never get a file or a balance for free).
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use JSON::PP qw(decode_json encode_json);
use Time::HiRes qw(time);
use HTTP::Tiny;
use BcTest;

plan skip_all => 'module or tools not built (make all unit)'
    unless -f $BcTest::MODULE && -x "$BcTest::TOOLS/wallet_fixture";

my $t = BcTest->new;
$t->start_redis;
my $N = 100;
my %file = map { sprintf('f%03d.bin', $_) => $t->make_file(sprintf('files/f%03d.bin', $_), 3000 + $_) } 1 .. $N;
$t->start_nginx($t->wallet_http('location /files/ { bitcache on; }', price => 100), workers => 2);

my %offer = map { $_ => $t->offer_of("/files/$_") } keys %file;

# Runs the requests in parallel (one process each, released together);
# returns their responses (status, json, content) in order
sub parallel {
    my (@reqs) = @_;
    my $dir = $t->dir;
    my $go = time + 1.5;
    my @pids;
    for my $i (0 .. $#reqs) {
        my $pid = fork // die "fork: $!";
        if ($pid == 0) {
            my ($m, $p, $code, $body, %h) = @{ $reqs[$i] };
            select(undef, undef, undef, 0.01) while time < $go;
            my $r = $t->wallet_req($m, $p, $code, $body, %h);
            open my $fh, '>', "$dir/par.$i" or die;
            print $fh encode_json({ status => $r->{status}, json => $r->{json} });
            close $fh;
            $t->{owner} = 0;        # the child stops nothing
            POSIX::_exit(0);
        }
        push @pids, $pid;
    }
    waitpid $_, 0 for @pids;
    return map {
        open my $fh, '<', "$dir/par.$_" or die;
        my $j = decode_json(do { local $/; <$fh> });
        unlink "$dir/par.$_";
        $j;
    } 0 .. $#reqs;
}
use POSIX ();

# ---- 100 distinct products, a balance of 10 purchases ----
my $w = $t->wallet_open;
$t->wallet_credit($w->{wallet}, 1000);
my @names = sort keys %file;
my @res = parallel(map { ['POST', '/wallet/buy', $w->{code}, { offer => $offer{$_} }] } @names);
my @bought = grep { $res[$_]{status} == 200 } 0 .. $#res;
is(scalar @bought, 10, '100 parallel purchases on a balance of 10: exactly 10 succeed');
is(scalar(grep { $_->{status} == 402 && $_->{json}{error} eq 'balance_too_low' } @res), 90,
   '... the 90 others: 402 balance too low');
ok(!grep({ $_->{status} == 200 && $_->{json}{state} ne 'bought' } @res), '... each success a purchase');
ok(!grep({ defined $_->{json}{balance_sats} && $_->{json}{balance_sats} < 0 } @res), '... no answer shows a negative balance');
my @left = sort { $a <=> $b } map { $res[$_]{json}{balance_sats} } @bought;
is_deeply(\@left, [map { 100 * $_ } 0 .. 9], '... the balances after them: 900, 800, ... 0, each once');
my $r = $t->wallet_req('GET', '/wallet', $w->{code});
is($r->{json}{balance_sats}, 0, '... balance 0');
my $audit = $t->wallet_audit($w->{wallet});
ok($audit->{ok}, 'the ledger verifies (bitcache wallet audit)') or diag explain $audit;
is($audit->{debits}, 10, '... 10 debits');
is($audit->{debited_sats}, 1000, '... of 1000 sats in all');
is($audit->{balance_sats}, 0, '... and adds up to the balance');
is($t->redis('LLEN', "bitcache:wled:$w->{wallet}"), 11, '... 11 entries in Redis');
my $ok = 1;
for my $i (@bought) {
    my $d = $t->get($res[$i]{json}{download_url});
    $ok &&= $d->{status} == 200 && $d->{content} eq $file{ $names[$i] };
}
ok($ok, 'each of the 10 downloads its file\'s exact bytes');

# ---- 32 parallel buys of distinct products on one wallet with a balance
# for all: within a worker they wait for each other instead of losing the
# compare-and-set until "busy"; only the two workers race ----
{
    my $one = $t->wallet_open;
    $t->wallet_credit($one->{wallet}, 32 * 100);
    my @names32 = @names[20 .. 51];
    $t->redis('CONFIG', 'RESETSTAT');
    my @r32 = parallel(map { ['POST', '/wallet/buy', $one->{code}, { offer => $offer{$_} }] } @names32);
    is(scalar(grep { $_->{status} == 200 && $_->{json}{state} eq 'bought' } @r32), 32,
       '32 parallel buys of distinct products on one wallet with balance for all: all 32 bought')
        or diag explain [map { "$_->{status} " . ($_->{json}{error} // '') } @r32];
    is_deeply([sort { $a <=> $b } map { $_->{json}{balance_sats} // -1 } @r32], [map { 100 * $_ } 0 .. 31],
              '... the balances after them: 3100, 3000, ... 0, each once');
    # each attempt is one run of the buy script; queued in each worker,
    # a purchase loses only to the other worker's (racing all 32 lost
    # about n^2/4 in all)
    my $stats = $t->redis('INFO', 'commandstats');
    my $runs = 0;
    $runs += $1 while $stats =~ /^cmdstat_eval(?:sha)?:calls=(\d+)/mg;
    cmp_ok($runs, '<=', 2 * 32, "... in $runs runs of the buy script (at most 2 a purchase)");
    my $a32 = $t->wallet_audit($one->{wallet});
    ok($a32->{ok} && $a32->{debits} == 32 && $a32->{balance_sats} == 0, '... the ledger verifies: 32 debits, balance 0')
        or diag explain $a32;
}

# ---- 20 parallel retries with one idempotency key ----
my $k = $t->wallet_open;
$t->wallet_credit($k->{wallet}, 1000);
@res = parallel(map { ['POST', '/wallet/buy', $k->{code}, { offer => $offer{'f001.bin'}, again => '1' },
                       'Idempotency-Key' => 'retry-42'] } 1 .. 20);
is(scalar(grep { $_->{status} == 200 } @res), 20, '20 parallel retries with one key (again=1): all 200')
    or diag explain [map { "$_->{status} " . encode_json($_->{json}) } @res];
is(scalar(grep { $_->{json}{state} eq 'bought' } @res), 1, '... exactly one bought');
my %tok = map { $_->{json}{token} => 1 } @res;
is(scalar keys %tok, 1, '... all get the same token');
$r = $t->wallet_req('GET', '/wallet', $k->{code});
is($r->{json}{balance_sats}, 900, '... charged once');
@res = parallel(map { ['POST', '/wallet/buy', $k->{code}, { offer => $offer{'f002.bin'} }, 'Idempotency-Key' => 'retry-43'] } 1 .. 20);
is(scalar(grep { $_->{json}{state} eq 'bought' } @res), 1, '20 parallel retries (no again): one bought');
is(scalar(grep { $_->{json}{state} eq 'owned' } @res), 19, '... 19 owned');
is($t->wallet_req('GET', '/wallet', $k->{code})->{json}{balance_sats}, 800, '... charged once');
ok($t->wallet_audit($k->{wallet})->{ok}, '... the ledger verifies');

# ---- wrong or missing code ----
(my $typo = $k->{code}) =~ s/(.)$/$1 eq 'q' ? 'p' : 'q'/e;
my $gone = $t->wallet_open;
$t->redis('DEL', "bitcache:wal:$gone->{wallet}");
@res = parallel(
    (map { ['POST', '/wallet/buy', $typo, { offer => $offer{'f003.bin'} }] } 1 .. 5),
    (map { ['POST', '/wallet/buy', undef, { offer => $offer{'f003.bin'} }] } 1 .. 5),
    (map { ['POST', '/wallet/buy', $gone->{code}, { offer => $offer{'f003.bin'} }] } 1 .. 5));
is_deeply([map { $_->{status} } @res], [(401) x 15], 'a wrong, missing or unknown code: 401, nothing bought');
is($t->wallet_req('GET', '/wallet', $k->{code})->{json}{balance_sats}, 800, '... balance unchanged');
is($t->redis('EXISTS', "bitcache:wal:$gone->{wallet}"), 0, '... and no wallet made for an unknown code');

# ---- Redis written by hand ----
my $f = $t->wallet_open;
$t->wallet_credit($f->{wallet}, 500);
my $wal = "bitcache:wal:$f->{wallet}";

# the state's balance raised
$t->redis('HSET', $wal, 'bal', '1000000');
$r = $t->wallet_req('POST', '/wallet/buy', $f->{code}, { offer => $offer{'f010.bin'} });
is($r->{status}, 409, 'a state whose balance was raised: refused (409)');
is($r->{json}{error}, 'invalid_wallet', '... invalid_wallet');
$r = $t->wallet_req('GET', '/wallet', $f->{code});
is($r->{status}, 409, '... GET /wallet does not show it either');
like($t->error_log, qr/wallet $f->{wallet}: its state's MAC does not verify/, '... logged');
$t->redis('HSET', $wal, 'bal', '500');
$r = $t->wallet_req('POST', '/wallet/buy', $f->{code}, { offer => $offer{'f010.bin'} });
is($r->{json}{state}, 'bought', 'the genuine state back: buys');
is($r->{json}{balance_sats}, 400, '... from 500');

# a state of another wallet copied over this one's
my $rich = $t->wallet_open;
$t->wallet_credit($rich->{wallet}, 5000);
my %orig = @{ $t->redis('HGETALL', $wal) };
$t->redis('HSET', $wal, %{ { @{ $t->redis('HGETALL', "bitcache:wal:$rich->{wallet}") } } });
$r = $t->wallet_req('POST', '/wallet/buy', $f->{code}, { offer => $offer{'f011.bin'} });
is($r->{status}, 409, 'another wallet\'s state copied in: refused');
$t->redis('HSET', $wal, %orig);

# a ledger entry changed: never shown as genuine
my $led = "bitcache:wled:$f->{wallet}";
my $e1 = $t->redis('LINDEX', $led, 0);
(my $forged = $e1) =~ s/^(w1 1 credit )500 /${1}900000 /;
isnt($forged, $e1, '(the forged entry differs)');
$t->redis('LSET', $led, 0, $forged);
$r = $t->wallet_req('GET', '/wallet/history', $f->{code});
my ($h1) = grep { $_->{seq} == 1 } @{ $r->{json}{entries} };
is($h1->{kind}, 'invalid', 'a ledger entry changed in Redis: history shows it invalid');
ok(!grep({ ($_->{amount_sats} // 0) == 900000 } @{ $r->{json}{entries} }), '... never its forged amount');
$r = $t->wallet_req('GET', '/wallet', $f->{code});
is(scalar @{ $r->{json}{topups} }, 0, '... the wallet page leaves it out');
ok(!$t->wallet_audit($f->{wallet})->{ok}, '... the audit finds it');
$t->redis('LSET', $led, 0, $e1);
# an entry appended by hand changes no balance: the state is the module's
$t->redis('RPUSH', $led, $forged);
$r = $t->wallet_req('GET', '/wallet', $f->{code});
is($r->{json}{balance_sats}, 400, 'an entry appended by hand: the balance stays the state\'s');
$t->redis('RPOP', $led);

# ownership records written by hand: no token for free
my $own = "bitcache:wown:$f->{wallet}";
my $v10 = $t->redis('HGET', $own, '/files/f010.bin');
ok($v10, '(the purchase of f010 is recorded)');
$t->redis('HSET', $own, '/files/f012.bin', $v10);
$r = $t->wallet_req('POST', '/wallet/buy', $f->{code}, { offer => $offer{'f012.bin'} });
is($r->{status}, 409, 'another product\'s ownership copied in: refused');
ok(!$r->{json}{token}, '... no token');
my $kv = $t->redis('HGET', "bitcache:wown:$k->{wallet}", '/files/f001.bin');
$t->redis('HSET', $own, '/files/f013.bin', $kv) if $kv;
$t->redis('HSET', $own, '/files/f013.bin', $t->redis('HGET', "bitcache:wown:$k->{wallet}", '/files/f002.bin'));
$t->redis('HSET', $own, '/files/f014.bin', 'ffffffffffffffffffffffffffffffff 5 9999999999 1 ' . ('0' x 64));
for my $p ('f013.bin', 'f014.bin') {
    $r = $t->wallet_req('POST', '/wallet/buy', $f->{code}, { offer => $offer{$p} });
    is($r->{status}, 409, "a forged ownership of $p (another wallet's, or made up): refused");
}
is($t->wallet_req('GET', '/wallet', $f->{code})->{json}{balance_sats}, 400, '... nothing charged, nothing given');
$t->redis('HDEL', $own, '/files/f012.bin', '/files/f013.bin', '/files/f014.bin');

# Redis flushed its scripts: EVAL again
$t->redis('SCRIPT', 'FLUSH');
$r = $t->wallet_req('POST', '/wallet/buy', $f->{code}, { offer => $offer{'f015.bin'} });
is($r->{json}{state}, 'bought', 'after SCRIPT FLUSH: bought (NOSCRIPT, then EVAL)');
is($r->{json}{balance_sats}, 300, '... once');
ok($t->wallet_audit($f->{wallet})->{ok}, 'the ledger verifies after all that');

$t->check_log_clean;
done_testing;
