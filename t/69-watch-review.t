#!/usr/bin/perl
# The attack review of the watcher: replies that are allowed but odd, from
# Redis and from the node, and records written back by a Redis writer.
#
# HSCAN may return a field more than once (Redis documents it: when a hash
# shrinks between two pages), and a Redis writer can make a hash shrink by
# adding and deleting fields of its own. The watcher reads an invoice's
# payments with HSCAN, page by page: each outpoint must count once, or a
# half payment counted twice settles the invoice. A proxy between the
# watcher and Redis plays the duplicate: every later page of pay:<id>
# repeats the first page's fields.
#
# A node that fails to answer (an error for getblockhash at a height it
# has, as bitcoind does when its work queue is full, or a node that
# contradicts itself) must not make a paid invoice look unpaid: the
# evaluation is dropped and made again, nothing is revoked.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use Time::HiRes qw(sleep);
use BcTest;
use ProtocolRef qw(keys_of invoice_record_mac claim_hash);
use Digest::SHA qw(sha256);
use JSON::PP ();

my $wait = \&BcTest::wait_until;

my $t = BcTest->new;
$t->start_redis;
$t->start_node;
$t->fund_wallet;
$t->make_file('files/book.pdf', 10_000);
$t->start_nginx($t->selling_http('location /files/ { bitcache on; bitcache_confirmations 1; }'));

my %first;    # pay:<id> => the first page's field/value pairs, raw RESP
my $dups = 0;
my $proxy = $t->start_redis_proxy('proxy', sub {
    my ($cmd, $reply) = @_;
    return $reply unless uc($cmd->[0] // '') eq 'HSCAN' && ($cmd->[1] // '') =~ /pay:/;
    # *2 $<n> cursor *<m> pairs...
    $reply =~ /\A(\*2\r\n\$\d+\r\n[^\r]*\r\n)\*(\d+)\r\n(.*)\z/s or return $reply;
    my ($head, $m, $pairs) = ($1, $2, $3);
    if ($cmd->[2] eq '0') {
        $first{ $cmd->[1] } = [ $m, $pairs ];
        return $reply;
    }
    my $f = $first{ $cmd->[1] } or return $reply;
    return $head . '*' . ($m + $f->[0]) . "\r\n" . $pairs . $f->[1];
});
# the node, through a relay that fails getblockhash at one height while
# the file "flaky" exists
my $flaky = $t->dir . '/flaky';
my $fail_at = -1;
my $rpc = $t->start_node_relay('relay', sub {
    my ($req, $status, $reply) = @_;
    if (-e $flaky && ($req->{method} // '') eq 'getblockhash'
        && ($req->{params}[0] // -1) == (do { open my $f, '<', $flaky; <$f> } // -2))
    {
        return (500, qq({"result":null,"error":{"code":-1,"message":"Work queue depth exceeded"},)
                     . qq("id":$req->{id}}));
    }
    return ($status, $reply);
});
$t->start_watcher(name => 'w', redis => "127.0.0.1:$proxy", rpc => $rpc);

sub inv { $t->invoice($_[0]) }

# an invoice of 12,345 sats paid 7,000: underpaid, whatever HSCAN says
my $a = $t->new_invoice('/files/book.pdf');
$t->send_sats($a->{address}, 7_000);
$t->mine(1);
ok($wait->(sub { (inv($a->{id})->{state} // '') eq 'underpaid' }, 30), 'half paid: underpaid')
    or diag $t->watcher_log('w');

# a Redis writer's fields make the hash span pages (it is no longer one
# listpack, so COUNT applies)
$t->redis('HSET', "bitcache:pay:$a->{id}", map { sprintf('%064x:%d', $_, 0), 'junk' } 1 .. 400);
my $mark = length $t->watcher_log('w');
$t->redis('SADD', 'bitcache:watcher:open', $a->{id});
for (1 .. 3) {
    my $h = $t->node_rpc('getblockcount');
    $t->mine(1);
    $wait->(sub { ($t->redis('HGET', 'bitcache:watcher:tip', 'height') // 0) == $h + 1 }, 20);
    sleep 0.5;
}
like(substr($t->watcher_log('w'), $mark), qr/payment records refused in all/,
     'the watcher read the payments over several pages');
my $s = inv($a->{id});
is($s->{state}, 'underpaid', 'its payment returned twice by HSCAN: still underpaid');
is($s->{received}, 7_000, 'received: the payment once');
ok(!$t->invoice_status($a->{id})->{token}, 'no token');

# the same with a payment that completes it: paid, 12,345 received, once
$t->send_sats($a->{address}, 5_345);
$t->mine(1);
ok($wait->(sub { (inv($a->{id})->{state} // '') eq 'paid' }, 30), 'topped up: paid');
is(inv($a->{id})->{received}, 12_345, 'received: each payment once');
ok($t->invoice_status($a->{id})->{token}, 'a token');

# --- the node fails to say which block is at a paid invoice's height ------------------
my $b = $t->new_invoice('/files/book.pdf');
$t->send_sats($b->{address}, 12_345);
$t->mine(1);
ok($wait->(sub { (inv($b->{id})->{state} // '') eq 'paid' }, 30), 'paid') or diag $t->watcher_log('w');
my $tok = $t->invoice_status($b->{id})->{token};
ok($tok, 'a token');
# deeper than the blocks the watcher checks for a reorg on each round
for (1 .. 8) {
    my $h = $t->node_rpc('getblockcount');
    $t->mine(1);
    $wait->(sub { ($t->redis('HGET', 'bitcache:watcher:tip', 'height') // 0) == $h + 1 }, 20);
}
my ($pay) = grep { !/^0+:/ } @{ $t->redis('HKEYS', "bitcache:pay:$b->{id}") };
my $height = (split / /, $t->redis('HGET', "bitcache:pay:$b->{id}", $pay))[1];
$t->write_file('flaky', $height);
$mark = length $t->watcher_log('w');
$t->redis('SADD', 'bitcache:watcher:open', $b->{id});    # evaluated again
for (1 .. 2) {
    my $h = $t->node_rpc('getblockcount');
    $t->mine(1);
    $wait->(sub { ($t->redis('HGET', 'bitcache:watcher:tip', 'height') // 0) == $h + 1 }, 20)
        or diag 'the watcher did not read block ' . ($h + 1);
    sleep 0.5;
}
like(substr($t->watcher_log('w'), $mark), qr/getblockhash failed/,
     'the node failed to answer while the invoice was evaluated');
like(substr($t->watcher_log('w'), $mark), qr/invoice $b->{id}: payment \S+: the node did not say which block is at its height; evaluated again later/,
     'log: evaluated again later');
is(inv($b->{id})->{state}, 'paid', 'the node did not answer: still paid');
ok(!inv($b->{id})->{token_revoked}, 'no token revoked');
unlink $flaky;
ok($wait->(sub { !$t->redis('SISMEMBER', 'bitcache:watcher:open', $b->{id}) }, 20),
   'the node answers again: evaluated, settled, no longer open');
is(inv($b->{id})->{state}, 'paid', 'still paid');
is($t->get("/files/book.pdf?bitcache_token=$tok")->{status}, 200, 'the token downloads');

# --- an old invoice written back onto a reused address ------------------------------
# Invoice A expired unpaid two days ago; its index was reused for B (a
# buyer's live invoice, same address). A Redis writer who kept A's record
# (validly MAC'd, forever) writes it back and points spk: at it: B's
# payment must not settle A, whose claim the writer holds.
{
    my $b2 = $t->new_invoice('/files/book.pdf');
    my %rec = @{ $t->redis('HGETALL', "bitcache:inv:$b2->{id}") };
    my $aid = unpack('H32', sha256("old invoice $$"));
    my $claim = 'attacker claim, 32 bytes long...';
    my %old = (%rec, created => time - 3 * 86400, expires => time - 2 * 86400, state => 'new',
               claim => unpack('H64', claim_hash($claim)));
    $old{mac} = unpack('H64', invoice_record_mac(keys_of($t->secret_bytes), {
        %old, id => pack('H32', $aid), spk => pack('H*', $old{spk}),
        claim_hash => pack('H64', $old{claim}) }));
    $t->redis('HSET', "bitcache:inv:$aid", %old);
    $t->redis('SET', "bitcache:spk:$old{spk}", $aid);
    $mark = length $t->watcher_log('w');
    $t->send_sats($b2->{address}, 12_345);
    $t->mine(1);
    ok($wait->(sub { substr($t->watcher_log('w'), $mark) =~ /block \d+ \S+: .*payment/ }, 30),
       'the block with B\'s payment was read');
    sleep 1;
    isnt(inv($aid)->{state} // '', 'paid', 'the old invoice written back: not paid');
    ok(!inv($aid)->{att}, 'nothing attested for it');
    require MIME::Base64;
    my $s = $t->invoice_status($aid, MIME::Base64::encode_base64url($claim));
    ok(!$s->{token}, 'no token for the writer\'s claim');
    like(substr($t->watcher_log('w'), $mark), qr/names invoice $aid, but .*expired/,
         'log: the output names an invoice that expired');
}

# --- an old paid invoice written back, its attestation left out ---------------------
# The writer kept an invoice paid days ago and its payment record (both
# MAC'd, forever valid), writes them back without the attestation: the
# watcher attests it again, and a token that lapsed long ago must not come
# back with a new expiry (paid_at is never after the invoice's grace).
{
    my @addr = map { [split / /] } split /\n/,
        `$BcTest::CLI derive '$BcTest::TEST_WALLET' --network regtest --count 60 --spk 2>/dev/null`;
    my ($index, $address, $spkhex) = @{ $addr[55] };
    my $tmpl = $t->new_invoice('/files/book.pdf');
    my %rec = @{ $t->redis('HGETALL', "bitcache:inv:$tmpl->{id}") };
    my $eid = unpack('H32', sha256("old paid invoice $$"));
    my $claim = 'the buyer of long ago, 32 bytes.';
    my %old = (%rec, index => $index, address => $address, spk => $spkhex,
               created => time - 3 * 86400, expires => time - 3 * 86400 + 1200, state => 'new',
               claim => unpack('H64', claim_hash($claim)));
    $old{mac} = unpack('H64', invoice_record_mac(keys_of($t->secret_bytes), {
        %old, id => pack('H32', $eid), spk => pack('H*', $spkhex),
        claim_hash => pack('H64', $old{claim}) }));
    my $txid = $t->send_sats($address, 12_345);
    my ($blk) = @{ $t->mine(1) };
    my $height = $t->node_rpc('getblockcount');
    my ($tx) = grep { $_->{txid} eq $txid }
        @{ $t->node_rpc('getblock', $blk, JSON::PP::true(), JSON::PP::true())->{tx} };
    my ($vout) = grep { ($tx->{vout}[$_]{scriptPubKey}{hex} // '') eq $spkhex } 0 .. $#{ $tx->{vout} };
    my $field = "$txid:$vout";
    my $value = `$BcTest::TOOLS/pay_record $BcTest::WATCHER_SECKEY $eid $field 12345 $height $blk ${\ (time - 3 * 86400 + 60)}`;
    chomp $value;
    ok($value, 'its payment record, as the watcher wrote it then');
    $t->redis('HSET', "bitcache:inv:$eid", %old);
    $t->redis('HSET', "bitcache:pay:$eid", $field, $value);
    $t->redis('SADD', 'bitcache:watcher:open', $eid);
    # the watcher looks at an open invoice on its next pass: a block wakes
    # it, and another every 10 s in case a pass was already under way (a
    # loaded CI machine once took longer than one fixed wait)
    my $mined = time;
    $t->mine(1);
    ok($wait->(sub {
        if (time - $mined >= 10) { $t->mine(1); $mined = time }
        (inv($eid)->{state} // '') eq 'paid' }, 90), 'attested again from its records');
    ok(inv($eid)->{paid_at} <= $old{expires} + 86400, 'paid_at no later than the end of its grace');
    require MIME::Base64;
    ok(!$t->invoice_status($eid, MIME::Base64::encode_base64url($claim))->{token},
       'no token: it lapsed long ago');
}

$t->check_log_clean;
done_testing();
