#!/usr/bin/perl
# bitcache product set / list / rm: catalog records prod:<product> in Redis,
# their MAC checked against the Perl reference, prices in sats or BTC read
# without floating point, and every bad argument refused with exit 2 and a
# message that names it.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use Time::HiRes ();
use BcTest;
use ProtocolRef qw(keys_of product2_mac product3_mac);

my $t = BcTest->new;
$t->start_redis;
my $dir = $t->dir;
my $R = $t->redis_addr;
my $S = "$dir/secret";
my $k = keys_of($t->secret_bytes);

my $XPUB = 'xpub661MyMwAqRbcFtXgS5sYJABqqG9YLmC4Q1Rdap9gSE8NqtwybGhePY2gZ29ESFjqJoCu1Rupje8YtGqsefD265TMg7usUDFdp6W1EGMcet8';
my $VPUB = 'vpub5Y6cjg78GGuNLsaPhmYsiw4gYX3HoQiRBiSwDaBXKUafCt9bNwWQiitDk5VZ5BVxYnQdwoTyXSs2JHRPAgjAvtbBrf8ZhDYe2jWAqvZVnsc';
my $XPRV = 'xprv9s21ZrQH143K3QTDL4LXw2F7HEK3wJUD2nW2nRk4stbPy6cq3jPPqjiChkVvvNKmPGJxWUtg6LnF5kejMRNNU3TGtRBeJgk33yuGBxrMPHi';

sub record {
    my ($product, $prefix) = @_;
    my $r = $t->redis('HGETALL', ($prefix // 'bitcache:') . "prod:$product");
    return { @$r };
}

# version 3 (what product set writes) or 2, as the record's v says
sub mac_ok {
    my ($product, $h) = @_;
    my $mac = ($h->{v} // '') eq '3'
        ? product3_mac($k, $product, @$h{qw(seq price suggested free free_window wallet title)})
        : product2_mac($k, $product, $h->{seq}, $h->{price}, $h->{wallet}, $h->{title});
    return unpack('H*', $mac) eq $h->{mac};
}

# --- set -----------------------------------------------------------------
my ($rc, $out, $err) = $t->cli('product', 'set', '/files/book.pdf', '--price', '12345',
                               '--secret', $S, '--redis', $R);
is($rc, 0, 'set with a price in sats') or diag $err;
like($out, qr{^prod:/files/book\.pdf price 12345 sats \(0\.00012345 BTC\), wallet - \(the location's\), seq \d+$}, 'says what it wrote');
my $h = record('/files/book.pdf');
is_deeply([sort keys %$h], [qw(free free_window mac price seq suggested title v wallet)],
          'fields v, price, wallet, title, seq, suggested, free, free_window, mac');
is_deeply([@$h{qw(v suggested free free_window)}], [3, 0, 0, 0], 'version 3, no suggested price, no giveaway');
my $t0 = int(Time::HiRes::time() * 1000);
ok($h->{seq} > $t0 - 60_000 && $h->{seq} <= $t0, 'seq: now in milliseconds');
my $seq1 = $h->{seq};
is($h->{price}, '12345', 'price in sats');
is($h->{wallet}, '', 'no wallet: the location\'s');
is($h->{title}, '', 'no title');
ok(mac_ok('/files/book.pdf', $h), 'MAC verifies with the Perl reference (ProtocolRef::product3_mac)');

($rc, $out, $err) = $t->cli('product', 'set', '--secret', $S, '--redis', $R, '--price', '0.0005 BTC',
                            '--wallet', $XPUB, '--title', 'Über Film', '/films/über film.mp4');
is($rc, 0, 'set with a BTC price, a wallet and a title') or diag $err;
$h = record('/films/über film.mp4');
is($h->{price}, '50000', '"0.0005 BTC" = 50000 sats');
is($h->{wallet}, $XPUB, 'wallet recorded');
is($h->{title}, 'Über Film', 'title recorded (UTF-8)');
ok(mac_ok('/films/über film.mp4', $h), 'MAC verifies');
like($out, qr/price 50000 sats \(0\.0005 BTC\), wallet set/, 'output');

for my $case (['1 BTC', 100000000], ['1.5 btc', 150000000], ['0.00000001 BTC', 1],
              ['21000000 BTC', 2100000000000000], ['0.0005BTC', 50000], ['2100000000000000', 2100000000000000],
              ['700 sats', 700]) {
    my ($price, $sats) = @$case;
    ($rc, $out, $err) = $t->cli('product', 'set', '/p', '--price', $price, '--secret', $S, '--redis', $R);
    is($rc, 0, "price \"$price\" accepted") or diag $err;
    is(record('/p')->{price}, $sats, "  = $sats sats");
    ok(mac_ok('/p', record('/p')), '  MAC verifies');
}

($rc) = $t->cli('product', 'set', '/files/book.pdf', '--price', '999', '--wallet', $VPUB,
                '--secret', $S, '--redis', $R);
is($rc, 0, 'set again: the record is replaced');
$h = record('/files/book.pdf');
is($h->{price}, 999, 'new price');
is($h->{wallet}, $VPUB, 'new wallet (a vpub)');
ok(mac_ok('/files/book.pdf', $h), 'new MAC verifies');
cmp_ok($h->{seq}, '>', $seq1, 'and a higher seq');

# a clock behind the current record: seq still grows
my $future = $h->{seq} + 10_000_000;
$t->redis('HSET', 'bitcache:prod:/files/book.pdf', seq => $future,
          mac => unpack('H*', product3_mac($k, '/files/book.pdf', $future, 999, 0, 0, 0, $VPUB, '')));
($rc) = $t->cli('product', 'set', '/files/book.pdf', '--price', '999', '--wallet', $VPUB,
                '--secret', $S, '--redis', $R);
is(record('/files/book.pdf')->{seq}, $future + 1, 'a current record ahead of the clock: its seq + 1');
# a forged record cannot push the numbers up
$t->redis('HSET', 'bitcache:prod:/files/book.pdf', seq => '18446744073709551615');
($rc, $out, $err) = $t->cli('product', 'set', '/files/book.pdf', '--price', '999', '--wallet', $VPUB,
                            '--secret', $S, '--redis', $R);
is($rc, 0, 'set over a forged record');
like($err, qr/the current record does not verify/, '  says so');
my $s2 = record('/files/book.pdf')->{seq};
ok($s2 < $future + 1_000_000_000, "  its seq is not counted ($s2)");
ok(mac_ok('/files/book.pdf', record('/files/book.pdf')), '  MAC verifies');

($rc) = $t->cli('product', 'set', '/x', '--price', '5', '--secret', $S, '--redis', $R, '--redis-prefix', 'sh*p:');
is($rc, 0, 'set under a prefix with a glob character');
is(record('/x', 'sh*p:')->{price}, 5, 'record under the prefix');

# --- list ------------------------------------------------------------------
$t->redis('SET', 'bitcache:prodigy', 'not a product');   # matches "prod*" but not "prod:*"
my $scans = $t->redis_calls('scan');
($rc, $out, $err) = $t->cli('product', 'list', '--redis', $R);
is($rc, 0, 'list') or diag $err;
my @lines = split /\n/, $out;
is(scalar @lines, 3, 'one line per product') or diag $out;
like($lines[0], qr{^/files/book.pdf\t999 sats\t0.00000999 BTC\t\t\Q$VPUB\E\tseq \d+$}, 'product, sats, BTC, title, wallet, seq');
like($lines[1], qr{^/films/über film.mp4\t50000 sats\t0.0005 BTC\tÜber Film\t\Q$XPUB\E\tseq \d+$}, 'with a title');
like($lines[2], qr{^/p\t700 sats\t0.000007 BTC\t\t-\tseq \d+$}, 'no wallet: -');
ok($t->redis_calls('scan') > $scans, 'listed with SCAN');
is($t->redis_calls('keys'), 0, 'never KEYS');

($rc, $out) = $t->cli('product', 'list', '--redis', $R, '--secret', $S);
is($rc, 0, 'list --secret');
like($out, qr{^/files/book\.pdf\t.*\tok$}m, 'MAC verdict: ok');
unlike($out, qr/BAD MAC/, 'all ok');

$t->redis('HSET', 'bitcache:prod:/p', 'price', '1');
$t->redis('HSET', 'bitcache:prod:/q', 'price', '1', 'wallet', '', 'title', "a\tb\nc", 'mac', 'ab' x 32);
$t->redis('HSET', 'bitcache:prod:/r', 'price', '1', 'wallet', '', 'title', '');
($rc, $out) = $t->cli('product', 'list', '--redis', $R, '--secret', $S);
like($out, qr{^/p\t1 sats\t0\.00000001 BTC\t\t-\tseq \d+\tBAD MAC$}m, 'a lowered price: BAD MAC');
like($out, qr{^/q\t1 sats\t.*\ta\?b\?c\t-\tv1 \(no seq: `product set` again\)\tBAD MAC$}m, 'a forged v1 record: BAD MAC, control characters shown as ?');
like($out, qr{^/r\tmalformed: no field mac$}m, 'a record without mac: malformed');
like($out, qr{^/films/.*\tok$}m, 'the others still ok');

($rc, $out) = $t->cli('product', 'list', '--redis', $R, '--redis-prefix', 'sh*p:');
like($out, qr{^/x\t5 sats\t0.00000005 BTC\t\t-\tseq \d+\n\z}, 'a prefix lists only its own records');

# --- rm --------------------------------------------------------------------
my $before = record('/films/über film.mp4');
($rc, $out, $err) = $t->cli('product', 'rm', '--secret', $S, '--redis', $R, '/films/über film.mp4');
is($rc, 0, 'rm');
like($out, qr{^removed prod:/films/über film.mp4 \(withdrawn at seq (\d+): the location's directives apply\)\n\z}, 'says so');
$h = record('/films/über film.mp4');
is_deeply([@$h{qw(price wallet title)}], [0, '', ''], 'a withdrawal record (price 0), not a DEL');
cmp_ok($h->{seq}, '>', $before->{seq}, '  with a higher seq');
ok(mac_ok('/films/über film.mp4', $h), '  MAC verifies (Perl reference)');
($rc, $out) = $t->cli('product', 'list', '--redis', $R, '--secret', $S);
like($out, qr{^/films/über film.mp4\twithdrawn\tseq $h->{seq}\tok$}m, 'listed as withdrawn');
($rc, $out, $err) = $t->cli('product', 'rm', '--secret', $S, '--redis', $R, '/films/über film.mp4');
is($rc, 1, 'rm again exits 1');
like($err, qr{no product "/films/über film\.mp4" \(already withdrawn\)}, 'and says so');
($rc, $out, $err) = $t->cli('product', 'rm', '--secret', $S, '--redis', $R, '/nothing');
is($rc, 1, 'rm of a missing product exits 1');
like($err, qr{no product "/nothing"$}m, 'and says so');
ok(!$t->redis('EXISTS', 'bitcache:prod:/nothing'), '  and writes nothing');
# set after rm: sells again, numbered past the withdrawal
($rc) = $t->cli('product', 'set', '/films/über film.mp4', '--price', '5', '--secret', $S, '--redis', $R);
cmp_ok(record('/films/über film.mp4')->{seq}, '>', $h->{seq}, 'set after rm: a higher seq still');

# --- pay what you want and giveaways (docs/creators.md) ---------------------
($rc, $out, $err) = $t->cli('product', 'set', '/films/night.mp4', '--price', '5000', '--suggested', '12000',
                            '--free-first', '100', '--free-per-address', '1d', '--title', 'Night',
                            '--secret', $S, '--redis', $R);
is($rc, 0, 'set with --suggested, --free-first, --free-per-address') or diag $err;
like($out, qr{^prod:/films/night\.mp4 price 5000 sats \(0\.00005 BTC\), wallet - \(the location's\), suggested 12000 sats, free first 100 \(one per address per 86400 s\), seq \d+$},
     'says what it wrote');
$h = record('/films/night.mp4');
is_deeply([@$h{qw(v price suggested free free_window)}], [3, 5000, 12000, 100, 86400], 'the terms recorded');
ok(mac_ok('/films/night.mp4', $h), 'MAC verifies (ProtocolRef::product3_mac, every term in it)');
{
    my %forged = (%$h, free => 1000000);
    ok(!mac_ok('/films/night.mp4', \%forged), '  more free copies: another MAC');
    %forged = (%$h, suggested => 0);
    ok(!mac_ok('/films/night.mp4', \%forged), '  no suggested price: another MAC');
}
($rc, $out) = $t->cli('product', 'list', '--redis', $R, '--secret', $S);
like($out, qr{^/films/night\.mp4\t5000 sats\t0\.00005 BTC\tNight\t-\tsuggested 12000 sats\tfree first 100 \(one per address per 86400 s\)\tseq \d+\tok$}m,
     'list shows the suggested price and the giveaway');
($rc, $out, $err) = $t->cli('product', 'set', '/films/night.mp4', '--price', '0.00005 BTC', '--suggested', '0.0002 BTC',
                            '--free-first', '3', '--secret', $S, '--redis', $R);
is($rc, 0, '--suggested in BTC, a giveaway without a window') or diag $err;
is_deeply([@{ record('/films/night.mp4') }{qw(suggested free free_window)}], [20000, 3, 0], '  recorded');
($rc, $out, $err) = $t->cli('product', 'set', '/films/night.mp4', '--price', '5000', '--suggested', '0',
                            '--free-first', '0', '--free-per-address', 'off', '--secret', $S, '--redis', $R);
is($rc, 0, '--suggested 0, --free-first 0, --free-per-address off') or diag $err;
is_deeply([@{ record('/films/night.mp4') }{qw(suggested free free_window)}], [0, 0, 0], '  none of them');
like($out, qr{wallet - \(the location's\), seq \d+$}, '  and says nothing of them');

# product show: the record, its verdict and the giveaway's count
$t->cli('product', 'set', '/films/night.mp4', '--price', '5000', '--free-first', '100', '--title', "Ni\tght",
        '--secret', $S, '--redis', $R);
$t->redis('SET', 'bitcache:free:/films/night.mp4', 37);
($rc, $out, $err) = $t->cli('product', 'show', '--redis', $R, '--secret', $S, '/films/night.mp4');
is($rc, 0, 'product show') or diag $err;
like($out, qr{^product /films/night\.mp4$}m, '  names the product');
like($out, qr{^  free: 100$}m, '  lists the fields');
like($out, qr{^  title: Ni\?ght$}m, '  control characters as ?');
like($out, qr{^record: version 3, price 5000 sats \(0\.00005 BTC\), free first 100, MAC ok$}m, '  the verdict');
like($out, qr{^free copies given: 37 of 100 \(63 left\)$}m, '  the giveaway\'s count (free:<product>)');
$t->redis('SET', 'bitcache:free:/films/night.mp4', 'lots');
($rc, $out) = $t->cli('product', 'show', '--redis', $R, '/films/night.mp4');
like($out, qr{^free copies given: not a count \("lots"\): the module gives none$}m, '  a counter that is not a number');
unlike($out, qr/MAC/, '  no --secret: no MAC verdict');
$t->redis('SET', 'bitcache:free:/films/night.mp4', 250);
$t->redis('HSET', 'bitcache:prod:/films/night.mp4', free => 1000);
($rc, $out) = $t->cli('product', 'show', '--redis', $R, '--secret', $S, '/films/night.mp4');
like($out, qr{MAC BAD \(not written with this secret: the module ignores it\)$}m, '  a raised giveaway: BAD MAC');
like($out, qr{^free copies given: 250 of 1000 \(750 left\)$}m, '  (the count read all the same)');
($rc, $out, $err) = $t->cli('product', 'show', '--redis', $R, '/films/none.mp4');
is($rc, 1, 'show of a missing product exits 1');
like($err, qr{no product "/films/none\.mp4" in the catalog}, '  and says so');
$t->redis('DEL', 'bitcache:free:/films/night.mp4');

# --- bad arguments: exit 2 and a message that names what is wrong ----------
my @set = ('product', 'set', '--secret', $S, '--redis', $R);
my @bad = (
    [ [@set, '--price', '0', '/x'], qr/--price: "0" is zero/ ],
    [ [@set, '--price', '0 BTC', '/x'], qr/--price: "0 BTC" is zero/ ],
    [ [@set, '--price', '0.000000001 BTC', '/x'], qr/--price: "0\.000000001 BTC" has more than 8 decimals/ ],
    [ [@set, '--price', '1e-3', '/x'], qr/--price: "1e-3"/ ],
    [ [@set, '--price', '1e5', '/x'], qr/--price: "1e5"/ ],
    [ [@set, '--price', '-5', '/x'], qr/--price: "-5" is not an amount/ ],
    [ [@set, '--price', '0.5', '/x'], qr/--price: "0\.5" has decimals but is in satoshis/ ],
    [ [@set, '--price', '1. BTC', '/x'], qr/--price: "1\. BTC"/ ],
    [ [@set, '--price', '', '/x'], qr/--price: "" is not an amount/ ],
    [ [@set, '--price', '5 EUR', '/x'], qr/--price: "5 EUR" has an unknown unit/ ],
    [ [@set, '--price', '21000000.00000001 BTC', '/x'], qr/--price: "21000000\.00000001 BTC" is more than 21 million BTC/ ],
    [ [@set, '--price', '2100000000000001', '/x'], qr/--price: "2100000000000001" is more than 21 million BTC/ ],
    [ [@set, '--price', '99999999999999999999999 BTC', '/x'], qr/is more than 21 million BTC/ ],
    [ [@set, '--price', '5', '--wallet', $XPRV, '/x'], qr/--wallet: .*extended private key.*never hold a private key/ ],
    [ [@set, '--price', '5', '--wallet', 'xpub-nonsense', '/x'], qr/--wallet: / ],
    [ [@set, '--price', '5', '--wallet', 'x' x 1025, '/x'], qr/--wallet is longer than 1024 bytes/ ],
    [ [@set, '--price', '5', '--title', 't' x 1025, '/x'], qr/--title is longer than 1024 bytes/ ],
    [ [@set, '--price', '5', 'p' x 1025], qr/PRODUCT must be 1 to 1024 bytes/ ],
    [ [@set, '--price', '5', ''], qr/PRODUCT must be 1 to 1024 bytes/ ],
    [ [@set, '/x'], qr/--price is required/ ],
    [ [@set, '--price', '5'], qr/exactly one PRODUCT is needed/ ],
    [ [@set, '--price', '5', '/a', '/b'], qr/exactly one PRODUCT is needed/ ],
    [ [@set, '--price'], qr/unknown or incomplete option "--price"/ ],
    [ [@set, '--price', '5', '--state', 'paid', '/x'], qr/option "--state" does not apply here/ ],
    [ [@set, '--price', '5000', '--suggested', '4999', '/x'], qr/--suggested \(4999 sats\) must be above the price \(5000 sats\), or 0 for none/ ],
    [ [@set, '--price', '5000', '--suggested', '5000', '/x'], qr/--suggested \(5000 sats\) must be above the price/ ],
    [ [@set, '--price', '5000', '--suggested', 'lots', '/x'], qr/--suggested: "lots" is not an amount/ ],
    [ [@set, '--price', '5000', '--suggested', '22000000 BTC', '/x'], qr/--suggested: .*more than 21 million BTC/ ],
    [ [@set, '--price', '5', '--free-first', '-1', '/x'], qr/--free-first: "-1" is not a number of copies from 0 to 1000000000/ ],
    [ [@set, '--price', '5', '--free-first', '1000000001', '/x'], qr/--free-first: "1000000001" is not a number/ ],
    [ [@set, '--price', '5', '--free-first', 'ten', '/x'], qr/--free-first: "ten"/ ],
    [ [@set, '--price', '5', '--free-first', '', '/x'], qr/--free-first: ""/ ],
    [ [@set, '--price', '5', '--free-first', '10', '--free-per-address', '367d', '/x'], qr/--free-per-address: "367d" is not a time of at most 366d/ ],
    [ [@set, '--price', '5', '--free-first', '10', '--free-per-address', 'soon', '/x'], qr/--free-per-address: "soon"/ ],
    [ [@set, '--price', '5', '--free-per-address', '1d', '/x'], qr/--free-per-address needs --free-first N/ ],
    [ ['product', 'list', '--redis', $R, '--suggested', '5'], qr/option "--suggested" does not apply here/ ],
    [ ['product', 'show', '--redis', $R], qr/exactly one PRODUCT is needed/ ],
    [ ['product', 'show', '/x'], qr/--redis ADDR is required/ ],
    [ ['product', 'show', '--redis', $R, '--free-first', '1', '/x'], qr/option "--free-first" does not apply here/ ],
    [ ['product', 'set', '--redis', $R, '--price', '5', '/x'], qr/--secret is required/ ],
    [ ['product', 'set', '--secret', $S, '--price', '5', '/x'], qr/--redis ADDR is required/ ],
    [ ['product', 'set', '--secret', "$dir/nope", '--redis', $R, '--price', '5', '/x'], qr/--secret: cannot open "\Q$dir\E\/nope"/ ],
    [ [@set, '--price', '5', '--redis-db', 'x', '/x'], qr/--redis-db: "x" is not a database number/ ],
    [ [@set, '--price', '5', '--redis-prefix', 'p' x 129, '/x'], qr/--redis-prefix is longer than 128 bytes/ ],
    [ ['product', 'list', '--redis', $R, 'extra'], qr/takes no arguments, got "extra"/ ],
    [ ['product', 'list', '--redis', $R, '--price', '5'], qr/option "--price" does not apply here/ ],
    [ ['product', 'list', '--redis', $R, '--frobnicate'], qr/unknown or incomplete option "--frobnicate"/ ],
    [ ['product', 'list'], qr/--redis ADDR is required/ ],
    [ ['product', 'list', '--redis', $R, '--secret', "$dir/nope"], qr/--secret: cannot open/ ],
    [ ['product', 'rm', '--secret', $S, '--redis', $R], qr/exactly one PRODUCT is needed/ ],
    [ ['product', 'rm', '--secret', $S, '/x'], qr/--redis ADDR is required/ ],
    [ ['product', 'rm', '--redis', $R, '/x'], qr/--secret is required/ ],
    [ ['product', 'rm', '--redis', $R, '--price', '5', '--secret', $S, '/x'], qr/option "--price" does not apply here/ ],
    [ ['product'], qr/product: a subcommand is needed.*\n.*product set PRODUCT --price/s ],
    [ ['product', 'frob'], qr/product: unknown subcommand "frob"/ ],
);
$t->cli_refuses(@bad);
ok(!$t->redis('EXISTS', 'bitcache:prod:/x'), 'no refused set wrote a record');

chmod 0644, $S;
($rc, $out, $err) = $t->cli(@set, '--price', '5', '/x');
is($rc, 2, 'a world-readable secret is refused');
like($err, qr/--secret: .*accessible by others/, 'and says why');
chmod 0600, $S;

($rc, $out) = $t->cli('--help');
like($out, qr/product set PRODUCT --price SATS\|"N BTC"/, '--help lists product set');
like($out, qr/product list --redis ADDR \[--secret FILE \[--old-secret FILE\]\]/, 'and product list');
like($out, qr/product rm --secret FILE --redis ADDR PRODUCT/, 'and product rm');
like($out, qr/product show --redis ADDR \[--secret FILE \[--old-secret FILE\]\] PRODUCT/, 'and product show');
like($out, qr/\[--suggested SATS\|0\] \[--free-first N\] \[--free-per-address TIME\|off\]/, 'and the terms of set');

# Redis not reachable: a run-time failure
$t->stop_redis;
($rc, $out, $err) = $t->cli(@set, '--price', '5', '/x');
is($rc, 1, 'Redis down: set exits 1');
like($err, qr/cannot connect to redis \Q$R\E/, 'names the address');
($rc, $out, $err) = $t->cli('product', 'list', '--redis', $R);
is($rc, 1, 'Redis down: list exits 1');

done_testing;
