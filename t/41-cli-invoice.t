#!/usr/bin/perl
# bitcache invoice list / show / gap on invoice records written by the
# test: MAC'd with the Perl reference (ProtocolRef::invoice_mac), paid with
# t/tools/pay_invoice as the watcher will. show's verdicts are those of
# bc_invoice_check, the function the module's status endpoint settles with.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use BcTest;
use ProtocolRef qw(keys_of invoice_record_mac claim_hash wallet_id);

my $t = BcTest->new;
$t->start_redis;
my $dir = $t->dir;
my $R = $t->redis_addr;
my $S = "$dir/secret";
my $k = keys_of($t->secret_bytes);
my (undef, $WPUB) = $t->watcher_key;
like($WPUB, qr/^dff1d77f2a671c5f36183726db2341be58feae1da2deced843240f7b502ba659$/,
     'the test watcher key is BIP340 vector 0\'s');

my $VPUB = 'vpub5Y6cjg78GGuNLsaPhmYsiw4gYX3HoQiRBiSwDaBXKUafCt9bNwWQiitDk5VZ5BVxYnQdwoTyXSs2JHRPAgjAvtbBrf8ZhDYe2jWAqvZVnsc';
my $XPUB = 'xpub661MyMwAqRbcFtXgS5sYJABqqG9YLmC4Q1Rdap9gSE8NqtwybGhePY2gZ29ESFjqJoCu1Rupje8YtGqsefD265TMg7usUDFdp6W1EGMcet8';

# real addresses of the vpub, so that the records look like the module's
my ($rc, $out, $err) = $t->cli('derive', $VPUB, '--network', 'regtest', '--spk', '--count', 50);
is($rc, 0, 'derive addresses') or diag $err;
my %addr = map { my @f = split ' '; ($f[0] => [$f[1], $f[2]]) } split /\n/, $out;

my $now = time;
my $seq = 0;
# Writes inv:<id> as the module does; returns the id (hex).
sub invoice {
    my (%o) = @_;
    my $id = $o{id} // sprintf('%032x', ++$seq * 7919 + 0xabc000);
    my %f = (v => 2, claim => unpack('H*', claim_hash("claim of $id")), product => '/files/book.pdf', title => 'The Book', wallet => $VPUB,
             network => 3, index => 0, amount => 12345, confirmations => 1,
             created => $now - 1000 + $seq, expires => $now + 3600, token_ttl => 86400,
             max_downloads => 3, %o);
    delete $f{id};
    @f{qw(address spk)} = @{ $addr{$f{index}} // $addr{0} };
    $f{mac} = unpack 'H*', invoice_record_mac($k, { %f, id => pack('H*', $id), spk => pack('H*', $f{spk}),
                                             claim_hash => pack('H*', $f{claim}) });
    $t->redis('HSET', "bitcache:inv:$id", %f);
    $t->redis('EXPIREAT', "bitcache:inv:$id", $f{expires} + 86400);
    return $id;
}

sub show {
    my ($id, @opt) = @_;
    my ($rc, $out, $err) = $t->cli('invoice', 'show', '--redis', $R, '--secret', $S,
                                   '--watcher-key', $WPUB, @opt, $id);
    is($rc, 0, "show $id") or diag $err;
    return $out;
}

# --- list ------------------------------------------------------------------
my $new = invoice(index => 0);
my $paid = invoice(index => 1, amount => 20000);
$t->pay_invoice($paid, 20000, 1);
my $under = invoice(index => 2, amount => 200);
$t->pay_invoice($under, 150, 1, state => 'underpaid');
my $late = invoice(index => 3, expires => $now - 10);
my $seen = invoice(index => 4, product => "/files/odd\tname");
$t->pay_invoice($seen, 12345, 0, state => 'seen');

my $scans = $t->redis_calls('scan');
($rc, $out, $err) = $t->cli('invoice', 'list', '--redis', $R);
is($rc, 0, 'list') or diag $err;
my @lines = split /\n/, $out;
is(scalar @lines, 5, 'one line per invoice');
like($lines[0], qr/^$new  new        12345 sats  received 0  conf 0\/1  \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ  \/files\/book\.pdf$/, 'a new invoice');
like($lines[1], qr/^$paid  paid       20000 sats  received 20000  conf 1\/1  /, 'a paid one');
like($lines[2], qr/^$under  underpaid  200 sats  received 150  conf 1\/1  /, 'an underpaid one');
like($lines[3], qr/^$late  expired    12345 sats  received 0  /, 'new past its expiry: expired');
like($lines[4], qr/^$seen  seen       12345 sats  received 12345  conf 0\/1  .*  \/files\/odd\?name$/, 'seen, control characters as ?');
ok($t->redis_calls('scan') > $scans, 'listed with SCAN');
is($t->redis_calls('keys'), 0, 'never KEYS');

for my $case ([paid => $paid], [expired => $late], [new => $new], [underpaid => $under], [seen => $seen]) {
    ($rc, $out) = $t->cli('invoice', 'list', '--redis', $R, '--state', $case->[0]);
    is($rc, 0, "list --state $case->[0]");
    like($out, qr/^$case->[1]  $case->[0] [^\n]*\n\z/, "  only the $case->[0] invoice");
}

# --- show: fields and verdicts ----------------------------------------------
$out = show($paid);
like($out, qr/^invoice $paid\n  v:             2\n  product:       \/files\/book\.pdf\n  title:         The Book\n/, 'fields in protocol order');
like($out, qr/^  amount:        20000$/m, 'amount');
my $addr1 = $addr{1}[0];
like($out, qr/^  address:       $addr1$/m, "address");
like($out, qr/^  state:         paid$/m, 'state');
like($out, qr/^  att:           [0-9a-f]{128}$/m, 'attestation');
like($out, qr/^expires at \d{4}-.*Z, record kept \d+ s more$/m, 'expiry and TTL');
like($out, qr/^invoice MAC: ok$/m, 'MAC verdict: ok');
like($out, qr/^attestation: ok$/m, 'attestation verdict: ok');
like($out, qr/^settles: yes, a token is minted$/m, 'settles');

($rc, $out) = $t->cli('invoice', 'show', '--redis', $R, $paid);
unlike($out, qr/^(invoice MAC|attestation|settles):/m, 'no verdicts without --secret and --watcher-key');
($rc, $out) = $t->cli('invoice', 'show', '--redis', $R, '--secret', $S, $paid);
like($out, qr/^invoice MAC: ok$/m, '--secret alone: the MAC');
unlike($out, qr/^(attestation|settles):/m, '  only');
($rc, $out) = $t->cli('invoice', 'show', '--redis', $R, '--watcher-key', $WPUB, $paid);
like($out, qr/^attestation: ok$/m, '--watcher-key alone: the attestation');
unlike($out, qr/^(invoice MAC|settles):/m, '  only');

$out = show($new);
like($out, qr/^attestation: no watcher attestation$/m, 'new: no attestation');
like($out, qr/^settles: no, state is new$/m, 'new: state is new');
like(show($under), qr/^settles: no, state is underpaid$/m, 'underpaid: state is underpaid');
like(show($seen), qr/^settles: no, state is seen$/m, 'seen: state is seen');

# the trust model: whoever writes to Redis cannot get a file for free
my $a = invoice(index => 5, amount => 200);
$t->pay_invoice($a, 200, 1);
like(show($a), qr/^settles: yes/m, 'paid 200 of 200');
$t->redis('HSET', "bitcache:inv:$a", 'amount', 100);
$out = show($a);
like($out, qr/^invoice MAC: invoice MAC does not verify$/m, 'amount lowered in Redis: MAC fails');
like($out, qr/^settles: no, invoice MAC does not verify$/m, '  and it does not settle');

my $b = invoice(index => 6);
$t->redis('HSET', "bitcache:inv:$b", 'address', $addr{7}[0], 'spk', $addr{7}[1]);
like(show($b), qr/^invoice MAC: invoice MAC does not verify$/m, 'address swapped: MAC fails');
my $tt = invoice(index => 9);
$t->redis('HSET', "bitcache:inv:$tt", 'title', "Pay to $addr{7}[0] instead");
like(show($tt), qr/^invoice MAC: invoice MAC does not verify$/m, 'title rewritten: MAC fails (record v2)');
like(show($new), qr/^  max_downloads: 3\n  claim:         [0-9a-f]{64}\n  mac: /m, 'the claim hash shown in its place');

my $c = invoice(index => 8);
$t->redis('HSET', "bitcache:inv:$c", 'state', 'paid', 'received', 12345, 'conf', 1, 'paid_at', $now);
$out = show($c);
like($out, qr/^attestation: no watcher attestation$/m, 'set to paid without att');
like($out, qr/^settles: no, no watcher attestation$/m, '  does not settle');
$t->redis('HSET', "bitcache:inv:$c", 'att', 'ab' x 64);
like(show($c), qr/^settles: no, attestation does not verify$/m, 'a made-up att does not verify');

my $d = invoice(index => 9);
$t->pay_invoice($d, 12345, 1, key => '11' x 32);
$out = show($d);
like($out, qr/^attestation: attestation does not verify$/m, 'signed by another key');
like($out, qr/^settles: no, attestation does not verify$/m, '  does not settle');

my $e = invoice(index => 10);
$t->pay_invoice($e, 100, 1);
$t->redis('HSET', "bitcache:inv:$e", 'received', 12345);
like(show($e), qr/^settles: no, attestation does not verify$/m, 'received raised after signing');

my $f = invoice(index => 11, amount => 200);
$t->pay_invoice($f, 100, 1);
$out = show($f);
like($out, qr/^attestation: ok$/m, 'an honest attestation of too little');
like($out, qr/^settles: no, received 100 < amount 200$/m, '  received 100 < amount 200');

my $g = invoice(index => 12, confirmations => 2);
$t->pay_invoice($g, 12345, 1);
like(show($g), qr/^settles: no, 1 of 2 confirmations$/m, '1 of 2 confirmations');
$t->pay_invoice($g, 12345, 2, paid_at => $now + 600);
$out = show($g);
like($out, qr/^  paid_at:       @{[ $now + 600 ]}$/m, 'paid_at as given');
like($out, qr/^settles: yes/m, 'settles once confirmed');

my $h = invoice(index => 13);
$t->redis('HDEL', "bitcache:inv:$h", 'mac');
$t->redis('HSET', "bitcache:inv:$h", 'future_field', 'x');
$out = show($h);
like($out, qr/^record: malformed, no field mac$/m, 'a record without mac: malformed');
like($out, qr/^  future_field:  x$/m, 'fields of other versions shown too');

($rc, $out, $err) = $t->cli('invoice', 'show', '--redis', $R, 'f' x 32);
is($rc, 1, 'an unknown invoice: exit 1');
like($err, qr/no invoice f{32} \(expired or never created\)/, '  and says so');

# --- gap -------------------------------------------------------------------
$t->redis('FLUSHALL');
sub gap { $t->cli('invoice', 'gap', '--redis', $R, @_) }
# wallet id => its report
sub reports {
    my ($out) = @_;
    return map { /^wallet ([0-9a-f]{16}): / ? ($1 => $_) : () } split /(?=^wallet )/m, $out;
}

# W1 (the vpub): indexes 0..9, payments at 2 and 6, the last two live
for my $i (0 .. 9) {
    my $id = invoice(index => $i, expires => $i < 8 ? $now - 100 : $now + 3600);
    $t->pay_invoice($id, 12345, 1) if $i == 2;
    $t->pay_invoice($id, 12345, 0, state => 'seen') if $i == 6;
}
($rc, $out, $err) = gap();
is($rc, 0, 'gap: within the limit, exit 0') or diag $err;
my ($W1) = $out =~ /^wallet ([0-9a-f]{16}): /m;
ok($W1, "one wallet, $W1");
isnt($W1, wallet_id($VPUB), '  named by the parsed key, not by its text');
is($out, "wallet $W1: counter 10 (no index counter), 2 used, 0 waiting for reuse, "
         . "highest index a payment can reach 10, longest unpaid run 3 (indexes 3-5)\n"
         . "  within the gap limit of 20\n  wallet: vpub5Y6cjg78GGuN...AqvZVnsc\n",
   '  counter, used, reach, the longest run, the limit');
$t->redis('SET', "bitcache:index:$W1", 10);
($rc, $out) = gap('--gap-limit', 3);
is($rc, 3, '--gap-limit 3: a run of 3 is past it, exit 3');
like($out, qr/^wallet $W1: counter 10, 2 used, /m, '  the counter read');
like($out, qr/^  PAST the gap limit of 3: a wallet app that stops after 3 unused addresses misses payments from index 6 on; set its gap limit to 20 or more$/m,
     '  says what would be missed and what to set');
($rc, $out) = gap('--gap-limit', 4);
is($rc, 0, '--gap-limit 4: within');

# W2 (the xpub): 40 handed out, records only for 30..39, none paid
my %w2 = map { ($_ => invoice(index => $_, wallet => $XPUB, network => 0)) } 30 .. 39;
($rc, $out) = gap('--wallet', $XPUB);
is($rc, 3, 'W2: nothing paid over 40 indexes: exit 3');
my ($W2) = $out =~ /^wallet ([0-9a-f]{16}): /m;
ok($W2 && $W2 ne $W1, "--wallet shows only that wallet, $W2");
is(scalar(() = $out =~ /^wallet /mg), 1, '  one report');
$t->redis('SET', "bitcache:index:$W2", 40);
($rc, $out) = gap('--wallet', $XPUB);
like($out, qr/^wallet $W2: counter 40, 0 used, 0 waiting for reuse, highest index a payment can reach 40, longest unpaid run 40 \(indexes 0-39\)$/m,
     '  the whole range is one run');
like($out, qr/PAST the gap limit of 20: .* misses payments from index 40 on; set its gap limit to 60 or more/, '  60 recommended');

# their grace over, 0..29 listed for reuse: the next invoice takes index 0
$t->redis('ZADD', "bitcache:reuse:$W2", map { ($now - 100 + $_, sprintf('%010d', $_)) } 0 .. 29);
$t->redis('ZADD', "bitcache:reuse:$W2", $now + 3600, '0000000035');
($rc, $out) = gap('--wallet', $XPUB);
like($out, qr/^wallet $W2: counter 40, 0 used, 31 waiting for reuse, highest index a payment can reach 39, longest unpaid run 39 /m,
     'reusable indexes: the live records 30..39 still reachable');
like($out, qr/^  reuse: 0 from \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \(due\), 1 from .* \(due\), .*, and 21 more; next handed out: 0$/m,
     '  lists them, when, and the next one');
$t->redis('DEL', map { "bitcache:inv:$w2{$_}" } 30 .. 39);
($rc, $out) = gap('--wallet', $XPUB);
is($rc, 0, 'once 30..39 are gone too: exit 0');
like($out, qr/^wallet $W2: counter 40, 0 used, 31 waiting for reuse, highest index a payment can reach 0, longest unpaid run 0$/m,
     '  the next payment lands at index 0: no run before it');
$t->redis('ZADD', "bitcache:reuse:$W2", $now, 'x', $now, '35');
($rc, $out) = gap('--wallet', $XPUB);
like($out, qr/^  reuse: 2 members that are not indexes \(Redis was written to\)$/m, 'garbage in the set is reported');

# a counter whose invoices have all gone; a legacy counter is not a wallet
$t->redis('SET', 'bitcache:index:0123456789abcdef', 5);
$t->redis('SET', 'bitcache:idx:' . wallet_id($VPUB), 99);
($rc, $out) = gap();
is($rc, 0, 'all wallets within the limit: exit 0');
my %rep = reports($out);
is_deeply([sort keys %rep], [sort $W1, $W2, '0123456789abcdef'], 'one report per wallet, none for the legacy idx: key');
like($rep{'0123456789abcdef'}, qr/counter 5, 0 used, .* longest unpaid run 5 .*\n  within the gap limit of 20\n  wallet: \(no invoice of it left in Redis\)\n/,
     'a counter alone');

$t->redis('FLUSHALL');
($rc, $out) = gap();
is($out, "no wallet has handed out an address yet\n", 'an empty Redis');
is($rc, 0, '  exit 0');

# --- bad arguments ------------------------------------------------------------
# --- version 3 (docs/creators.md): list beside the amount chosen ------------
{
    my $v3 = invoice(index => 20, v => 3, amount => 15000, list => 12345);
    $out = show($v3);
    like($out, qr/^  v:             3$/m, 'version 3');
    like($out, qr/^  amount:        15000\n  list:          12345\n/m, 'list after amount');
    like($out, qr/^invoice MAC: ok$/m, 'its MAC (ProtocolRef::invoice3_mac) verifies');
    $t->pay_invoice($v3, 12345, 1);
    like(show($v3), qr/^settles: no, received 12345 < amount 15000$/m, 'paid the list price only: not settled');
    $t->pay_invoice($v3, 15000, 1);
    like(show($v3), qr/^settles: yes/m, 'paid the amount chosen: settles');
    $t->redis('HSET', "bitcache:inv:$v3", 'list', 100);
    like(show($v3), qr/^invoice MAC: (?!ok)/m, 'list changed in Redis: the MAC fails');
    $t->redis('HDEL', "bitcache:inv:$v3", 'list');
    like(show($v3), qr/^record: malformed, no field list$/m, 'version 3 without list: malformed');
    my $v2 = invoice(index => 21, amount => 12345, list => 1);
    $out = show($v2);
    like($out, qr/^invoice MAC: ok$/m, 'version 2 still verifies (a list field in it is not in its MAC)');
    ($rc, $out) = $t->cli('invoice', 'list', '--redis', $R);
    like($out, qr/^$v3  /m, 'list shows version 3 invoices');
}

my @bad = (
    [ ['invoice', 'list', '--redis', $R, '--state', 'done'], qr/--state: "done" is not one of new, seen, paid, underpaid, expired/ ],
    [ ['invoice', 'list', '--redis', $R, '--state'], qr/unknown or incomplete option "--state"/ ],
    [ ['invoice', 'list'], qr/--redis ADDR is required/ ],
    [ ['invoice', 'list', '--redis', $R, 'x'], qr/takes no arguments, got "x"/ ],
    [ ['invoice', 'list', '--redis', $R, '--secret', $S], qr/option "--secret" does not apply here/ ],
    [ ['invoice', 'show', '--redis', $R], qr/exactly one ID is needed/ ],
    [ ['invoice', 'show', '--redis', $R, 'a', 'b'], qr/exactly one ID is needed/ ],
    [ ['invoice', 'show', '--redis', $R, 'xyz'], qr/"xyz" is not a 32-digit invoice id/ ],
    [ ['invoice', 'show', '--redis', $R, 'g' x 32], qr/"g{32}" is not a 32-digit invoice id/ ],
    [ ['invoice', 'show', $new], qr/--redis ADDR is required/ ],
    [ ['invoice', 'show', '--redis', $R, '--watcher-key', 'abc', $new], qr/--watcher-key: / ],
    [ ['invoice', 'show', '--redis', $R, '--watcher-key', '00' x 32, $new], qr/--watcher-key: / ],
    [ ['invoice', 'show', '--redis', $R, '--secret', "$dir/nope", $new], qr/--secret: cannot open/ ],
    [ ['invoice', 'show', '--redis', $R, '--state', 'paid', $new], qr/option "--state" does not apply here/ ],
    [ ['invoice', 'gap', '--redis', $R, 'x'], qr/takes no arguments, got "x"/ ],
    [ ['invoice', 'gap'], qr/--redis ADDR is required/ ],
    [ ['invoice', 'gap', '--redis', $R, '--redis-db', '-1'], qr/--redis-db: "-1" is not a database number/ ],
    [ ['invoice', 'gap', '--redis', $R, '--gap-limit', '0'], qr/--gap-limit: "0" is not a number from 1 to 1000000/ ],
    [ ['invoice', 'gap', '--redis', $R, '--gap-limit', 'x'], qr/--gap-limit: "x" is not a number/ ],
    [ ['invoice', 'gap', '--redis', $R, '--wallet', 'xprv9s21ZrQH143K3QTDL4LXw2F7HEK3wJUD2nW2nRk4stbPy6cq3jPPqjiChkVvvNKmPGJxWUtg6LAF2R7ER4QxyYpaGH8uzmoTGs7wYYjsqZB'], qr/--wallet: .*never hold a private key/ ],
    [ ['invoice', 'list', '--redis', $R, '--gap-limit', '3'], qr/option "--gap-limit" does not apply here/ ],
    [ ['invoice'], qr/invoice: a subcommand is needed.*invoice list --redis ADDR/s ],
    [ ['invoice', 'pay'], qr/invoice: unknown subcommand "pay"/ ],
);
$t->cli_refuses(@bad);

($rc, $out) = $t->cli('--help');
like($out, qr/invoice list --redis ADDR \[--state/, '--help lists invoice list');
like($out, qr/invoice show --redis ADDR \[--secret FILE \[--old-secret FILE\]\] \[--watcher-key HEX\] ID/, 'and invoice show');
like($out, qr/invoice gap --redis ADDR \[--wallet W\] \[--gap-limit N\]/, 'and invoice gap');

$t->stop_redis;
($rc, $out, $err) = $t->cli('invoice', 'gap', '--redis', $R);
is($rc, 1, 'Redis down: exit 1');
like($err, qr/cannot connect to redis/, '  says so');

done_testing;
