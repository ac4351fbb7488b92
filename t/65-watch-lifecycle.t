#!/usr/bin/perl
# The watcher's bookkeeping for payments that never come or go away again,
# against a real regtest node (bcoin): an invoice nobody pays is marked
# expired when its time is up (and still honors a late payment); a mempool
# payment evicted without confirming leaves its invoice (the 0-conf token it
# bought is revoked); a block half-recorded by a watcher that died is
# counted from scratch, even when the node has another block there by then.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use Time::HiRes qw(sleep);
use BcTest;
use TokenRef;

my $wait = \&BcTest::wait_until;

my $t = BcTest->new;
$t->start_redis;
$t->start_node;
$t->fund_wallet;
$t->make_coins(10, 100_000);
my $book = $t->make_file('files/book.pdf', 10_000);
$t->make_file('short/book.pdf', 10_000);
$t->make_file('zero/book.pdf', 10_000);
$t->start_nginx($t->selling_http(<<'LOC'));
        location /files/ { bitcache on; bitcache_confirmations 1; }
        location /short/ { bitcache on; bitcache_confirmations 1; bitcache_invoice_ttl 2s; }
        location /zero/ { bitcache on; bitcache_confirmations 0; }
LOC
$t->start_watcher(name => 'w');

sub inv { $t->invoice(@_) }
sub due { $t->redis('ZSCORE', 'bitcache:watcher:due', $_[0]) }
sub payments { my %p = @{ $t->redis('HGETALL', "bitcache:pay:$_[0]") }; [grep { !/:seen$/ } keys %p] }

sub state_is {
    my ($id, $state, $name, $secs) = @_;
    my $ok = $wait->(sub { (inv($id)->{state} // '') eq $state }, $secs || 20);
    ok($ok, $name) or diag "state " . (inv($id)->{state} // 'none') . "\n" . $t->watcher_log('w');
    return $ok;
}

sub token_of {
    my ($id) = @_;
    my $s = $wait->(sub { my $s = $t->invoice_status($id); $s->{token} ? $s : undef }, 20);
    return $s ? $s->{token} : undef;
}

# --- an invoice nobody pays expires; a late payment is still honored --------------
my $e = $t->new_invoice('/short/book.pdf');
is(due($e->{id}), inv($e->{id})->{expires}, 'nginx lists the invoice as due at its expiry');
is(inv($e->{id})->{state}, 'new', 'it starts new');
state_is($e->{id}, 'expired', 'never paid: the watcher marks it expired', 15);
my $rec = inv($e->{id});
is($rec->{received}, 0, 'nothing received');
is(length($rec->{att} // ''), 128, 'attested like every state change');
ok($wait->(sub { !defined due($e->{id}) }, 10), 'no longer due');
is($t->invoice_status($e->{id})->{state}, 'expired', 'the status endpoint says expired');
like($t->watcher_log('w'), qr/invoice $e->{id}: new -> expired/, 'log: new -> expired');
$t->send_sats($e->{address}, 12_345);
$t->mine(1);
state_is($e->{id}, 'paid', 'paid after expiry, within the grace period: paid');
is(inv($e->{id})->{late}, 1, 'flagged late');
my $tok_e = token_of($e->{id});
is($t->get("/short/book.pdf?bitcache_token=$tok_e")->{status}, 200, 'its token downloads');

# paid in time: looked at when due, left paid
my $p = $t->new_invoice('/short/book.pdf');
$t->send_sats($p->{address}, 12_345);
$t->mine(1);
state_is($p->{id}, 'paid', 'paid in time');
my $att = inv($p->{id})->{att};
ok($wait->(sub { !defined due($p->{id}) }, 15), 'looked at when due');
is(inv($p->{id})->{state}, 'paid', 'still paid after its expiry');
is(inv($p->{id})->{att}, $att, 'the attestation untouched');

# --- a mempool payment evicted without confirming ----------------------------------
my $z = $t->new_invoice('/zero/book.pdf');
my ($ztx) = $t->bulk_pay([$z->{address}, 12_345]);
state_is($z->{id}, 'paid', '0-conf: paid from the mempool');
my $tok_z = token_of($z->{id});
is($t->get("/zero/book.pdf?bitcache_token=$tok_z")->{status}, 200, 'the token downloads');
ok($t->redis('SISMEMBER', 'bitcache:watcher:mempool', "$ztx:0:$z->{id}")
   || $t->redis('SISMEMBER', 'bitcache:watcher:mempool', "$ztx:1:$z->{id}"),
   'the payment is watched until it confirms');
$t->node_rpc('bitcache_evict', $ztx);
state_is($z->{id}, 'new', 'evicted: the invoice is new again');
is(scalar @{ payments($z->{id}) }, 0, 'the payment is gone');
like($t->watcher_log('w'), qr/payment $ztx:\d to invoice $z->{id} left the mempool without confirming/,
     'log: left the mempool');
is($t->get("/zero/book.pdf?bitcache_token=$tok_z")->{status}, 402, 'the token is refused');
my $tid = TokenRef::parse_token($tok_z)->{id};
is($t->redis('HGET', "bitcache:tok:$tid", 'revoked'), 1, 'its record says revoked');

# 1 confirmation required: seen, evicted, new again
my $s = $t->new_invoice('/files/book.pdf');
my ($stx) = $t->bulk_pay([$s->{address}, 12_345]);
state_is($s->{id}, 'seen', 'seen in the mempool');
$t->node_rpc('bitcache_evict', $stx);
state_is($s->{id}, 'new', 'evicted: new again');

# a mempool payment that is mined stays, and is no longer watched as such
my $m = $t->new_invoice('/files/book.pdf');
$t->bulk_pay([$m->{address}, 12_345]);
state_is($m->{id}, 'seen', 'seen in the mempool');
$t->mine(1);
state_is($m->{id}, 'paid', 'mined: paid');
ok($t->redis('SISMEMBER', 'bitcache:watcher:open', $m->{id}) == 0,
   'settled with its block: no longer open');
ok($wait->(sub { $t->redis('SCARD', 'bitcache:watcher:mempool') == 0 }, 10),
   'nothing left to watch in the mempool');
is(inv($m->{id})->{state}, 'paid', 'still paid');
is(scalar @{ payments($m->{id}) }, 1, 'one payment');

# --- a block half-recorded by a watcher that died ----------------------------------
# What a watcher killed between recording block H+1's payments and moving its
# tip leaves behind; meanwhile the node has another block at H+1, which does
# not pay the invoice. Counting the leftover would sell the file for nothing.
$t->stop_watcher('w');
my $h = $t->node_rpc('getblockcount');
is($t->redis('HGET', 'bitcache:watcher:tip', 'height'), $h, 'the watcher was at the tip');
my $u = $t->new_invoice('/files/book.pdf');
my $ghost = 'ab' x 32;
# MAC'd with the watcher's own key, as it would have written it, for a block
# that the node has not got at H+1
chomp(my $planted = `$BcTest::TOOLS/pay_record $BcTest::WATCHER_SECKEY $u->{id} $ghost:0 12345 ${\($h + 1)} ${\('cd' x 32)} ${\time}`);
$t->redis('HSET', "bitcache:pay:$u->{id}", "$ghost:0", $planted);
$t->redis('SADD', 'bitcache:watcher:h:' . ($h + 1), $u->{id});
$t->mine(1);
my $logged = length $t->watcher_log('w');
$t->start_watcher(name => 'w');
ok($wait->(sub { $t->redis('HGET', 'bitcache:watcher:tip', 'height') == $h + 1 }, 20),
   'the restarted watcher reads block H+1');
sleep 0.3;
is(scalar @{ payments($u->{id}) }, 0, 'the leftover payment is forgotten');
isnt(inv($u->{id})->{state}, 'paid', 'the invoice is not paid');
ok(!$t->invoice_status($u->{id})->{token}, 'no token');
like(substr($t->watcher_log('w'), $logged),
     qr/unfinished block: payment $ghost:0 to invoice $u->{id} left with block ${\($h + 1)}/,
     'log: the unfinished block');

$t->stop_watcher('w');
unlike($t->watcher_log('w'), qr/$BcTest::WATCHER_SECKEY|$BcTest::NODE_KEY/, 'no secret in the log');
$t->check_log_clean;
done_testing;
