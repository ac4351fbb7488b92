#!/usr/bin/perl
# bitcache wallet audit|show|freeze|unfreeze|repair (docs/operations.md,
# "Wallets"): a good wallet audits clean; each forgery a Redis writer can
# make (an entry written by hand, an amount changed, an entry deleted in the
# middle, the state's balance raised, a credit duplicated, a credit whose
# attestation is not the watcher's, wtop reset) is found, named, and the
# wallet frozen; unfreeze refuses while it does not add up; repair keeps the
# longest prefix that verifies and re-signs the state. Wallet records are
# written under the test's secret by t/tools/wallet_fixture.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use JSON::PP;
use BcTest;

my $t = BcTest->new;
$t->start_redis;
my (undef, $xonly) = $t->watcher_key;
my @R = ('--redis', $t->redis_addr);
my @S = (@R, '--secret', $t->dir . '/secret');
my $SELLER = $BcTest::TEST_WALLET;
my $n_inv = 0;

sub invoice_id { sprintf('%032x', 0xabc000 + ++$n_inv) }

# a wallet: a top-up of 30000, purchases of 1000 and 2000 (balance 27000)
sub good_wallet {
    my $wid = $t->wallet_fixture('new');
    my $inv = invoice_id();
    $t->wallet_fixture('credit', $wid, $inv, 30000);
    $t->wallet_fixture('debit', $wid, '/files/a.bin', 1000, $SELLER);
    $t->wallet_fixture('debit', $wid, '/files/b.bin', 2000, $SELLER);
    return ($wid, $inv);
}

sub audit { $t->cli('wallet', 'audit', @S, '--watcher-key', $xonly, @_) }
sub frozen { $t->redis('HGET', "bitcache:wal:$_[0]", 'frozen') }
sub ledger { @{ $t->redis('LRANGE', "bitcache:wled:$_[0]", 0, -1) } }

# ---- a good wallet ----------------------------------------------------------
my ($good) = good_wallet();
like($good, qr/^[0-9a-f]{32}$/, "a wallet ($good)");
my ($rc, $out, $err) = audit($good);
is($rc, 0, 'a good wallet audits clean (exit 0)') or diag "$out$err";
like($out, qr/3 entries \(1 credit, 30000 sats; 2 debits, 3000 sats\), balance 27000 sats/,
     'the summary adds up');
like($out, qr/^audit: ok, it adds up$/m, 'audit: ok');
ok(!defined frozen($good), 'not frozen');
($rc, $out) = audit('--format', 'json', $good);
my $j = eval { decode_json($out) } || {};
is($rc, 0, 'json: exit 0');
ok($j->{ok} && $j->{balance_sats} == 27000 && $j->{entries} == 3 && $j->{verified_entries} == 3
   && $j->{attestations_checked} && !@{ $j->{problems} }, 'json: ok, 27000, 3 entries verified')
    or diag $out;
($rc, $out) = $t->cli('wallet', 'show', @S, $good);
is($rc, 0, 'show: exit 0');
like($out, qr/seq 3, balance 27000 sats/, 'show: the state');
like($out, qr/state MAC:\s+ok/, 'show: its MAC verifies');
like($out, qr/2 debits \(3000 sats\)/, 'show: the ledger summary');
like($out, qr/frozen:\s+no/, 'show: not frozen');
($rc, $out) = $t->cli('wallet', 'show', @R, '--format', 'json', $good);
$j = eval { decode_json($out) } || {};
ok($j->{balance_sats} == 27000 && !defined $j->{state_mac} && !defined $j->{frozen},
   'show --format json without --secret: balance, MAC not checked') or diag $out;
($rc, $out) = $t->cli('wallet', 'audit', @S, $good);
is($rc, 0, 'without --watcher-key: still exit 0');
like($out, qr/attestations were not checked/, '... and says the attestations were not checked');

# ---- forgeries: each found, named, frozen ---------------------------------------
sub forged {
    my ($name, $forge, @want) = @_;
    my ($wid, $inv) = good_wallet();
    $forge->($wid, $inv);
    my ($rc, $out, $err) = audit($wid);
    is($rc, 1, "$name: exit 1");
    for my $w (@want) {
        like($out, $w, "$name: says $w");
    }
    like(frozen($wid) // '', qr/^audit \S+Z: \d+ problems?, first: /, "$name: frozen with the reason")
        or diag $out;
    like($out, qr/the wallet is frozen/, "$name: says it froze the wallet");
    return $wid;
}

# a debit written by hand (a MAC made up), as a Redis writer can
my $hand = forged('an entry written by hand', sub {
    my ($wid) = @_;
    my @l = ledger($wid);
    (my $e = $l[2]) =~ s/^w1 3 debit 2000 27000 /w1 4 debit 5 26995 /;
    $e =~ s/[0-9a-f]{64}$/'0' x 64/e;
    $t->redis('RPUSH', "bitcache:wled:$wid", $e);
}, qr/^entry 4: its MAC does not verify/m, qr/the state says 3 entries, the ledger has 4/);

my $changed = forged('an amount changed', sub {
    my ($wid) = @_;
    my @l = ledger($wid);
    (my $e = $l[1]) =~ s/ debit 1000 29000 / debit 100 29900 /;
    $t->redis('LSET', "bitcache:wled:$wid", 1, $e);
}, qr/^entry 2: its MAC does not verify/m, qr/^entry 3: does not chain to entry 2/m);

my $deleted = forged('an entry deleted in the middle', sub {
    my ($wid) = @_;
    my @l = ledger($wid);
    $t->redis('LREM', "bitcache:wled:$wid", 1, $l[1]);
}, qr/^entry 2: says it is entry 3/m, qr/^entry 2: does not chain to entry 1/m,
   qr/the state says 3 entries, the ledger has 2/);

forged('the state\'s balance raised', sub {
    $t->redis('HSET', "bitcache:wal:$_[0]", 'bal', 99999);
}, qr/the state's MAC does not verify/, qr/the state's balance is 99999, the ledger's 27000/);

# a credit's copy pushed again by a Redis writer
forged('a credit copied to the end', sub {
    my ($wid) = @_;
    $t->redis('RPUSH', "bitcache:wled:$wid", (ledger($wid))[0]);
}, qr/^entry 4: says it is entry 1/m, qr/^entry 4: credits top-up [0-9a-f]{32} again/m);

# the same top-up credited twice by the module itself (wtop reset in between):
# every MAC verifies, the invoice is credited twice
forged('a top-up credited twice', sub {
    my ($wid, $inv) = @_;
    $t->wallet_fixture('credit', $wid, $inv, 30000);
}, qr/^entry 4: credits top-up [0-9a-f]{32} again/m, qr/^audit: 1 problem;/m);

forged('a credit with a bad attestation', sub {
    my ($wid) = @_;
    $t->wallet_fixture({ key => '11' x 32 }, 'credit', $wid, invoice_id(), 5000);
}, qr/^entry 4: the attestation of top-up [0-9a-f]{32} does not verify under the watcher key/m);

forged('wtop reset to pending', sub {
    my ($wid, $inv) = @_;
    $t->redis('HSET', "bitcache:wtop:$wid", $inv, 0);
}, qr/top-up [0-9a-f]{32}: credited by entry 1, but wtop says pending/);

forged('an ownership record moved to another product', sub {
    my ($wid) = @_;
    my $v = $t->redis('HGET', "bitcache:wown:$wid", '/files/a.bin');
    $t->redis('HSET', "bitcache:wown:$wid", '/files/c.bin', $v);
}, qr/owned product .*MAC|owned product .*verify/);

# --no-freeze: found, not frozen
{
    my ($wid) = good_wallet();
    $t->redis('HSET', "bitcache:wal:$wid", 'bal', 1);
    my ($rc, $out) = audit('--no-freeze', $wid);
    is($rc, 1, '--no-freeze: exit 1');
    ok(!defined frozen($wid), '--no-freeze: not frozen');
    ($rc, $out) = audit('--no-freeze', '--format', 'json', $wid);
    my $j = eval { decode_json($out) } || {};
    ok(!$j->{ok} && !$j->{frozen} && @{ $j->{problems} || [] } == 2
       && !defined $j->{problems}[0]{entry}, 'json: two problems of the state, not frozen')
        or diag $out;
}

# ---- through the module: its purchases audit clean; a forged ledger is
# found, frozen, and the module then refuses to buy -------------------------
{
    $t->make_file("files/$_.bin", 2000) for qw(a b c);
    $t->start_nginx($t->wallet_http('location /files/ { bitcache on; }', price => 500));
    my $w = $t->wallet_open;
    $t->wallet_credit($w->{wallet}, 3000);
    my $r = $t->wallet_req('POST', '/wallet/buy', $w->{code}, { offer => $t->offer_of('/files/a.bin') });
    is($r->{status}, 200, 'the module buys from the wallet') or diag $r->{content};
    $r = $t->wallet_req('POST', '/wallet/buy', $w->{code}, { offer => $t->offer_of('/files/b.bin') });
    is($r->{json}{balance_sats}, 2000, 'twice');
    my ($rc, $out) = audit($w->{wallet});
    is($rc, 0, 'the module\'s purchases audit clean') or diag $out;
    like($out, qr/3 entries \(1 credit, 3000 sats; 2 debits, 1000 sats\), balance 2000 sats/,
         'the module\'s ledger adds up');
    # a Redis writer lowers the price of the first purchase
    my @l = ledger($w->{wallet});
    (my $e = $l[1]) =~ s/ debit 500 2500 / debit 5 2995 /;
    $t->redis('LSET', "bitcache:wled:$w->{wallet}", 1, $e);
    ($rc, $out) = audit($w->{wallet});
    is($rc, 1, 'the forged entry is found');
    $r = $t->wallet_req('POST', '/wallet/buy', $w->{code}, { offer => $t->offer_of('/files/c.bin') });
    is($r->{status}, 403, 'frozen: the module refuses to buy');
    like($r->{json}{frozen} // '', qr/^audit \S+: \d+ problems, first: entry 2: its MAC does not verify/,
         '... and says why');
    ($rc, $out) = $t->cli('wallet', 'repair', @S, '--watcher-key', $xonly, $w->{wallet});
    is($rc, 0, 'repair');
    # the repaired state has a lower seq than nginx saw: refused as a
    # rollback until nginx restarts and forgets its marks (docs/operations.md)
    $r = $t->wallet_req('POST', '/wallet/buy', $w->{code}, { offer => $t->offer_of('/files/c.bin') });
    is($r->{status}, 409, 'repaired: refused while nginx remembers the higher seq');
    $t->stop_nginx;
    $t->start_nginx($t->wallet_http('location /files/ { bitcache on; }', price => 500));
    $r = $t->wallet_req('POST', '/wallet/buy', $w->{code}, { offer => $t->offer_of('/files/c.bin') });
    is($r->{status}, 200, 'repaired, nginx restarted: the module buys again (from the re-signed state)')
        or diag $r->{content};
    is($r->{json}{balance_sats}, 2500, '... from the kept balance');
    is((audit($w->{wallet}))[0], 0, 'and it audits clean');

    # a Redis writer keeps the state (validly signed) and writes it back
    # after two purchases: the balance they spent would be there again
    my $w2 = $t->wallet_open;
    $t->wallet_credit($w2->{wallet}, 1000);
    my %old = @{ $t->redis('HGETALL', "bitcache:wal:$w2->{wallet}") };
    for my $f (qw(a b)) {
        $r = $t->wallet_req('POST', '/wallet/buy', $w2->{code}, { offer => $t->offer_of("/files/$f.bin") });
        is($r->{status}, 200, "rollback: bought $f.bin");
    }
    $t->redis('HSET', "bitcache:wal:$w2->{wallet}", %old);
    ($rc, $out) = audit($w2->{wallet});
    is($rc, 1, 'a state written back: found');
    like($out, qr/the state says 1 entries, the ledger has 3/, '... the state is behind the ledger');
    $t->redis('HDEL', "bitcache:wal:$w2->{wallet}", 'frozen');
    $r = $t->wallet_req('POST', '/wallet/buy', $w2->{code}, { offer => $t->offer_of('/files/c.bin') });
    is($r->{status}, 409, 'the module does not buy from a state written back (t/81 has the cases)');
    is($t->redis('LLEN', "bitcache:wled:$w2->{wallet}"), 3, '... nothing appended');
    $t->check_log_clean;
}

# ---- unfreeze refuses while broken ------------------------------------------------
($rc, $out, $err) = $t->cli('wallet', 'unfreeze', @S, '--watcher-key', $xonly, $changed);
is($rc, 1, 'unfreeze of a broken wallet: exit 1');
like($err, qr/refused: the wallet does not add up/, 'unfreeze: refused');
ok(defined frozen($changed), 'unfreeze: still frozen');

# ---- repair --------------------------------------------------------------------
my @before = ledger($changed);
($rc, $out, $err) = $t->cli('wallet', 'repair', @S, '--watcher-key', $xonly, $changed);
is($rc, 0, 'repair: exit 0') or diag "$out$err";
like($out, qr/repaired: kept entries 1\.\.1, balance 30000 sats; 2 entries moved to bitcache:wled-bad:$changed/,
     'repair says what it kept and moved');
like($out, qr/2 ownership records moved/, 'repair: the ownership records of the dropped debits out');
is_deeply([ledger($changed)], [$before[0]], 'the ledger is its verified prefix');
is_deeply($t->redis('LRANGE', "bitcache:wled-bad:$changed", 0, -1), [@before[1, 2]],
          'the rest kept in wled-bad for the operator');
ok(!defined frozen($changed), 'repair: no longer frozen');
($rc, $out) = audit($changed);
is($rc, 0, 'repaired: audits clean') or diag $out;
like($out, qr/balance 30000 sats/, 'repaired: the balance of the kept entries');

# repair of a wallet whose entry 2 was deleted: the rest out, wtop still right
($rc, $out) = $t->cli('wallet', 'repair', @S, '--watcher-key', $xonly, $deleted);
is($rc, 0, 'repair of the deleted entry: exit 0');
like($out, qr/kept entries 1\.\.1/, 'kept entry 1');
is((audit($deleted))[0], 0, 'then it audits clean');

# repair of a wallet whose credit went out: the top-up pending again
{
    my $wid = $t->wallet_fixture('new');
    my ($i1, $i2) = (invoice_id(), invoice_id());
    $t->wallet_fixture('credit', $wid, $i1, 1000);
    $t->wallet_fixture('debit', $wid, '/files/a.bin', 500, $SELLER);
    $t->wallet_fixture('credit', $wid, $i2, 2000);
    my @l = ledger($wid);
    (my $e = $l[1]) =~ s/ debit 500 500 / debit 5 995 /;
    $t->redis('LSET', "bitcache:wled:$wid", 1, $e);
    my ($rc, $out) = $t->cli('wallet', 'repair', @S, '--watcher-key', $xonly, $wid);
    is($rc, 0, 'repair: exit 0');
    like($out, qr/top-up $i2: pending again/, 'the dropped credit\'s top-up is pending again');
    is($t->redis('HGET', "bitcache:wtop:$wid", $i2), '0', 'wtop says pending');
    is($t->redis('HGET', "bitcache:wtop:$wid", $i1), '1', 'the kept credit stays credited');
    is((audit($wid))[0], 0, 'then it audits clean');
}

# unfreeze of a wallet that adds up
($rc, $out) = $t->cli('wallet', 'freeze', @R, '--reason', 'support ticket 42', $good);
is($rc, 0, 'freeze: exit 0');
is(frozen($good), 'support ticket 42', 'freeze writes the reason');
($rc, $out) = $t->cli('wallet', 'show', @S, $good);
like($out, qr/frozen:\s+support ticket 42/, 'show: frozen, and why');
($rc, $out) = $t->cli('wallet', 'unfreeze', @S, '--watcher-key', $xonly, $good);
is($rc, 0, 'unfreeze of a wallet that adds up: exit 0');
like($out, qr/unfrozen/, 'unfreeze says so');
ok(!defined frozen($good), 'no longer frozen');
# --force
($rc) = $t->cli('wallet', 'unfreeze', @S, '--force', $hand);
is($rc, 0, 'unfreeze --force of a broken wallet: exit 0');
ok(!defined frozen($hand), '--force: unfrozen');

# ---- arguments --------------------------------------------------------------
my $none = '0' x 32;
($rc, $out, $err) = $t->cli('wallet', 'freeze', @R, '--reason', 'x', $none);
is($rc, 1, 'freeze of no wallet: exit 1');
like($err, qr/no wallet $none/, 'freeze: no such wallet');
ok(!$t->redis('EXISTS', "bitcache:wal:$none"), 'freeze created nothing');
($rc, $out, $err) = audit($none);
is($rc, 1, 'audit of no wallet: exit 1');
like($err, qr/no wallet/, 'audit: no such wallet');
$t->cli_refuses(
    [['wallet', 'audit', @S, 'xyz'], qr/"xyz" is not a wallet id \(32 hex digits\)/],
    [['wallet', 'audit', @R, $good], qr/--secret is required/],
    [['wallet', 'audit', @S, '--format', 'xml', $good], qr/--format: "xml" is not text or json/],
    [['wallet', 'audit', @S, '--watcher-key', 'zz', $good], qr/--watcher-key/],
    [['wallet', 'freeze', @R, $good], qr/--reason is required/],
    [['wallet', 'freeze', @R, '--reason', "a\nb", $good], qr/--reason: no control characters/],
    [['wallet', 'repair', @S, '--no-freeze', $good], qr/"--no-freeze" does not apply here/],
    [['wallet', 'audit', @S], qr/exactly one wallet ID is needed/],
    [['wallet', 'fly', @S, $good], qr/unknown subcommand "fly"/],
);

done_testing;
