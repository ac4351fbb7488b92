#!/usr/bin/perl
# The watcher against a real regtest node (bcoin), case by case: under-pay
# then top up (two payments in two transactions), over-pay, 0-conf settling
# from the mempool, a late payment, a reorg that removes a payment (token
# revoked, download refused), the watcher killed mid-scan and restarted, two
# watchers and the lease, and the node stopped while nginx keeps serving
# paid tokens.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use Time::HiRes qw(sleep);
use BcTest;

my $wait = \&BcTest::wait_until;

my $t = BcTest->new;
$t->start_redis;
$t->start_node;
$t->fund_wallet;
my $book = $t->make_file('files/book.pdf', 10_000);
$t->make_file('zero/book.pdf', 10_000);
$t->make_file('late/book.pdf', 10_000);
$t->start_nginx($t->selling_http(<<'LOC'));
        location /files/ { bitcache on; bitcache_confirmations 1; }
        location /zero/ { bitcache on; bitcache_confirmations 0; }
        location /late/ { bitcache on; bitcache_confirmations 1; bitcache_invoice_ttl 2s; }
LOC
my @LEASE = (args => ['--lease', '1500']);
$t->start_watcher(name => 'w1', @LEASE);

sub new_invoice { $t->new_invoice(@_) }
sub status { $t->invoice_status(@_) }

sub state_is {
    my ($id, $state, $name, $secs) = @_;
    my $ok = $wait->(sub { ($t->invoice($id)->{state} // '') eq $state }, $secs || 20);
    ok($ok, $name) or diag "state " . ($t->invoice($id)->{state} // 'none') . "\n"
                           . join('', map { $t->watcher_log($_) } qw(w1 w2));
    return $ok;
}

sub token_of {
    my ($id) = @_;
    my $s = $wait->(sub { my $s = status($id); $s->{token} ? $s : undef }, 20);
    return $s ? $s->{token} : undef;
}

sub payments { my %p = @{ $t->redis('HGETALL', "bitcache:pay:$_[0]") }; [grep { !/:seen$/ } keys %p] }

# --- under-pay, then top up: two payments in two transactions ----------------
my $a = new_invoice('/files/book.pdf');
$t->send_sats($a->{address}, 10_000);
$t->mine(1);
state_is($a->{id}, 'underpaid', 'under-paid: underpaid');
is($t->invoice($a->{id})->{received}, 10_000, 'received 10000');
ok(!status($a->{id})->{token}, 'no token');
$t->send_sats($a->{address}, 2_345);
$t->mine(1);
state_is($a->{id}, 'paid', 'topped up: paid');
is($t->invoice($a->{id})->{received}, 12_345, 'received the sum of both');
is(scalar @{ payments($a->{id}) }, 2, 'two payments recorded');
my $tok_a = token_of($a->{id});
ok($tok_a, 'a token');
is($t->get("/files/book.pdf?bitcache_token=$tok_a")->{content}, $book, 'it downloads the file');

# --- over-pay -------------------------------------------------------------------
my $b = new_invoice('/files/book.pdf');
$t->send_sats($b->{address}, 20_000);
$t->mine(1);
state_is($b->{id}, 'paid', 'over-paid: paid');
is($t->invoice($b->{id})->{received}, 20_000, 'received 20000');
is($t->invoice($b->{id})->{over}, 7_655, 'over-payment recorded');
ok(token_of($b->{id}), 'a token');

# --- 0 confirmations: the mempool settles ----------------------------------------
my $c = new_invoice('/zero/book.pdf');
my $height = $t->node_rpc('getblockcount');
$t->send_sats($c->{address}, 12_345);
state_is($c->{id}, 'paid', '0-conf: paid from the mempool');
is($t->node_rpc('getblockcount'), $height, 'no block was mined');
is($t->invoice($c->{id})->{conf}, 0, '0 confirmations attested');
ok(token_of($c->{id}), 'a token');

# --- a late payment, within the grace period ---------------------------------------
my $l = new_invoice('/late/book.pdf');
sleep 3;    # the invoice expires after 2 s
$t->send_sats($l->{address}, 12_345);
$t->mine(1);
state_is($l->{id}, 'paid', 'late payment: paid');
is($t->invoice($l->{id})->{late}, 1, 'flagged late');
ok(token_of($l->{id}), 'honored: a token');
like($t->watcher_log('w1'), qr/invoice $l->{id}: .*-> paid.*late/, 'log: late');

# --- a reorg removes the payment ----------------------------------------------------
my $d = new_invoice('/files/book.pdf');
$t->send_sats($d->{address}, 12_345);
my ($blk) = @{ $t->mine(1) };
state_is($d->{id}, 'paid', 'reorg case: paid');
my $tok_d = token_of($d->{id});
is($t->get("/files/book.pdf?bitcache_token=$tok_d")->{status}, 200, 'the token downloads');

$t->node_rpc("invalidateblock", $blk);
state_is($d->{id}, 'new', 'block invalidated: the payment is gone');
is(scalar @{ payments($d->{id}) }, 0, 'payment rolled back');
my $r = $t->get("/files/book.pdf?bitcache_token=$tok_d");
is($r->{status}, 402, 'the token is refused');
require TokenRef;
my $tid = TokenRef::parse_token($tok_d)->{id};
is($t->redis('HGET', "bitcache:tok:$tid", 'revoked'), 1, 'its record says revoked');
ok(grep({ /^b:/ } @{ $t->redis('HKEYS', "bitcache:tok:$tid") }), 'the bytes it drew stay counted');
like($t->watcher_log('w1'), qr/reorg: block \d+ $blk disconnected, 1 payment/, 'log: reorg');
like($t->watcher_log('w1'), qr/invoice $d->{id}: token $tid revoked/, 'log: token revoked');
$t->mine(1);    # the new branch, without the payment
sleep 0.5;
is($t->invoice($d->{id})->{state}, 'new', 'the new branch does not pay it');
is($t->get("/files/book.pdf?bitcache_token=$tok_a")->{status}, 200, 'other tokens still work');

# the buyer pays again: the same token works again
$t->send_sats($d->{address}, 12_345);
$t->mine(1);
state_is($d->{id}, 'paid', 'paid again after the reorg');
is(TokenRef::parse_token(token_of($d->{id}))->{id}, $tid, 'a token with the same id (new expiry from the new payment)');
is($t->get("/files/book.pdf?bitcache_token=$tok_d")->{content}, $book, 'it downloads again');
like($t->watcher_log('w1'), qr/invoice $d->{id}: paid again, token $tid restored/, 'log: restored');

# --- killed mid-scan, restarted: nothing missed, nothing counted twice ----------------
$t->stop_watcher('w1', 'KILL');
my @inv = map { new_invoice('/files/book.pdf') } 1 .. 3;
for my $i (@inv) {
    $t->send_sats($i->{address}, 6_000);
    $t->mine(1);
    $t->send_sats($i->{address}, 6_345);
    $t->mine(1);
}
my $logged = length $t->watcher_log('w1');
$t->start_watcher(name => 'w1', @LEASE);     # waits for the dead one's lease to lapse
ok($wait->(sub { substr($t->watcher_log('w1'), $logged) =~ /block \d+ [0-9a-f]{64}: / }, 20),
   'the restarted watcher scans');
$t->stop_watcher('w1', 'KILL');          # somewhere in the middle of the scan
$t->start_watcher(name => 'w1', @LEASE);
for my $i (@inv) {
    state_is($i->{id}, 'paid', "restarted: invoice paid");
    is($t->invoice($i->{id})->{received}, 12_345, 'received counted once');
    is(scalar @{ payments($i->{id}) }, 2, 'two payments, once each');
}

# a crash after a block's payments were written but before the tip moved: the
# restarted watcher reads those blocks again and counts nothing twice
$t->stop_watcher('w1', 'KILL');
my $tip = $t->redis('HGET', 'bitcache:watcher:tip', 'height');
my $back = $tip - 6;
$t->redis('HSET', 'bitcache:watcher:tip', 'height', $back,
          'hash', $t->redis('HGET', 'bitcache:watcher:blocks', $back));
my %att = map { ($_->{id} => $t->invoice($_->{id})->{att}) } @inv;
$logged = length $t->watcher_log('w1');
$t->start_watcher(name => 'w1', @LEASE);
ok($wait->(sub { $t->redis('HGET', 'bitcache:watcher:tip', 'height') == $tip }, 20),
   'tip rewound 6 blocks: the restarted watcher reads them again');
sleep 0.3;
for my $i (@inv) {
    is($t->invoice($i->{id})->{received}, 12_345, 'still received once');
    is($t->invoice($i->{id})->{att}, $att{ $i->{id} }, 'the settled attestation is untouched');
}
is(() = substr($t->watcher_log('w1'), $logged) =~ /-> /g, 0, 'no state changed');

# --- two watchers: one leader; the other takes over when the lease lapses -------------
$t->start_watcher(name => 'w2', @LEASE);
sleep 1;
unlike($t->watcher_log('w2'), qr/leader/, 'the second watcher stands by');
$t->stop_watcher('w1', 'KILL');
ok($wait->(sub { $t->watcher_log('w2') =~ /leader/ }, 10), 'it takes over once the lease lapses');
my $e = new_invoice('/files/book.pdf');
$t->send_sats($e->{address}, 12_345);
$t->mine(1);
state_is($e->{id}, 'paid', 'the new leader settles');
my $tok_e = token_of($e->{id});

# --- the node stops: the watcher retries, nginx keeps serving paid tokens --------------
$t->stop_node;
ok($wait->(sub { $t->watcher_log('w2') =~ /node: \S+ failed: .*retrying/ }, 10), 'watcher: retrying');
is($t->get("/files/book.pdf?bitcache_token=$tok_e")->{status}, 200, 'a paid token still downloads');
sleep 0.5;
ok(kill(0, $t->{pids}{w2}), 'the watcher is still running');

my $log = join '', map { $t->watcher_log($_) } qw(w1 w2);
unlike($log, qr/$BcTest::WATCHER_SECKEY|$BcTest::NODE_KEY/, 'no secret in the logs');
$t->stop_watcher('w2');
$t->check_log_clean;
done_testing;
