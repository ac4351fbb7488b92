#!/usr/bin/perl
# The watcher against someone who can write to Redis (and a node on another
# chain), on a real regtest node: whatever they plant (a payment record, a
# spk: mapping, an invoice, a progress tip, a settlement, the record of a
# payment a reorg or an eviction removed), the watcher signs nothing it
# cannot prove from the node and its own MACs, no token is minted, and its
# log says why. Also: dust never pushes a payment out, and the node's
# password need not be on the command line nor in the log.
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
$t->make_file('three/book.pdf', 10_000);
$t->start_nginx($t->selling_http(<<'LOC'));
        location /files/ { bitcache on; bitcache_confirmations 1; }
        location /zero/ { bitcache on; bitcache_confirmations 0; }
        location /three/ { bitcache on; bitcache_confirmations 3; }
LOC
# the node's password from a file: nothing secret on the command line
$t->start_watcher(name => 'w', rpc_auth => 'file');

sub inv { $t->invoice($_[0]) }
sub tip_height { $t->redis('HGET', 'bitcache:watcher:tip', 'height') // -1 }
sub log_since { substr($t->watcher_log('w'), $_[0]) }

sub state_is {
    my ($id, $state, $name) = @_;
    my $ok = $wait->(sub { (inv($id)->{state} // '') eq $state }, 20);
    ok($ok, $name) or diag 'state ' . (inv($id)->{state} // 'none') . "\n" . $t->watcher_log('w');
    return $ok;
}

# a block mined and read by the watcher, then a few more rounds
sub rounds {
    my $h = $t->node_rpc('getblockcount');
    $t->mine(1);
    $wait->(sub { tip_height() == $h + 1 }, 20) or diag "the watcher did not reach block " . ($h + 1);
    sleep 0.5;
}

sub no_token {
    my ($id, $name) = @_;
    my $s = $t->invoice_status($id);
    ok(!$s->{token}, "$name: no token");
    isnt(inv($id)->{state} // '', 'paid', "$name: not paid");
}

sub spk_of { $t->node_rpc('validateaddress', $_[0])->{scriptPubKey} }

ok($wait->(sub { $t->watcher_log('w') =~ /the node is on regtest/ }, 20), 'the watcher checked the node\'s chain');

# --- a forged payment record ---------------------------------------------------------
my $a = $t->new_invoice('/files/book.pdf');
my $mark = length $t->watcher_log('w');
my $fake = 'ee' x 32;
$t->redis('HSET', "bitcache:pay:$a->{id}", "$fake:0", '99999999 1');
my $blk1 = $t->node_rpc('getblockhash', 1);
$t->redis('HSET', "bitcache:pay:$a->{id}", "$fake:1", "99999999 1 $blk1 " . time . ' ' . ('0' x 64));
$t->redis('SADD', 'bitcache:watcher:open', $a->{id});
rounds();
no_token($a->{id}, 'forged payment records');
ok(!inv($a->{id})->{att}, 'forged payment records: nothing attested');
like(log_since($mark), qr/invoice $a->{id}: payment record "$fake:0" is not one the watcher writes; ignored/,
     'log: a record in no format of the watcher');
like(log_since($mark), qr/invoice $a->{id}: payment $fake:1 not counted: its MAC is not this watcher's/,
     'log: a record without the watcher\'s MAC');

# --- spk:<script of a busy address> pointing at an invoice ---------------------------
my $b = $t->new_invoice('/files/book.pdf');
my $busy = $t->wallet_rpc('getnewaddress', 'default');
my $busy_spk = spk_of($busy);
like($busy_spk, qr/^[0-9a-f]+$/, 'the busy address\'s script');
$mark = length $t->watcher_log('w');
$t->redis('SET', "bitcache:spk:$busy_spk", $b->{id});
my $btx = $t->send_sats($busy, 5_000_000);
rounds();
no_token($b->{id}, 'spk: mapping to another script');
ok(!inv($b->{id})->{att}, 'spk: mapping: nothing attested');
is($t->redis('HLEN', "bitcache:pay:$b->{id}"), 0, 'spk: mapping: no payment recorded');
like(log_since($mark), qr/output $btx:\d+ \(5000000 sats\): bitcache:spk:$busy_spk names invoice $b->{id}, but its address is another script; not credited/,
     'log: the output is not the invoice\'s script');

# --- an invoice whose module MAC fails -------------------------------------------------
my $c = $t->new_invoice('/files/book.pdf');
$t->redis('HSET', "bitcache:inv:$c->{id}", 'amount', 1);       # the price, lowered
$mark = length $t->watcher_log('w');
$t->send_sats($c->{address}, 12_345);
rounds();
no_token($c->{id}, 'tampered invoice');
ok(!inv($c->{id})->{att}, 'tampered invoice: never signed');
like(log_since($mark), qr/names invoice $c->{id}, but its MAC does not verify; not credited/,
     'log: its MAC does not verify');
$t->redis('SADD', 'bitcache:watcher:open', $c->{id});
rounds();
like(log_since($mark), qr/invoice $c->{id}: its MAC does not verify; never credited nor signed/,
     'log: not evaluated either');
ok(!inv($c->{id})->{att}, 'tampered invoice: still never signed');

# --- a forged watcher:tip: confirmations come from the node ---------------------------
my $d = $t->new_invoice('/three/book.pdf');
$t->send_sats($d->{address}, 12_345);
$t->mine(1);
state_is($d->{id}, 'seen', '3 confirmations required: seen after 1');
my $h = $t->node_rpc('getblockcount');
$mark = length $t->watcher_log('w');
# rewritten again and again for two seconds: whatever round reads it
my $until = time + 2;
while (time < $until) {
    $t->redis('HSET', 'bitcache:watcher:tip', 'height', $h + 10, 'hash', 'ab' x 32);
    $t->redis('HSET', 'bitcache:watcher:blocks', map { ($h + $_, 'cd' x 32) } 1 .. 10);
    $t->redis('SADD', 'bitcache:watcher:open', $d->{id});
    sleep 0.05;
}
sleep 0.5;
rounds();
is(inv($d->{id})->{state}, 'seen', 'forged tip: still seen');
ok(inv($d->{id})->{conf} <= 2, 'forged tip: at most the node\'s confirmations attested (' . inv($d->{id})->{conf} . ')');
no_token($d->{id}, 'forged tip');
like(log_since($mark), qr/reorg: block ${\($h + 10)} abab/, 'log: the forged tip is rolled back');
$t->redis('HSET', 'bitcache:watcher:tip', 'height', $h + 1_000_000, 'hash', 'ab' x 32);
rounds();
like(log_since($mark), qr/watcher:tip says block ${\($h + 1_000_000)}, far above the node's \d+: not trusted/,
     'log: a tip far above the node');
state_is($d->{id}, 'paid', 'the node\'s third confirmation: paid');
ok($t->invoice_status($d->{id})->{token}, 'and a token');

# --- received and paid_at read back from Redis are not re-signed ---------------------
my $e = $t->new_invoice('/files/book.pdf');
$t->send_sats($e->{address}, 12_345);
$t->mine(1);
state_is($e->{id}, 'paid', 'a genuine purchase: paid');
my $tok = $wait->(sub { $t->invoice_status($e->{id})->{token} }, 20);
ok($tok, 'a token');
my $paid_at = inv($e->{id})->{paid_at};
my $later = time + 10_000_000;
$mark = length $t->watcher_log('w');
$t->redis('HSET', "bitcache:inv:$e->{id}", 'paid_at', $later, 'received', 99_999_999);
$t->redis('SADD', 'bitcache:watcher:open', $e->{id});
rounds();
ok($wait->(sub { (inv($e->{id})->{received} // 0) == 12_345 }, 10), 'received recomputed from the payments');
ok(inv($e->{id})->{paid_at} != $later && inv($e->{id})->{paid_at} <= time,
   'the forged paid_at is not signed');
like(log_since($mark), qr/invoice $e->{id}: its attestation is not this watcher's; its received, conf and paid_at are not kept/,
     'log: why');
ok($t->invoice_status($e->{id})->{token}, 'the buyer still has a token');

# --- a payment record written back after a reorg removed its transaction -------------
my $f = $t->new_invoice('/files/book.pdf');
$t->send_sats($f->{address}, 12_345);
my ($fblock) = @{ $t->mine(1) };
state_is($f->{id}, 'paid', 'paid in a block');
my %saved = @{ $t->redis('HGETALL', "bitcache:pay:$f->{id}") };
is(scalar keys %saved, 1, 'its payment record');
$t->node_rpc('invalidateblock', $fblock);
$t->mine(1);                       # another block at that height, without it
state_is($f->{id}, 'new', 'the reorg took the payment: new');
$mark = length $t->watcher_log('w');
$t->redis('HSET', "bitcache:pay:$f->{id}", %saved);
$t->redis('SADD', 'bitcache:watcher:open', $f->{id});
rounds();
no_token($f->{id}, 'replayed record of a reorged payment');
like(log_since($mark), qr/invoice $f->{id}: payment \S+ not counted: its block is no longer the node's at that height/,
     'log: its block is gone');

# --- a mempool record written back after its transaction was evicted -----------------
$t->make_coins(5, 100_000);
my $z = $t->new_invoice('/zero/book.pdf');
my ($ztx) = $t->bulk_pay([$z->{address}, 12_345]);
state_is($z->{id}, 'paid', '0-conf: paid from the mempool');
my %zsaved = @{ $t->redis('HGETALL', "bitcache:pay:$z->{id}") };
$t->node_rpc('bitcache_evict', $ztx);
state_is($z->{id}, 'new', 'evicted: new again');
$mark = length $t->watcher_log('w');
$t->redis('HSET', "bitcache:pay:$z->{id}", %zsaved);
$t->redis('SADD', 'bitcache:watcher:open', $z->{id});
rounds();
no_token($z->{id}, 'replayed record of an evicted payment');
like(log_since($mark), qr/invoice $z->{id}: payment $ztx:\d+ not counted: its transaction is not in the node's mempool/,
     'log: not in the mempool');

# --- another network's attestation ----------------------------------------------------
my $g = $t->new_invoice('/files/book.pdf');
$t->pay_invoice($g->{id}, 12_345, 1, network => 'testnet');
my $s = $t->invoice_status($g->{id});
ok(!$s->{token}, 'an attestation for testnet settles no regtest invoice');
like($t->error_log, qr/invoice $g->{id} marked paid, no token: attestation does not verify/,
     'nginx log: it does not verify');
$t->pay_invoice($g->{id}, 12_345, 1);
ok($wait->(sub { $t->invoice_status($g->{id})->{token} }, 10), 'the same signed for regtest: a token');
# the same checked by the independent signer (t/node/attest.js, tiny-secp256k1)
my $h2 = $t->new_invoice('/files/book.pdf');
my $spk2 = inv($h2->{id})->{spk};
my $now2 = time;
chomp(my $att_test = `node t/node/attest.js sign $BcTest::WATCHER_SECKEY $h2->{id} $spk2 12345 1 $now2 testnet`);
chomp(my $att_reg = `node t/node/attest.js sign $BcTest::WATCHER_SECKEY $h2->{id} $spk2 12345 1 $now2 regtest`);
$t->redis('HSET', "bitcache:inv:$h2->{id}", state => 'paid', received => 12345, conf => 1,
          paid_at => $now2, att => $att_test);
ok(!$t->invoice_status($h2->{id})->{token}, 'attest.js for testnet: no token for a regtest invoice');
$t->redis('HSET', "bitcache:inv:$h2->{id}", att => $att_reg);
ok($t->invoice_status($h2->{id})->{token}, 'attest.js for regtest: a token');
my ($rc, $out, $err) = $t->cli('watch', '--rpc', $t->node_url, '--rpc-user', 'x', '--redis', $t->redis_addr,
    '--key', $t->watcher_keyfile, '--secret', $t->dir . '/secret', '--network', 'testnet',
    '--rpc-password-file', $t->dir . '/rpc.pw');
is($rc, 1, 'a testnet watcher on a regtest node: exit 1');
like($err, qr/the node is on regtest, but --network says testnet/, 'it says why');

# --- dust sent to a paid address pushes nothing out -----------------------------------
my $k = $t->new_invoice('/files/book.pdf');
$t->send_sats($k->{address}, 12_345);
$t->mine(1);
state_is($k->{id}, 'paid', 'paid');
my $ktok = $wait->(sub { $t->invoice_status($k->{id})->{token} }, 20);
$t->make_coins(310, 30_000);
$t->bulk_pay(map { [$k->{address}, 1_000] } 1 .. 300);
$t->mine(1);
ok($wait->(sub { $t->redis('HLEN', "bitcache:pay:$k->{id}") == 301 }, 30), '301 payments recorded');
ok($wait->(sub { (inv($k->{id})->{over} // 0) == 300_000 }, 30), 'every one counts: over-paid by 300 x 1000')
    or diag 'over ' . (inv($k->{id})->{over} // 'none');
is(inv($k->{id})->{state}, 'paid', 'still paid');
is($t->invoice_status($k->{id})->{token}, $ktok, 'the same token');
my $r = $t->get("/files/book.pdf?bitcache_token=$ktok");
is($r->{status}, 200, 'it downloads');
ok($r->{content} eq $book, 'the exact bytes');

# --- the node's password: from the environment, and never in the log -----------------
$t->stop_watcher('w');
$t->start_watcher(name => 'w', rpc_auth => 'env');
my $m = $t->new_invoice('/files/book.pdf');
$t->send_sats($m->{address}, 12_345);
$t->mine(1);
state_is($m->{id}, 'paid', 'a watcher with the password from $BITCACHE_RPC_PASSWORD settles');
$t->stop_watcher('w');
my $url = $t->node_url =~ s{//}{//x:p\@ss:w\@rd/x\@}r;
$t->start_watcher(name => 'u', rpc_auth => 'url', rpc => $url);
ok($wait->(sub { $t->watcher_log('u') =~ /starting/ }, 10), 'a watcher with credentials in its URL');
$t->stop_watcher('u');
my $ulog = $t->watcher_log('u');
like($ulog, qr{node http://\*\*\*\@127\.0\.0\.1:\d+/}, 'log: the URL\'s user and password are hidden');
unlike($ulog, qr/p\@ss|w\@rd|ss:w/, 'log: no part of a password holding @ and :');
# Redis with a password, given in a file (last: the harness's own Redis
# commands do not authenticate)
$t->write_file('redis.pw', "s3cret\n", 0600);
$t->write_file('wrong.pw', "nope\n", 0600);
$t->redis('CONFIG', 'SET', 'requirepass', 's3cret');
$t->start_watcher(name => 'p', args => ['--redis-password-file', $t->dir . '/redis.pw']);
ok($wait->(sub { $t->watcher_log('p') =~ /leader/ }, 10), 'the Redis password from a file: leader')
    or diag $t->watcher_log('p');
$t->stop_watcher('p');
$t->start_watcher(name => 'q', args => ['--redis-password-file', $t->dir . '/wrong.pw']);
ok($wait->(sub { $t->watcher_log('q') =~ /AUTH as user "default" failed/ }, 10), 'a wrong one: AUTH failed');
$t->stop_watcher('q');
unlike($t->watcher_log('p') . $t->watcher_log('q'), qr/s3cret|nope/, 'no Redis password in the log');
for my $name (qw(w u)) {
    unlike($t->watcher_log($name), qr/$BcTest::WATCHER_SECKEY|$BcTest::NODE_KEY/, "$name log: no secret");
}
$t->check_log_clean;
done_testing;
