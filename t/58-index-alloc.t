#!/usr/bin/perl
# One address, one live invoice, on real nginx and redis-server: every
# spelling of one wallet (a vpub, its descriptor, with a checksum, with a
# key origin) shares one derivation counter; an address already claimed
# (SET spk: NX) is never taken over, the next index is; the counter of
# earlier versions (idx:<sha256 of the text>) is honored after an upgrade;
# the reuse set hands out only indexes whose time has come and whose
# address is free.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use JSON::PP qw(decode_json encode_json);
use BcTest;
use ProtocolRef qw(wallet_id);

my $TPUB = $BcTest::TEST_TPUB;
# the same key as a SLIP-132 vpub (BIP84: wpkh of KEY/0/*), converted apart
my $VPUB = 'vpub5ZMGqWnzwfRVXPJbzdseh3GeZZxxp9apgA2iRcgWb3uiFk2knV9unkD8uZgX95e3vdLLjZP86BUxY6p8svtcCGndq8aPwM6AccgQfk1KZb3';
my $DESC = "wpkh($TPUB/0/*)";
my %spelling = (
    a => $VPUB,
    b => $DESC,
    c => "$DESC#g08fm8xs",
    d => "wpkh([D34DB33F/84h/1h/0h]$TPUB/0/*)",
    # another wallet: the change chain of the key, with a legacy counter
    e => "wpkh($TPUB/1/*)",
);

my $t = BcTest->new;
$t->start_redis;
my $locs = '';
for my $l (sort keys %spelling) {
    $t->make_file("$l/book.pdf", 1000);
    $locs .= "location /$l/ { bitcache on; bitcache_wallet \"$spelling{$l}\"; }\n";
}
$t->redis('SET', 'bitcache:idx:' . wallet_id($spelling{e}), 40);    # before the upgrade
$t->start_nginx($t->selling_http($locs));

# reference addresses and scripts, from bitcache derive
my @ref = map { [split / /] } split /\n/,
          `build/bitcache derive '$DESC' --network regtest --count 30 --spk 2>/dev/null`;
is(scalar @ref, 30, 'reference addresses');
my @ref_e = map { [split / /] } split /\n/,
            `build/bitcache derive '$spelling{e}' --network regtest --from 40 --count 2 --spk 2>/dev/null`;
my %index_of = map { ($ref[$_][1] => $_) } 0 .. $#ref;

sub post {
    my ($path) = @_;
    my $r = $t->get($path, Accept => 'application/json');
    my $offer = eval { decode_json($r->{content})->{offer} } or die "no offer for $path";
    my $ua = HTTP::Tiny->new(timeout => 10, max_redirect => 0);
    $r = $ua->request('POST', $t->url('/bitcache/invoices'), {
        headers => { 'Content-Type' => 'application/json', Accept => 'application/json' },
        content => encode_json({ offer => $offer }) });
    $r->{json} = eval { decode_json($r->{content}) } || {};
    return $r;
}

sub invoice_ok {
    my ($path, $name) = @_;
    my $r = post($path);
    is($r->{status}, 201, "$name: 201") or diag $r->{content};
    return $r->{json};
}

sub spk_key { "bitcache:spk:$_[0]" }

# --- every spelling of one key shares its counter ---------------------------------
my (%addr, %inv);
for my $l (qw(a b c d)) {
    $inv{$l} = invoice_ok("/$l/book.pdf", "spelling $l");
    $addr{$l} = $inv{$l}{address};
}
my @idx = map { $t->invoice($inv{$_}{id})->{index} } qw(a b c d);
is("@idx", '0 1 2 3', 'vpub, descriptor, checksum, key origin: indexes 0, 1, 2, 3');
is(scalar(keys %{{ map { ($_ => 1) } values %addr }}), 4, 'four different addresses');
is($addr{$_}, $ref[$index_of{$addr{$_}}][1], "address of $_ is the wallet's") for qw(a b c d);
is($addr{a}, $ref[0][1], 'the first is index 0 of the descriptor');
for my $l (qw(a b c d)) {
    my $i = $t->invoice($inv{$l}{id})->{index};
    is($t->redis('GET', spk_key($ref[$i][2])), $inv{$l}{id}, "spk: of $l names its invoice");
}
my @counters = @{ $t->redis('KEYS', 'bitcache:index:*') };
is(scalar @counters, 1, 'one counter for the four spellings');
my ($counter) = @counters;
my ($WID) = $counter =~ /^bitcache:index:([0-9a-f]{16})$/;
ok($WID, "wallet id $WID");
is($t->redis('GET', $counter), 4, 'it stands at 4');
is($t->redis('GET', 'bitcache:idx:' . wallet_id($_)), undef, 'no text-keyed counter')
    for @spelling{qw(a b c d)};

# --- an address already claimed is never taken over -------------------------------
my $squatter = 'f' x 32;
$t->redis('SET', spk_key($ref[4][2]), $squatter);
my $errlen = length $t->error_log;
my $n = invoice_ok('/b/book.pdf', 'index 4 held by another invoice');
is($t->invoice($n->{id})->{index}, 5, '  the next index, 5, is taken');
is($n->{address}, $ref[5][1], '  with its address');
is($t->redis('GET', spk_key($ref[4][2])), $squatter, '  spk: of index 4 still names the other invoice');
like(substr($t->error_log, $errlen),
     qr/\[warn\].*the address at new index 4 of wallet $WID is held by another invoice; taking another index/,
     '  logged at warn');

# eight in a row held: 503, an error in the log, no invoice
$t->redis('SET', spk_key($ref[$_][2]), $squatter) for 6 .. 13;
my $before = scalar @{ $t->redis('KEYS', 'bitcache:inv:*') };
$errlen = length $t->error_log;
my $r = post('/a/book.pdf');
is($r->{status}, 503, 'indexes 6..13 all held: 503');
like($r->{content}, qr/no free address for this wallet/, '  says why');
like(substr($t->error_log, $errlen), qr/\[error\].*wallet $WID: 8 indexes in a row, the last 13, were held/,
     '  logged at error');
is(scalar @{ $t->redis('KEYS', 'bitcache:inv:*') }, $before, '  no invoice stored');
is($t->redis('GET', spk_key($ref[$_][2])), $squatter, "  spk: of $_ untouched") for 6, 13;
$n = invoice_ok('/c/book.pdf', 'then');
is($t->invoice($n->{id})->{index}, 14, '  the next invoice gets index 14');

# --- the legacy counter is honored -------------------------------------------------
my $e = invoice_ok('/e/book.pdf', 'a wallet with a legacy counter at 40');
is($t->invoice($e->{id})->{index}, 40, '  starts at index 40, above every index handed out before');
is($e->{address}, $ref_e[0][1], '  with its address');
my @ecount = grep { $_ ne $counter } @{ $t->redis('KEYS', 'bitcache:index:*') };
is(scalar @ecount, 1, '  its own new counter');
is($t->redis('GET', $ecount[0]), 41, '  at 41');
$t->redis('SET', 'bitcache:idx:' . wallet_id($spelling{e}), 100);
$e = invoice_ok('/e/book.pdf', 'the legacy counter written again');
is($t->invoice($e->{id})->{index}, 41, '  read only once: index 41');

# --- the reuse set -----------------------------------------------------------------
my $reuse = "bitcache:reuse:$WID";
my $now = time;
# index 2 is live (spelling c's invoice): listed by a Redis writer, never shared
$t->redis('ZADD', $reuse, $now - 10, '0000000002');
# index 3's invoice "expired and its grace passed": its claim is gone
$t->redis('DEL', spk_key($ref[3][2]));
$t->redis('ZADD', $reuse, $now - 5, '0000000003');
# index 7 is listed for later
$t->redis('ZADD', $reuse, $now + 3600, '0000000007');
# garbage written into the set
$t->redis('ZADD', $reuse, $now - 20, 'x1');
$errlen = length $t->error_log;
$n = invoice_ok('/d/book.pdf', 'with a reuse set');
is($t->invoice($n->{id})->{index}, 3, '  takes index 3: reusable, its time has come, its address free');
is($n->{address}, $ref[3][1], '  its address again');
is($t->redis('GET', spk_key($ref[2][2])), $inv{c}{id}, '  index 2 stays the live invoice\'s');
my $log = substr($t->error_log, $errlen);
like($log, qr/reuse set of wallet $WID listed "x1", not an index .*dropped/, '  the garbage is dropped and logged');
like($log, qr/the address at reusable index 2 of wallet $WID is held by another invoice/, '  the live index is refused');
is_deeply($t->redis('ZRANGE', $reuse, 0, -1), ['0000000007'], '  only index 7, whose time has not come, is left');
$n = invoice_ok('/d/book.pdf', 'next');
is($t->invoice($n->{id})->{index}, 15, '  the counter again: 15');

# every invoice but the one made to expire above holds the claim on its address
for my $k (@{ $t->redis('KEYS', 'bitcache:inv:*') }) {
    my ($id) = $k =~ /inv:(\w+)$/;
    next if $id eq $inv{d}{id};
    my $spk = $t->redis('HGET', $k, 'spk');
    is($t->redis('GET', spk_key($spk)), $id, "invoice $id holds its address");
}

$t->check_log_clean;
done_testing;
